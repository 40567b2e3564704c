"""The message channel: the one interface every transport implements for the runtime.

A channel carries whole JSON-RPC messages as UTF-8 JSON bytes (one object, or one batch
array), never partial frames; framing (newlines for stdio, SSE events for HTTP) is the
transport's job. A channel that has more to say or to learn than bytes (Streamable HTTP)
also implements the optional methods of `RoutedChannel`.

The runtime finds a channel's optional methods in one place, `extras_of(channel)`, which
returns them as one typed `ChannelExtras` (None for each the channel lacks): nothing else
probes a channel with `getattr`, so a type checker sees every call (tests/test_package.py,
`test_channels_are_asked_for_their_optional_methods_in_one_place`, guards this).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from mcpkit.protocol.events import RequestInfo
from mcpkit.types import RequestId

__all__ = [
    "ChannelExtras",
    "Feeder",
    "MessageChannel",
    "PushingChannel",
    "RoutedChannel",
    "StatelessHeaders",
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


class RoutedChannel(MessageChannel, Protocol):
    """The optional methods of a channel that routes by request (Streamable HTTP, where a
    POST's stream carries its request's answer and related messages, and the GET stream
    the rest: basic/transports). The Connection looks each one up once, when it is built,
    and uses it instead of the plain method; a channel may implement any of them.

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

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]: ...

    def body_read(
        self, info: RequestInfo | None, started: Sequence[RequestId], refused: Sequence[bytes]
    ) -> None: ...

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None: ...

    def close_stream(self, related: RequestId, retry_ms: int | None = None) -> bool: ...

    def answer_as_json(self, request_id: RequestId) -> None: ...


class Feeder(Protocol):
    """What a connection offers a channel that hands it bodies itself (`PushingChannel`).

    `room_to_read()` returns once the connection may take another body (at once unless the
    peer has too many answers unread), raising `ConnectionClosed` if it has ended. `feed(data,
    info)` reads one body there and then, as a reader task would have after `receive`: the
    channel's `body_read` is called before `feed` returns, and the handlers it starts are
    tasks of their own. It raises `ConnectionClosed` once the connection has ended.
    `input_closed()` says no more bodies will come (the connection then ends).
    """

    async def room_to_read(self) -> None: ...

    def feed(self, data: bytes, info: RequestInfo | None) -> None: ...

    def input_closed(self) -> None: ...


class PushingChannel(RoutedChannel, Protocol):
    """A channel whose bodies arrive in the caller's own task (an HTTP POST's), so no task
    needs to wait on it: the connection, when built, calls `deliver_to(feeder)` and never
    calls `receive`; the channel calls the feeder for each body. Streamable HTTP does this,
    so an idle session holds no reader task and a request costs no extra task switch."""

    def deliver_to(self, feeder: Feeder) -> None: ...


#: (method, params) -> the HTTP headers a stateless request carries (`speak_stateless`).
StatelessHeaders = Callable[[str, Mapping[str, Any]], Mapping[str, str]]


class ChannelExtras:
    """The optional methods of one channel, bound, or None where it has none: what
    `RoutedChannel` and `PushingChannel` describe, plus what a client channel may tell
    (`session_id`: the Streamable HTTP session the server gave it), and its `writable`
    attribute (True when it has none). Each is looked up when asked, so holding one costs a
    session nothing; callers on a hot path keep the method they got."""

    __slots__ = ("channel",)

    def __init__(self, channel: MessageChannel) -> None:
        self.channel = channel

    @property
    def receive_with_info(self) -> Callable[[], Awaitable[tuple[bytes, RequestInfo | None]]] | None:
        return getattr(self.channel, "receive_with_info", None)

    @property
    def body_read(
        self,
    ) -> Callable[[RequestInfo | None, Sequence[RequestId], Sequence[bytes]], None] | None:
        return getattr(self.channel, "body_read", None)

    @property
    def send_routed(self) -> Callable[[bytes, RequestId | None, bool], Awaitable[None]] | None:
        return getattr(self.channel, "send_routed", None)

    @property
    def close_stream(self) -> Callable[[RequestId, int | None], bool] | None:
        return getattr(self.channel, "close_stream", None)

    @property
    def answer_as_json(self) -> Callable[[RequestId], None] | None:
        return getattr(self.channel, "answer_as_json", None)

    @property
    def deliver_to(self) -> Callable[[Feeder], None] | None:
        return getattr(self.channel, "deliver_to", None)

    @property
    def session_id(self) -> Callable[[], str | None] | None:
        return getattr(self.channel, "session_id", None)

    @property
    def writable(self) -> bool:
        return bool(getattr(self.channel, "writable", True))

    @property
    def failed_here(self) -> Callable[[RequestId], BaseException | None] | None:
        """A client channel that answers one of our requests itself when it could not carry
        it (Streamable HTTP: a refused or reset connection), with an error message that keeps
        the session's books: the exception the request's caller gets instead (once; None
        when the error came from the peer)."""
        return getattr(self.channel, "failed_here", None)

    @property
    def speak_stateless(self) -> Callable[[str, StatelessHeaders], None] | None:
        """A client channel that mirrors a stateless revision's request fields into headers
        (Streamable HTTP, 2026-07-28): told the revision and how to compute them."""
        return getattr(self.channel, "speak_stateless", None)

    @property
    def speak_sessions(self) -> Callable[[], None] | None:
        return getattr(self.channel, "speak_sessions", None)

    @property
    def sessions_only(self) -> bool:
        """A client channel that can carry only the session era (the HTTP+SSE transport)."""
        return bool(getattr(self.channel, "sessions_only", False))


def extras_of(channel: MessageChannel) -> ChannelExtras:
    """`channel`'s optional methods: the only place the runtime asks a channel what it has
    beyond `receive`, `send` and `aclose`."""
    return ChannelExtras(channel)
