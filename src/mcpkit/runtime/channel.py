"""The message channel: the one interface every transport implements for the runtime.

A channel carries whole JSON-RPC messages as UTF-8 JSON bytes (one object, or one batch
array), never partial frames; framing (newlines for stdio, SSE events for HTTP) is the
transport's job. A channel that has more to say or to learn than bytes (Streamable HTTP)
also implements the optional methods of `RoutedChannel`.

Each optional method is a capability of its own, a runtime-checkable Protocol (`SendsRouted`,
`ClosesStreams`, ...): `extras_of(channel)` tells which the channel has with `isinstance`
and returns them as one typed `ChannelExtras` (None for each it lacks), so a type checker
sees every call and nothing probes a channel by name (tests/test_package.py,
`test_nothing_is_probed_for_a_member_of_an_interface_of_ours`, guards this).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.runtime.authorizing import Authorizes, Authorizing
from mcpkit.types import RequestId

__all__ = [
    "AnswersAsJson",
    "ChannelExtras",
    "ClosesStreams",
    "DeliversBodies",
    "FailsHere",
    "Feeder",
    "KnowsAssignedId",
    "MayCarryLegacyOnly",
    "MayStopWriting",
    "MessageChannel",
    "PushingChannel",
    "ReadsBodies",
    "ReceivesWithInfo",
    "RoutedChannel",
    "SendsRouted",
    "SpeaksEras",
    "ModernHeaders",
    "extras_of",
]


@runtime_checkable
class MessageChannel(Protocol):
    """A bidirectional stream of JSON-RPC messages.

    `receive` returns the next message's bytes and raises `mcpkit.errors.ConnectionClosed`
    once the peer has gone (end of file, process exit, closed stream). `send` writes one
    message and raises `ConnectionClosed` if it cannot. `aclose` is idempotent.

    Optionally, a channel has a `writable` attribute: False once nothing more can be sent.
    When `receive` ends while the channel is still writable (stdin closed, stdout open), the
    runtime lets requests already received finish and answer before it shuts down.
    """

    async def receive(self) -> bytes: ...

    async def send(self, data: bytes) -> None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReceivesWithInfo(Protocol):
    """A channel that tells what the transport knows of each body (`RoutedChannel`)."""

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]: ...


@runtime_checkable
class ReadsBodies(Protocol):
    """A channel told when each body has been read (`RoutedChannel.body_read`)."""

    def body_read(
        self, info: RequestInfo | None, started: list[RequestId], refused: list[bytes]
    ) -> None:
        """Told once per body, right after the session read it. The lists are the body's
        own (`BodyRead`'s), given over: the channel may keep them as they are."""


@runtime_checkable
class SendsRouted(Protocol):
    """A channel that sends each message to the stream of its request (`RoutedChannel`)."""

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None: ...


@runtime_checkable
class ClosesStreams(Protocol):
    """A channel that can close a request's connection and keep its stream (SEP-1699)."""

    def close_stream(self, related: RequestId, retry_ms: int | None = None) -> bool: ...


@runtime_checkable
class AnswersAsJson(Protocol):
    """A channel that can answer a request with one JSON object (`RoutedChannel`)."""

    def answer_as_json(self, request_id: RequestId) -> None: ...


class RoutedChannel(
    MessageChannel,
    ReceivesWithInfo,
    ReadsBodies,
    SendsRouted,
    ClosesStreams,
    AnswersAsJson,
    Protocol,
):
    """The optional methods of a channel that routes by request (Streamable HTTP, where a
    POST's stream carries its request's answer and related messages, and the GET stream
    the rest: basic/transports). Each is a capability of its own (the bases of this class):
    the Connection tells which the channel has once, when it is built, and uses them instead
    of the plain methods; a channel may implement any of them.

    `receive_with_info` returns the next body with what the transport knows about it
    (headers, the peer's address): every request in the body reaches its handler with it,
    as `ctx.request_info`.

    `body_read(info, started, refused)` is called once per body, right after the session
    has read it and before anything it caused is sent: `started` are the ids of the
    requests in it that messages will be related to, each ending with one final message
    (an empty `started` and `refused`: only notifications and responses, HTTP 202); `refused`
    are answers to the body as a whole (JSON-RPC errors with no usable id, HTTP 400), which
    are not sent otherwise. A 2025-03-26 batch gets one final message, the array, related to
    one of its `started` ids (see `mcpkit.protocol.session.BodyRead`).

    `send_routed(data, related, final)` replaces `send`, with what the protocol session
    knows of the message: `related` is the request it answers or was sent while serving
    (None: related to no request, so for the GET stream), and `final` marks the last
    message about `related` (its response; or empty `data` when the request ended with no
    answer, cancelled by the peer, so its stream can end: nothing is to be sent then).
    Without `body_read`, answers to a body as a whole come here too, final with `related`
    None. Messages come in the order they were queued, one at a time.

    `close_stream(related, retry_ms)` closes the connection that carries `related`'s
    messages without ending its stream (SEP-1699): the request goes on, and the client comes
    back for the rest (after `retry_ms`, None for the transport's default). False when the
    transport cannot (no such stream, or the client could not resume it).

    `answer_as_json(request_id)` asks for `request_id`'s answer as one JSON object rather than
    a stream, if its response has not begun; a handler calls it (through the connection's
    `extras`) where the spec prefers it: the task polls tasks/get, tasks/list and
    tasks/cancel. Channels without streams have no use for it and need not implement it.
    """


class Feeder(Protocol):
    """What a connection offers a channel that hands it bodies itself (`PushingChannel`).

    `room_to_read()` is done once the connection may take another body (at once unless the
    peer has too many answers unread), raising `ConnectionClosed` if it has ended. `feed(data,
    info)` reads one body there and then, as a reader task would have after `receive`: the
    channel's `body_read` is called before `feed` returns, and the handlers it starts are
    tasks of their own, but with `hold` a lone request is handed back, an exchange for the
    caller to serve in its own task (`runtime.connection.serve`).
    It raises `ConnectionClosed` once the connection has ended. `input_closed()` says no
    more bodies will come (the connection then ends).
    """

    def room_to_read(self) -> Awaitable[None]: ...

    def feed(
        self, data: bytes, info: RequestInfo | None, *, hold: bool = False
    ) -> RequestReceived | None: ...

    def input_closed(self) -> None: ...


@runtime_checkable
class DeliversBodies(Protocol):
    """A channel that hands bodies to a `Feeder` itself (`PushingChannel`)."""

    def deliver_to(self, feeder: Feeder) -> None: ...


class PushingChannel(RoutedChannel, DeliversBodies, Protocol):
    """A channel whose bodies arrive in the caller's own task (an HTTP POST's), so no task
    needs to wait on it: the connection, when built, calls `deliver_to(feeder)` and never
    calls `receive`; the channel calls the feeder for each body. Streamable HTTP does this,
    so an idle session holds no reader task and a request costs no extra task switch."""


#: (method, params) -> the HTTP headers a modern request carries (`speak_modern`).
ModernHeaders = Callable[[str, Mapping[str, Any]], Mapping[str, str]]


@runtime_checkable
class KnowsAssignedId(Protocol):
    """A client channel that tells the session id the server assigned it (its Mcp-Session-Id:
    Streamable HTTP)."""

    def session_id(self) -> str | None: ...


@runtime_checkable
class FailsHere(Protocol):
    """A client channel that answers one of our requests itself when it could not carry it
    (Streamable HTTP: a refused or reset connection), with an error message that keeps the
    session's books: the exception the request's caller gets instead (once; None when the
    error came from the peer)."""

    def failed_here(self, request_id: RequestId) -> BaseException | None: ...


@runtime_checkable
class SpeaksEras(Protocol):
    """A client channel that carries both eras over HTTP: told the modern revision and how
    to mirror its request fields into headers (2026-07-28), or that sessions are spoken."""

    def speak_modern(self, revision: str, headers: ModernHeaders) -> None: ...

    def speak_sessions(self) -> None: ...


@runtime_checkable
class MayStopWriting(Protocol):
    """A channel with a `writable` attribute: False once nothing more can be sent."""

    @property
    def writable(self) -> bool: ...


@runtime_checkable
class MayCarryLegacyOnly(Protocol):
    """A client channel that may carry the legacy era only (the HTTP+SSE transport): it
    says so with `legacy_only` True."""

    @property
    def legacy_only(self) -> bool: ...


class ChannelExtras:
    """The optional methods of one channel, bound, or None where it has none: the
    capabilities above, each told with `isinstance`, and its `writable` attribute (True
    when it has none). Each is told when asked, so holding one costs a session nothing;
    callers on a hot path keep the method they got."""

    __slots__ = ("channel",)

    def __init__(self, channel: MessageChannel) -> None:
        self.channel = channel

    @property
    def receive_with_info(self) -> Callable[[], Awaitable[tuple[bytes, RequestInfo | None]]] | None:
        ch = self.channel
        return ch.receive_with_info if isinstance(ch, ReceivesWithInfo) else None

    @property
    def body_read(
        self,
    ) -> Callable[[RequestInfo | None, list[RequestId], list[bytes]], None] | None:
        ch = self.channel
        return ch.body_read if isinstance(ch, ReadsBodies) else None

    @property
    def send_routed(self) -> Callable[[bytes, RequestId | None, bool], Awaitable[None]] | None:
        ch = self.channel
        return ch.send_routed if isinstance(ch, SendsRouted) else None

    @property
    def close_stream(self) -> Callable[[RequestId, int | None], bool] | None:
        ch = self.channel
        return ch.close_stream if isinstance(ch, ClosesStreams) else None

    @property
    def answer_as_json(self) -> Callable[[RequestId], None] | None:
        ch = self.channel
        return ch.answer_as_json if isinstance(ch, AnswersAsJson) else None

    @property
    def deliver_to(self) -> Callable[[Feeder], None] | None:
        ch = self.channel
        return ch.deliver_to if isinstance(ch, DeliversBodies) else None

    @property
    def session_id(self) -> Callable[[], str | None] | None:
        ch = self.channel
        return ch.session_id if isinstance(ch, KnowsAssignedId) else None

    @property
    def writable(self) -> bool:
        ch = self.channel
        return bool(ch.writable) if isinstance(ch, MayStopWriting) else True

    @property
    def failed_here(self) -> Callable[[RequestId], BaseException | None] | None:
        """`FailsHere.failed_here`, if the channel has it."""
        ch = self.channel
        return ch.failed_here if isinstance(ch, FailsHere) else None

    @property
    def speak_modern(self) -> Callable[[str, ModernHeaders], None] | None:
        """`SpeaksEras.speak_modern`, if the channel has it."""
        ch = self.channel
        return ch.speak_modern if isinstance(ch, SpeaksEras) else None

    @property
    def speak_sessions(self) -> Callable[[], None] | None:
        ch = self.channel
        return ch.speak_sessions if isinstance(ch, SpeaksEras) else None

    @property
    def authorizing(self) -> Authorizing | None:
        """The token fetches of a client channel's auth (`Authorizes`), if it tells them."""
        ch = self.channel
        return ch.authorizing if isinstance(ch, Authorizes) else None

    @property
    def legacy_only(self) -> bool:
        """A client channel that can carry only the legacy era (the HTTP+SSE transport)."""
        ch = self.channel
        return bool(ch.legacy_only) if isinstance(ch, MayCarryLegacyOnly) else False


def extras_of(channel: MessageChannel) -> ChannelExtras:
    """`channel`'s optional methods: the only place the runtime asks a channel what it has
    beyond `receive`, `send` and `aclose`."""
    return ChannelExtras(channel)
