"""A session's resumable streams (spec: basic/transports, "Resumability and Redelivery"): each
SSE stream given an id, found again by a GET with `Last-Event-ID` (this session's streams
only), kept for `replay_retention` seconds once no connection carries it, and forgotten, its
stored events too, when its time is up. A session's `HttpChannel` holds one and routes bodies
and messages to its streams: a stream's life after its connection (ids, one timer, the event
store) is a job of its own, which the routing only calls at a request's start and end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from mcpkit._asgi import quote_header
from mcpkit.protocol.sse import parse_event_id
from mcpkit.transports.http.checks import Refusal, refuse
from mcpkit.transports.http.sse_stream import (
    PRIMING_REVISION,
    Stream,
    StreamSettings,
    new_stream_id,
    new_stream_prefix,
    next_stream_number,
    session_tag,
)
from mcpkit.types import RequestId

__all__ = ["MAX_RETAINED", "Numbering", "ResumableStreams", "expired"]

#: Streams one session keeps resumable once no connection carries them (the oldest goes
#: first past it): a client that cuts every stream and never comes back costs a bounded sum.
MAX_RETAINED: Final = 32


def expired(last: bytes) -> Refusal:
    """410 for a Last-Event-ID whose stream cannot be resumed. Not 404: a client must take a
    404 for the end of its session (basic/transports, "Session Management")."""
    return refuse(
        410,
        f"the stream of Last-Event-ID {quote_header(last)} cannot be resumed: it belongs to "
        "no stream of this session, or its events are past the replay window "
        "(replay_window, replay_retention); open a new stream with GET without Last-Event-ID",
    )


class Numbering(Protocol):
    """What a session's streams need to know of the session: its id (None: a channel of no
    session), which every stream id starts with (`session_tag`), in every process; and the
    revision its handshake negotiated (None until then), which tells which streams open
    with a priming event."""

    @property
    def session_id(self) -> str | None: ...

    @property
    def revision(self) -> str | None: ...


class ResumableStreams:
    """The resumable streams of one session (held by its `HttpChannel`), the GET stream
    `stream` among them: each numbered by `number`, found again by `resumable`, kept once its
    connection lets it go (`release`) and forgotten when its time is up, by `settings` and
    `clock`. `session` tells the session's id and revision."""

    __slots__ = (
        "_closed",
        "_prefix",
        "_primed",
        "_retained",
        "_streams",
        "_sweeper",
        "clock",
        "released_at",
        "session",
        "settings",
        "stream",
    )

    def __init__(
        self, settings: StreamSettings, clock: Callable[[], float], session: Numbering
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.session = session
        self.stream: Stream | None = None  # the GET stream
        self._streams: dict[str, Stream] | None = None  # resumable streams by id
        self._prefix: str | None = None  # of this session's stream ids
        self._primed: bool | None = None  # whether they open with a priming event
        # Those no connection carries, with when they were let go (resumable `retention`
        # seconds from then), oldest first.
        self._retained: dict[Stream, float] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False  # the session ended: nothing is retained from now
        # When a connection last let go of a stream (`release`): the session's activity.
        self.released_at = clock()

    def number(self, stream: Stream, started: Sequence[RequestId] = ()) -> None:
        """Give `stream` (the answer stream of the requests `started`, or the GET stream) an
        id, so its events carry ids and it can be resumed."""
        settings = self.settings
        store = settings.store
        if store is None:
            return
        prefix = self._prefix
        if prefix is None:
            prefix = self._prefix = new_stream_prefix(self.session.session_id)
        # With `relayed`, the id names the request, for a relay to answer it.
        request_id = started[0] if settings.relayed and len(started) == 1 else None
        stream.id = stream_id = new_stream_id(prefix, next_stream_number(), request_id)
        stream.store = store
        stream.later = settings.own_store
        primed = self._primed
        if primed is None:  # asked once the handshake has said the revision, which stays
            revision = self.session.revision
            primed = revision is not None and revision >= PRIMING_REVISION
            if revision is not None:
                self._primed = primed
        stream.primed = primed
        if self._streams is None:
            self._streams = {}
        self._streams[stream_id] = stream

    async def open_stream(self) -> Stream | None:
        """A new GET stream, replacing one no connection reads; None while one is connected."""
        if self.stream is not None:
            if self.stream.attached:
                return None
            await self.forget(self.stream)
        stream = self.stream = Stream(budget=self.settings.queued)
        self.number(stream)
        return stream

    def resume(self, stream: Stream) -> int:
        """A GET with Last-Event-ID takes `stream` over: its connection's generation."""
        if self._retained is not None:
            self._retained.pop(stream, None)
        return stream.attach()

    def resumable(self, last: list[bytes]) -> tuple[Stream, int] | Refusal:
        """The stream of this session that the Last-Event-ID values `last` name, and the
        last event the client has; or the refusal to send."""
        parsed = parse_event_id(last[0].decode("latin-1")) if len(last) == 1 else None
        if parsed is None:
            got = quote_header(last[0]) if len(last) == 1 else f"{len(last)} headers"
            return refuse(
                400,
                f"Last-Event-ID {got} is not an event id this server sent: send the id of the "
                "last event received, once, or open a new stream without it",
            )
        stream = None if self._streams is None else self._streams.get(parsed[0])
        if stream is None or stream.store is None or parsed[1] > stream.seq:
            return expired(last[0])  # another session's stream is as good as unknown
        return stream, parsed[1]

    def numbered_elsewhere(self, last: list[bytes]) -> tuple[str, int] | None:
        """The stream id and last event of a Last-Event-ID that names a stream of this
        session that another copy of it numbered (in another process, or in this one before
        a restart): its tag is this session's, and this copy holds no stream of that id.
        None for anything else."""
        sid = self.session.session_id
        if sid is None or self.settings.store is None or len(last) != 1:
            return None
        parsed = parse_event_id(last[0].decode("latin-1"))
        if parsed is None:
            return None
        stream_id, after = parsed
        # One of this copy's is resumed here or nowhere; a stream of another copy, in
        # another process or in this one (another app sharing the store), from the log.
        mine = self._streams is not None and stream_id in self._streams
        if mine or not stream_id.startswith(session_tag(sid)):
            return None
        return stream_id, after

    def release(self, stream: Stream, delivered: bool) -> Awaitable[None] | None:
        """A connection of `stream` ended (noted at `released_at`: the session's activity).
        Unless a newer one carries it, the stream stays resumable for `retention` seconds
        after its request ends (the GET stream: after the cut), even when all was written: the
        client may have lost what was written last. One that cannot be resumed is forgotten
        at once, and so is the oldest past MAX_RETAINED. What to await for the store to forget
        them (`StreamSettings.forget_now`); None when nothing is left to it (the usual case:
        no coroutine)."""
        self.released_at = now = self.clock()
        if stream.attached or not (delivered or stream.ended or stream is self.stream):
            return None  # (a request still running is retained when it ends)
        if stream.id is None or self._closed:
            gone = stream
        else:
            retained = self._retained
            if retained is None:
                retained = self._retained = {}
            elif stream in retained:  # (re)inserted last: the dict stays in expiry order
                del retained[stream]
            retained[stream] = now
            if self._sweeper is None:
                self._sweeper = asyncio.get_running_loop().call_later(
                    self.settings.retention, self._sweep
                )
            if len(retained) <= MAX_RETAINED:
                return None
            gone = next(iter(retained))  # the oldest
        stored = self._drop(gone)
        left = None if stored is None else self.settings.forget_at_once([stored])
        return self.settings.forget_now(left) if left else None

    def _sweep(self) -> None:
        """One timer per session, not per stream: forget the streams whose time is up. A
        timer callback cannot await, so the store's part goes to a task (`forget_later`)."""
        self._sweeper = None
        now = self.clock()
        retention = self.settings.retention
        gone: list[str] = []
        while self._retained:
            stream, let_go = next(iter(self._retained.items()))
            until = let_go + retention
            if until > now:
                self._sweeper = asyncio.get_running_loop().call_later(until - now, self._sweep)
                break
            self._drop_into(stream, gone)
        self.settings.forget_later(gone)

    async def forget(self, stream: Stream) -> None:
        """Free `stream`'s state and stored events; it can no longer be resumed."""
        left = self._forget_here(stream)
        if left:
            await self.settings.forget_now(left)

    def _forget_here(self, stream: Stream) -> list[str]:
        """`forget` but for what waits for the store: `stream`'s state freed, and its stored
        events too when the store never waits (`StreamSettings.forget_at_once`); the stream
        ids the store has still to forget (`StreamSettings.forget_now`)."""
        gone: list[str] = []
        self._drop_into(stream, gone)
        return self.settings.forget_at_once(gone) if gone else gone

    def _drop_into(self, stream: Stream, gone: list[str]) -> None:
        """`_drop` `stream`, adding its id to `gone` when the store is to forget it."""
        stored = self._drop(stream)
        if stored is not None:
            gone.append(stored)

    def _drop(self, stream: Stream) -> str | None:
        """Free `stream`'s state here at once (a GET with its Last-Event-ID finds nothing
        from now on, and what its request still sends is no longer stored); its id when the
        store holds events of it, for the caller to have them forgotten."""
        retained = self._retained
        if retained is not None:
            retained.pop(stream, None)
            if not retained:
                self._retained = None
        if stream.attached:  # (a stream no connection reads has no keep-alive timer)
            stream.stop_keepalive()
        if stream is self.stream:
            self.stream = None
        stream_id = stream.id
        streams = self._streams
        stored = None
        if stream_id is not None and streams is not None:
            if streams.pop(stream_id, None) is not None and stream.store is not None:
                if stream.later is None or stream.stored:  # (else the store was never told)
                    stored = stream_id
                # What its request still sends is dropped, not stored; what it held let go.
                stream.forgotten()
            if not streams:
                self._streams = None
        return stored

    def close(self) -> list[str]:
        """End and free every stream that has an id (the session ended; none is retained
        from now): the ids the store is to forget."""
        self._closed = True
        if self.stream is not None:
            self.stream.end()
        gone: list[str] = []
        for stream in list(self._streams.values()) if self._streams else ():
            stream.end()
            self._drop_into(stream, gone)
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        return gone
