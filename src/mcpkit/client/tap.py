"""`TappedChannel`: a client channel that shows every message, both ways, to an observer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from mcpkit.runtime.authorizing import Authorizing
from mcpkit.runtime.channel import MessageChannel, ModernHeaders, extras_of
from mcpkit.types import RequestId

__all__ = ["MessageTap", "TappedChannel"]


class MessageTap(Protocol):
    """Called with each whole JSON-RPC message's bytes: "sent" before it is written,
    "received" as it is read. It runs in the transport's task: it must be quick, and not raise."""

    def __call__(self, direction: Literal["sent", "received"], data: bytes) -> None: ...


class TappedChannel:
    """Wraps a client's channel (stdio or HTTP: plain `receive`/`send`) for `Client(on_message=)`;
    a client without an observer never builds one, so the plain path costs nothing."""

    def __init__(self, channel: MessageChannel, tap: MessageTap) -> None:
        self._channel = channel
        self._tap = tap

    @property
    def writable(self) -> bool:
        return extras_of(self._channel).writable

    def session_id(self) -> str | None:
        """The wrapped channel's Streamable HTTP session id (`ChannelExtras.session_id`)."""
        found = extras_of(self._channel).session_id
        return None if found is None else found()

    @property
    def failed_here(self) -> Callable[[RequestId], BaseException | None] | None:
        """The wrapped channel's, if it has one (`ChannelExtras.failed_here`)."""
        return extras_of(self._channel).failed_here

    @property
    def legacy_only(self) -> bool:
        return extras_of(self._channel).legacy_only

    @property
    def authorizing(self) -> Authorizing | None:
        return extras_of(self._channel).authorizing

    @property
    def speak_modern(self) -> Callable[[str, ModernHeaders], None] | None:
        """The wrapped channel's, if it has one (HTTP: see `ChannelExtras.speak_modern`)."""
        return extras_of(self._channel).speak_modern

    @property
    def speak_sessions(self) -> Callable[[], None] | None:
        return extras_of(self._channel).speak_sessions

    async def receive(self) -> bytes:
        data = await self._channel.receive()
        self._tap("received", data)
        return data

    async def send(self, data: bytes) -> None:
        self._tap("sent", data)
        await self._channel.send(data)

    async def aclose(self) -> None:
        await self._channel.aclose()
