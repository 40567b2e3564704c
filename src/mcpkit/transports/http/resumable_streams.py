"""A session's resumable streams (spec: basic/transports, "Resumability and Redelivery"): each
SSE stream given an id, found again by a GET with `Last-Event-ID` (this session's streams
only), kept for `replay_retention` seconds once no connection carries it, and forgotten, its
stored events too, when its time is up. `HttpChannel` is this plus the routing of bodies and
messages to streams, kept apart because a stream's life after its connection (ids, one timer,
the event store) is its own job, which the routing only calls at a request's start and end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Final

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

__all__ = ["MAX_RETAINED", "ResumableStreams", "expired"]

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


class ResumableStreams:
    """The resumable streams of `HttpChannel` (which sets `settings`, `_closed`, `clock` and
    `_idle_at`), the GET stream `stream` among them."""

    __slots__ = (
        "_idle_at",
        "_prefix",
        "_primed",
        "_retained",
        "_streams",
        "_sweeper",
        "stream",
    )

    settings: StreamSettings
    _closed: bool
    clock: Callable[[], float]
    _idle_at: float

    @property
    def session_id(self) -> str | None:
        """The session's id (`HttpSession`'s; None: a channel of no session): its stream ids
        start with its tag (`session_tag`), in every process."""
        return None

    @property
    def revision(self) -> str | None:
        """The revision the session's handshake negotiated (`HttpSession`'s, read from the
        terms its record holds): it tells which streams open with a priming event."""
        return None

    def __init__(self) -> None:
        self.stream: Stream | None = None  # the GET stream
        self._streams: dict[str, Stream] | None = None  # resumable streams by id
        self._prefix: str | None = None  # of this session's stream ids
        self._primed: bool | None = None  # whether they open with a priming event
        # Those no connection carries, with when they were let go (resumable `retention`
        # seconds from then), oldest first.
        self._retained: dict[Stream, float] | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    def _number(self, stream: Stream, started: Sequence[RequestId] = ()) -> None:
        """Give `stream` (the answer stream of the requests `started`, or the GET stream) an
        id, so its events carry ids and it can be resumed."""
        settings = self.settings
        store = settings.store
        if store is None:
            return
        prefix = self._prefix
        if prefix is None:
            prefix = self._prefix = new_stream_prefix(self.session_id)
        if settings.relayed:  # the id names the request, for a relay to answer it
            request_id = started[0] if len(started) == 1 else None
            stream_id = new_stream_id(prefix, next_stream_number(), request_id)
        else:  # fast path: mirrors `new_stream_id` of no request (docs/performance.md, fast paths)
            stream_id = prefix + str(next_stream_number())
        stream.id = stream_id
        stream.store = store
        stream.later = settings.own_store
        primed = self._primed
        if primed is None:  # asked once the handshake has said the revision, which stays
            revision = self.revision
            primed = revision is not None and revision >= PRIMING_REVISION
            if revision is not None:
                self._primed = primed
        stream.primed = primed
        if self._streams is None:
            self._streams = {}
        self._streams[stream_id] = stream

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
        sid = self.session_id
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

    async def release(self, stream: Stream, delivered: bool) -> None:
        """A connection of `stream` ended. Unless a newer one carries it, the stream stays
        resumable for `retention` seconds after its request ends (the GET stream: after the
        cut), even when all was written: the client may have lost what was written last."""
        left = self.let_go(stream, delivered)
        if left:
            await self.settings.forget_now(left)

    def let_go(self, stream: Stream, delivered: bool) -> list[str] | None:
        """`release` but for what waits for the store: the stream ids the store has still
        to forget (`StreamSettings.forget_now`), if any. (A plain call: an answer's every
        stream passes here.) A stream kept is resumable for `retention` seconds; one that
        cannot be resumed is forgotten at once, and so is the oldest past MAX_RETAINED. A
        connection ending is the session's activity: its idle time starts now (`touch`)."""
        # fast path: mirrors `HttpChannel.touch` (docs/performance.md, fast paths)
        self._idle_at = now = self.clock()
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
            # By the session's clock (`now`), as its idle time, read once above.
            retained[stream] = now
            if self._sweeper is None:
                self._sweeper = asyncio.get_running_loop().call_later(
                    self.settings.retention, self._sweep
                )
            if len(retained) <= MAX_RETAINED:
                return None
            gone = stream
            for gone in retained:  # noqa: B007 (the oldest: a loop's first turn, no call)
                break
            streams, gone_id = self._streams, gone.id
            if gone.later is not None and not gone.stored and gone_id and gone is not self.stream:
                # fast path: mirrors `_drop` (docs/performance.md, fast paths)
                # With nothing for the store to forget: the usual, a call's stream, its store
                # never told (`Stream.later`); a session past MAX_RETAINED frees one at every
                # call. (Retained, it has no connection:
                # only `resume` attaches one, and it takes it out of here; `_streams` holds
                # the stream just retained, so it stays a dict.)
                del retained[gone]
                if streams is not None and streams.pop(gone_id, None) is not None:
                    gone.forgotten()  # (see `_drop`)
                return None
        dropped: list[str] = []
        self._drop(gone, dropped)
        return self.settings.forget_at_once(dropped) if dropped else None

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
            self._drop(stream, gone)
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
        self._drop(stream, gone)
        return self.settings.forget_at_once(gone) if gone else gone

    def _drop(self, stream: Stream, gone: list[str]) -> None:
        """Free `stream`'s state here at once (a GET with its Last-Event-ID finds nothing
        from now on, and what its request still sends is no longer stored); add its id to
        `gone` when the store holds events of it, for the caller to have them forgotten."""
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
        if stream_id is not None and streams is not None:
            if streams.pop(stream_id, None) is not None and stream.store is not None:
                if stream.later is None or stream.stored:  # (else the store was never told)
                    gone.append(stream_id)
                # What its request still sends is dropped, not stored; what it held let go.
                stream.forgotten()
            if not streams:
                self._streams = None

    def _drop_all(self) -> list[str]:
        """End and free every stream that has an id (the session ended): the ids the store is
        to forget."""
        gone: list[str] = []
        for stream in list(self._streams.values()) if self._streams else ():
            stream.end()
            self._drop(stream, gone)
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        return gone
