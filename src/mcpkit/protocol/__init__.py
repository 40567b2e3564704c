"""The sans-I/O protocol core: JSON-RPC framing, the session state machine, events.

Nothing here does I/O, starts tasks or reads a clock: bytes and calls go in, events and
outgoing messages come out (in the manner of h11).
"""
