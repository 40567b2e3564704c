"""A server for the backpressure and broken-pipe tests: `python pressure_server.py`.

Tools: `big(size)` sends one progress notification then a `size`-byte answer; `block` says
"block: started" on stderr, waits forever, and says "block: cancelled" when cancelled. The
lifespan says "lifespan: left" on stderr as it ends. mcpkit logs at debug level, so the
runtime says on stderr when it stops reading for a peer that does not read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

from mcpkit import Context, Server


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@contextlib.asynccontextmanager
async def lifespan(server: Server) -> AsyncIterator[None]:
    try:
        yield
    finally:
        say("lifespan: left")


server = Server("pressure-peer", lifespan=lifespan)


@server.tool()
async def big(ctx: Context, size: int) -> str:
    """Report progress once, then answer with `size` bytes of text."""
    await ctx.progress(1, 2)
    return "x" * size


@server.tool()
async def block() -> str:
    """Wait until cancelled."""
    say("block: started")
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        say("block: cancelled")
        raise
    return "unreachable"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("mcpkit").setLevel(logging.DEBUG)
    server.run()
