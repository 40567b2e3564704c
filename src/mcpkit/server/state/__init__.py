"""State a handler keeps beyond its request: `server.kv` and a caller's state."""
