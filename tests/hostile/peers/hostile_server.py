"""The server the hostile suite attacks: `python hostile_server.py`, or `mcpkit run` on it.

Its message limit is small (64 KiB) so an oversize line costs little to send. The `hold`
tool writes `started` to the file named by $MCPKIT_HOSTILE_MARKER, then `cancelled` when it
is cancelled, so a test can tell that a tool running for nobody was stopped.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mcpkit import Server

__all__ = ["MAX_MESSAGE_SIZE", "server"]

MAX_MESSAGE_SIZE = 64 * 1024
# Bound on how long a held tool lingers, so a broken test never leaves a process behind.
LINGER = 60.0

server = Server("hostile-target", version="1.0.0", max_message_size=MAX_MESSAGE_SIZE)


@server.tool()
def echo(text: str) -> str:
    """Answer with the text."""
    return text


@server.tool()
async def blob(size: int) -> str:
    """Answer with `size` bytes of text."""
    return "x" * size


@server.tool()
async def wait() -> str:
    """Wait (bounded) until cancelled."""
    await asyncio.sleep(LINGER)
    return "not cancelled"


@server.tool()
async def hold() -> str:
    """Record that it started, then that it was cancelled."""
    marker = Path(os.environ["MCPKIT_HOSTILE_MARKER"])
    marker.write_text("started")
    try:
        await asyncio.sleep(LINGER)
    except asyncio.CancelledError:
        marker.write_text("cancelled")
        raise
    return "not cancelled"


if __name__ == "__main__":
    server.run()
