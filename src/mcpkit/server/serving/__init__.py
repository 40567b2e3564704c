"""Running a Server: its sessions, lifespan, broadcasts and broker, over stdio or HTTP."""
