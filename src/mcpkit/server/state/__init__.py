"""State a handler keeps beyond its request: `server.kv`, a caller's state, cached answers."""
