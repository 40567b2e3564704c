"""A server whose lifespan writes `up` and then `down` to the file named in argv[1]."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from mcpkit import Server

MARKER = Path(sys.argv[1])


@contextlib.asynccontextmanager
async def lifespan(server: Server) -> AsyncIterator[None]:
    MARKER.write_text("up")
    try:
        yield
    finally:
        MARKER.write_text("down")


server = Server("lifespan-peer", lifespan=lifespan)


@server.tool()
def hello() -> str:
    return "hi"


if __name__ == "__main__":
    server.run()
