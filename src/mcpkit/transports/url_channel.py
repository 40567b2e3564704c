"""The channel to a URL: Streamable HTTP, switching to the older HTTP+SSE transport when the
server refuses our initialize with 400, 404 or 405 (basic/transports, "Backwards
Compatibility"), or at once when the URL or the caller names the old transport.

Apart from `connect` (which tells the kinds of target apart) because this is the one kind
with two transports behind one channel; `connect` imports it only for a URL target, so a
client of a command or an in-process server never loads it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from mcpkit._extras import needs_extra
from mcpkit.runtime.authorizing import Authorizing
from mcpkit.runtime.channel import MessageChannel
from mcpkit.types import RequestId

if TYPE_CHECKING:
    import httpx

    from mcpkit.transports.http_client import LegacyFallback, StreamableHttpTransport
    from mcpkit.transports.legacy_sse_client import StreamRefused

__all__ = ["open_url"]


def open_url(
    target: Any,
    *,
    headers: Mapping[str, str] | None,
    auth: httpx.Auth | None,
    max_message_size: int | None,
    legacy_sse: bool = False,
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """A channel to a URL or a caller-built StreamableHttpTransport, not yet connected.

    Nothing is sent here (hence not async): the first message, the initialize, decides
    whether the server speaks Streamable HTTP or only the old HTTP+SSE transport.
    """
    with needs_extra("http", "connecting to a URL"):  # a plain `pip install mcpkit` has none
        from mcpkit.transports.http_client import StreamableHttpTransport

    if isinstance(target, str):
        transport = StreamableHttpTransport(target, headers=headers, auth=auth)
    elif headers is not None or auth is not None:
        raise TypeError(
            "give headers and auth to the StreamableHttpTransport itself, not to Client"
        )
    else:
        transport = target
    transport.open(max_message_size=max_message_size)
    if legacy_sse or _names_legacy_endpoint(transport.url):
        channel: MessageChannel = _HttpChannel(transport, legacy_now=True)
    else:
        channel = _HttpChannel(transport)
    return channel, channel.aclose


def _names_legacy_endpoint(url: str) -> bool:
    """A URL whose path ends in /sse names the old transport's SSE endpoint (2024-11-05).

    A convention, not a rule of the spec, but the path the reference SDKs serve it at;
    trying Streamable HTTP first there would only cost a refused POST.
    """
    path = url.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/").endswith("/sse")


class _HttpChannel:
    """Streamable HTTP, or HTTP+SSE when the server refuses our initialize with 400, 404 or
    405 (basic/transports, "Backwards Compatibility"): the transport says so by raising
    `LegacyFallback` from `receive()`, and the initialize it kept goes to the old transport.
    Nothing else is in flight then: the client sends nothing before initialize is answered."""

    def __init__(self, transport: StreamableHttpTransport, *, legacy_now: bool = False) -> None:
        from mcpkit.transports.http_client import LegacyFallback

        self.http = transport
        # The old transport's channel once open; from then on every message goes to it.
        self.legacy: MessageChannel | None = None
        # True: the URL or the caller named the old transport, so it is opened at once.
        self._legacy_now = legacy_now
        # Opening it in that case, shared by receive and send (`_legacy_at_once`).
        self._opening: asyncio.Task[MessageChannel] | None = None
        # Kept as an attribute so the class is caught in receive without a module-level
        # import of http_client (and so of httpx) when connect is imported.
        self._signal = LegacyFallback

    def session_id(self) -> str | None:
        """The `Mcp-Session-Id` the server gave (`ChannelExtras.session_id`); None before it
        answered, for a stateless server, or on the old transport."""
        return self.http.session_id if self.legacy is None else None

    def failed_here(self, request_id: RequestId) -> BaseException | None:
        """`ChannelExtras.failed_here`: Streamable HTTP's (the old transport raises instead)."""
        return self.http.failed_here(request_id) if self.legacy is None else None

    @property
    def legacy_only(self) -> bool:
        """Whether only the legacy era can be spoken: the old HTTP+SSE transport (a URL
        ending in /sse) is a 2024-11-05 transport, with no modern revision."""
        return self._legacy_now or self.legacy is not None

    @property
    def authorizing(self) -> Authorizing | None:
        """`ChannelExtras.authorizing`: the token fetches of the auth both transports use."""
        return self.http.authorizing

    def speak_modern(self, revision: str, headers: Any) -> None:
        """Speak a modern revision over Streamable HTTP (`StreamableHttpTransport`)."""
        self.http.speak_modern(revision, headers)

    def speak_sessions(self) -> None:
        """Speak a session-based revision (2025-11-25 and before) over Streamable HTTP."""
        self.http.speak_sessions()

    async def _legacy_at_once(self) -> MessageChannel:
        """The old transport for a URL that names it: opened once, by whichever of the
        runtime's reader (receive) and writer (send) comes first; the other waits for it."""
        if self._opening is None:
            why = "it is named an HTTP+SSE endpoint"
            self._opening = asyncio.ensure_future(self._open_legacy(self.http.url, why))
        # Shielded: cancelling one of the two waiters must not cancel the opening the
        # other still waits on; aclose cancels it itself.
        return await asyncio.shield(self._opening)

    async def receive(self) -> bytes:
        if self.legacy is None and self._legacy_now:
            await self._legacy_at_once()
        if self.legacy is not None:
            return await self.legacy.receive()
        try:
            return await self.http.receive()
        except self._signal as signal:
            # The initialize was refused, not lost: it is sent again on the old transport,
            # and its answer is what this receive returns, so the session never notices
            # the switch.
            legacy = await self._open_legacy(signal.url, str(signal), signal)
            await legacy.send(signal.initialize_body)
            return await legacy.receive()

    async def send(self, data: bytes) -> None:
        if self.legacy is None and self._legacy_now:
            await self._legacy_at_once()
        if self.legacy is not None:
            await self.legacy.send(data)
        else:
            await self.http.send(data)

    async def _open_legacy(
        self, url: str, why: str, refused: LegacyFallback | None = None
    ) -> MessageChannel:
        """The old transport at `url`, opened because of `why`: the Streamable HTTP POST was
        `refused`. If this fails too, a web page the POST got is all the error says, and a
        404 to both is a wrong path."""
        from mcpkit.errors import ConnectionClosed

        legacy_client: Any = None
        try:
            # Imported here: only a server that needs the old transport loads it (by name,
            # so this module type-checks whether or not that transport is installed).
            legacy_client = importlib.import_module("mcpkit.transports.legacy_sse_client")
            legacy: MessageChannel = await legacy_client.open_legacy_sse_channel(
                url,
                http_client=self.http.http_client,
                headers=self.http.headers,
                auth=self.http.auth,
                max_message_size=self.http.max_message_size,
            )
        except Exception as exc:
            if refused is not None and refused.page:  # a web server, not an MCP one
                raise ConnectionClosed(refused.not_mcp()) from exc
            if refused is not None and refused.status == 404 and _is_404(legacy_client, exc):
                raise ConnectionClosed(refused.wrong_path()) from exc
            if self._legacy_now:  # the only transport tried: its failure is the story
                raise ConnectionClosed(str(exc)) from exc
            raise ConnectionClosed(f"{why}; the HTTP+SSE transport failed too: {exc}") from exc
        self.legacy = legacy
        return legacy

    async def aclose(self) -> None:
        """Close whichever transports were opened; the HTTP one last, since the legacy
        channel runs over its HTTP client."""
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            await asyncio.gather(self._opening, return_exceptions=True)
        legacy, self.legacy = self.legacy, None
        if legacy is not None:
            await legacy.aclose()
        await self.http.aclose()


def _is_404(legacy_client: Any, exc: Exception) -> bool:
    """Whether the old transport's GET was answered 404 (`StreamRefused`)."""
    if legacy_client is None:  # (not installed)
        return False
    refused: type[StreamRefused] = legacy_client.StreamRefused
    return isinstance(exc, refused) and exc.status == 404
