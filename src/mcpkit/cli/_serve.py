"""Serve a Server over stdio descriptors that `mcpkit run` took before importing user code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

__all__ = ["serve_taken_stdio"]


def serve_taken_stdio(server: Any, in_fd: int, out_fd: int) -> None:
    """Like `Server.run()`, but over the protocol's own duplicates of fds 0 and 1.

    `Server.run()` takes the process's stdio itself; under `mcpkit run` it was taken before
    the user's file was imported, so fds 0 and 1 now point at the null device and stderr.
    """
    # Server.run's loop choice and SIGTERM handling, shared rather than copied.
    from mcpkit.server.server import _loop_factory, _until_terminated
    from mcpkit.transports.stdio_server import open_stdio_server_channel

    async def main() -> None:
        try:
            channel = await open_stdio_server_channel(
                stdin=in_fd, stdout=out_fd, max_message_size=server.max_message_size)
        finally:  # the channel holds duplicates of its own
            os.close(in_fd)
            os.close(out_fd)
        await server.serve(channel)

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt), \
            asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_until_terminated(main()))
