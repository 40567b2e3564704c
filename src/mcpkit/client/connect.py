"""Turn a client target into an open message channel: an in-process server (memory pair),
a command (stdio), or a stdio description. URL targets arrive with Streamable HTTP.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, cast, runtime_checkable

from mcpkit.runtime.channel import MessageChannel

__all__ = ["InProcessServer", "Target", "open_target"]


@runtime_checkable
class InProcessServer(Protocol):
    """Anything with `serve(channel)`, such as `mcpkit.Server` (the client does not import it)."""

    def serve(self, channel: MessageChannel) -> Coroutine[Any, Any, None]: ...


Target = Any  # InProcessServer | Sequence[str] | StdioParameters | str

#: A command list or string starting with one of these runs with `sys.executable`.
_BARE_PYTHON = frozenset({"python", "python3"})


async def open_target(
    target: Target, *, stderr: Any = "inherit", max_message_size: int | None = None
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """Open a channel to `target`; returns it and a coroutine function that releases it."""
    if isinstance(target, InProcessServer) and not isinstance(target, (str, Sequence)):
        return await _open_in_process(target)
    from mcpkit.transports.stdio_client import StdioParameters, open_stdio_client_channel

    if isinstance(target, str):
        if target.startswith(("http://", "https://")):
            raise ValueError(
                "URL targets (Streamable HTTP) are not supported yet; "
                "give a command list or an in-process Server"
            )
        if target.endswith(".py"):
            target = [sys.executable, target]
        else:
            target = target.split()
    if isinstance(target, Sequence) and not isinstance(target, str):
        # the parts may be anything (Path objects, say): each is made a str
        argv = [str(a) for a in cast("Sequence[object]", target)]
        if not argv:
            raise ValueError("the command list is empty; give one such as ['python', 'server.py']")
        if argv[0] in _BARE_PYTHON:
            # Whatever `python` is first on PATH is rarely the interpreter that has mcpkit
            # and the server's dependencies installed; ours is (documented in client.md).
            argv[0] = sys.executable
        options: dict[str, Any] = {}
        if max_message_size is not None:
            options["max_message_size"] = max_message_size
        target = StdioParameters(command=argv[0], args=argv[1:], stderr=stderr, **options)
    if isinstance(target, StdioParameters):
        channel = await open_stdio_client_channel(target)
        return channel, channel.aclose
    raise TypeError(
        f"cannot connect to {target!r} (a {type(target).__name__}): give an "
        "mcpkit Server, a command list such as ['python', 'server.py'], a path "
        "to a .py file, or StdioParameters"
    )


async def _open_in_process(
    server: InProcessServer,
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    from mcpkit.transports.memory import memory_channel_pair

    client_end, server_end = memory_channel_pair()
    task: asyncio.Task[None] = asyncio.get_running_loop().create_task(server.serve(server_end))

    def server_ended(task: asyncio.Task[None]) -> None:
        # A server that fails (its lifespan hook, say) must not leave the client waiting for
        # an answer that cannot come: close the channel with the reason.
        if not task.cancelled() and task.exception() is not None:
            server_end.close(f"the in-process server failed: {task.exception()!r}")

    task.add_done_callback(server_ended)

    async def release() -> None:
        await client_end.aclose()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        except Exception:  # the server's own failure is logged by the server
            pass

    return client_end, release
