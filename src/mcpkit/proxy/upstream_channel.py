"""Which servers a proxy forwards to: an in-process Server, a command over stdio, or a URL
(checked when the proxy is made; each session's channel is opened by transports/connect.py,
as the client's is)."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from mcpkit.runtime.channel import MessageChannel
from mcpkit.transports.connect import ChannelOpener, Opened, open_target
from mcpkit.transports.endpoint_url import check_endpoint_url, looks_like_url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ChannelOpener",
    "Opened",
    "UpstreamTarget",
    "check_target",
    "one_server",
    "open_upstream",
]

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
        if isinstance(target, str) and looks_like_url(target):
            check_endpoint_url(target)  # InvalidUrl now, not at the first session's connect
        return
    if isinstance(target, Sequence) and len(cast("Sequence[object]", target)) > 0:
        return
    raise TypeError(f"cannot proxy {described}: {_HOW}")


def one_server(target: UpstreamTarget) -> bool:
    """Whether every session the proxy opens reaches the same server (an in-process server,
    a URL), rather than a process of its own (a command: one server per session, whose state
    and change notifications are that session's)."""
    if isinstance(target, str):
        return target.startswith(("http://", "https://"))
    return isinstance(target, _Serves)


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
    legacy_sse: bool = False,
) -> Opened:
    """A fresh channel to `target` (each downstream session gets its own), opened as the
    client opens its own (transports/connect.py: the HTTP+SSE fallback included; with
    `legacy_sse`, a URL is opened as an HTTP+SSE endpoint at once)."""
    return await open_target(
        target,
        headers=headers,
        auth=auth,
        stderr=stderr,
        max_message_size=max_message_size,
        legacy_sse=legacy_sse,
    )
