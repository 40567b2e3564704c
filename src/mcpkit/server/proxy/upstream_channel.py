"""Open the channel to the server a proxy forwards to: an in-process Server, a command over
stdio, or a URL over Streamable HTTP (the client layer's `open_target`, which the server
layer may not import, minus the HTTP+SSE fallback)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from mcpkit.runtime.channel import MessageChannel

if TYPE_CHECKING:
    import httpx

__all__ = ["ChannelOpener", "Opened", "UpstreamTarget", "check_target", "open_upstream"]

#: An open channel and the coroutine function that releases it (ends the process, say).
Opened = tuple[MessageChannel, Callable[[], Awaitable[None]]]
#: Opens a fresh channel each time it is called: for upstreams no other kind describes.
ChannelOpener = Callable[[], Awaitable[Opened]]
#: A Server, a command (list or string), a `.py` path, `StdioParameters`, an http(s) URL, or
#: a `ChannelOpener` (not a `StreamableHttpTransport`: one transport serves one session).
UpstreamTarget = Any


@runtime_checkable
class _Serves(Protocol):
    def serve(self, channel: MessageChannel) -> Coroutine[Any, Any, None]: ...


def check_target(target: UpstreamTarget) -> None:
    """Refuse at once, with what to give instead, a target no session could open."""
    from mcpkit.transports.stdio_client import StdioParameters

    described = f"{target!r} (a {type(target).__name__})"
    if isinstance(target, (str, Path, StdioParameters, _Serves)) or callable(target):
        if isinstance(target, str) and not target.strip():
            raise ValueError("the proxy's target is an empty string; " + _HOW)
        return
    if isinstance(target, Sequence) and len(cast("Sequence[object]", target)) > 0:
        return
    raise TypeError(f"cannot proxy {described}: {_HOW}")


_HOW = (
    "give an mcpkit Server, a command list such as ['python', 'server.py'], a command "
    "string, a path to a .py file, StdioParameters, an http(s):// URL, or an async function "
    "returning (channel, release)"
)


async def open_upstream(
    target: UpstreamTarget,
    *,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    stderr: Any = "inherit",
    max_message_size: int | None = None,
) -> Opened:
    """A fresh channel to `target` (each downstream session gets its own)."""
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        return _open_http(target, headers, auth, max_message_size)
    if headers is not None or auth is not None:
        raise TypeError("headers and auth are for a URL upstream; " + _HOW)
    if isinstance(target, _Serves) and not isinstance(target, (str, Sequence)):
        return _open_in_process(target)
    if callable(target):
        opener = cast(ChannelOpener, target)
        return await opener()
    return await _open_command(target, stderr, max_message_size)


async def _open_command(target: UpstreamTarget, stderr: Any, max_size: int | None) -> Opened:
    from mcpkit.transports.stdio_client import StdioParameters, open_stdio_client_channel

    params = target
    if not isinstance(params, StdioParameters):
        if isinstance(target, Path) or (isinstance(target, str) and target.endswith(".py")):
            argv = [sys.executable, str(target)]
        elif isinstance(target, str):
            argv = target.split()
        else:
            argv = [str(part) for part in cast("Sequence[object]", target)]
        if argv[0] in ("python", "python3"):  # ours has mcpkit; PATH's may not (client.md)
            argv[0] = sys.executable
        options: dict[str, Any] = {} if max_size is None else {"max_message_size": max_size}
        params = StdioParameters(argv[0], argv[1:], stderr=stderr, **options)
    channel = await open_stdio_client_channel(params)
    return channel, channel.aclose


def _open_http(
    url: str, headers: Mapping[str, str] | None, auth: httpx.Auth | None, max_size: int | None
) -> Opened:
    from mcpkit.transports.http_client import StreamableHttpTransport

    transport = StreamableHttpTransport(url, headers=headers, auth=auth)
    transport.open(max_message_size=max_size)
    return transport, transport.aclose


def _open_in_process(server: _Serves) -> Opened:
    from mcpkit.transports.memory import memory_channel_pair

    ours, theirs = memory_channel_pair()
    task = asyncio.get_running_loop().create_task(server.serve(theirs))

    def ended(task: asyncio.Task[None]) -> None:
        # A server that fails must not leave the proxy waiting for answers that cannot come.
        if not task.cancelled() and task.exception() is not None:
            theirs.close(f"the in-process server failed: {task.exception()!r}")

    task.add_done_callback(ended)

    async def release() -> None:
        await ours.aclose()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        except Exception:  # the server's own failure is logged by the server
            pass

    return ours, release
