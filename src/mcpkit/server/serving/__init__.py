"""Running a Server over stdio or HTTP, in one process or several: its lifespan, broadcasts."""
