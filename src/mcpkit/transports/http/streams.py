"""The channel between one HTTP session's protocol session and its HTTP responses: each POST
body goes in with an `Exchange`, the stream its answers come out on, and messages related to
no request go to the GET stream (spec: basic/transports, "Sending Messages to the Server",
"Listening for Messages from the Server"). The channel holds the session's resumable streams
(`ResumableStreams`): each SSE stream numbered, found again by a GET with `Last-Event-ID`
(this session's only), kept for `replay_retention` seconds once no connection carries it, then
forgotten with its stored events ("Resumability and Redelivery").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Final, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.runtime.channel import Feeder
from mcpkit.runtime.connection import serve
from mcpkit.runtime.reply import nothing
from mcpkit.transports.http._exchange import Exchange
from mcpkit.transports.http.checks import Refusal, expired, last_event_id
from mcpkit.transports.http.sse_stream import (
    MAX_QUEUED,
    PRIMING_REVISION,
    Stream,
    StreamSettings,
    new_stream_id,
    next_stream_number,
)
from mcpkit.transports.http.stream_storing import StreamStoring, new_stream_prefix
from mcpkit.types import RequestId

__all__ = [
    "MAX_QUEUED",
    "AnswerGate",
    "MAX_RETAINED",
    "NO_RESUMPTION",
    "HttpChannel",
    "Numbering",
    "ResumableStreams",
    "Stream",
    "StreamSettings",
    "expired",
]

logger = logging.getLogger("mcpkit.http")


#: Stream settings that keep nothing for a resumption (and charge no budget).
NO_RESUMPTION: Final = StreamSettings(store=None, keepalive_interval=None)


class AnswerGate(Protocol):
    """What an answer waits for before it goes out (`HttpChannel.gate`)."""

    def before_answer(self, channel: HttpChannel) -> Awaitable[None] | None:
        """What to await before `channel` puts a request's final message on its response;
        None for nothing (the usual case: no coroutine)."""
        ...


class HttpChannel:
    """A `RoutedChannel` for one HTTP session (see mcpkit.runtime.channel).

    With `json_response`, a POST is answered with its final message alone: the messages sent
    while serving it (progress, requests to the client) go to the GET stream when one is open,
    as the only place left to send them, else they are dropped. `HttpSession` is this with
    the session it carries (`transports.http.live_sessions`). `gate`, when set, is awaited
    before a request's final message goes out: the HTTP app writes a session's changed record
    to its store first (the deployment's `RecordKeeper.before_answer`).
    """

    __slots__ = (
        "_closed",
        "_current",
        "_current_resumable",
        "_feeder",
        "_idle_at",
        "_pending",
        "_routes",
        "clock",
        "gate",
        "json_response",
        "settings",
        "streams",
    )

    def __init__(
        self,
        *,
        json_response: bool = False,
        clock: Callable[[], float] = time.monotonic,
        settings: StreamSettings = NO_RESUMPTION,
    ) -> None:
        self.json_response = json_response
        self.settings = settings
        self.clock = clock
        self.streams = ResumableStreams(settings, clock, self)  # the session's, by id
        # The connection bodies go to (`PushingChannel`): an idle session has no reader
        # task; made on first use: no stream table.
        self._feeder: Feeder | None = None
        self._current: Exchange | None = None
        self._current_resumable = True
        self._routes: dict[RequestId, Exchange] = {}
        self._pending = 0  # bodies waiting for room to be read
        self._idle_at = clock()
        self._closed = False
        self.gate: AnswerGate | None = None

    @property
    def session_id(self) -> str | None:
        """The session's id (`Numbering`): None, a channel of no session (`HttpSession`'s
        says its own)."""
        return None

    @property
    def revision(self) -> str | None:
        """The revision the session's handshake negotiated (`Numbering`): None here."""
        return None

    @property
    def stream(self) -> Stream | None:
        """The GET stream (`ResumableStreams.stream`), if one is open or resumable."""
        return self.streams.stream

    @property
    def writable(self) -> bool:
        return not self._closed

    @property
    def idle_since(self) -> float | None:
        """None while a body waits, the GET stream is connected, or a request is served whose
        client still holds its answer's connection. A call whose client went away (and has
        not resumed its stream) goes on, but no longer keeps the session alive: 50 slow calls
        behind dropped POSTs would otherwise hold a session place forever."""
        get = self.streams.stream
        if self._pending or (get is not None and get.attached):
            return None
        for exchange in self._routes.values():
            if exchange.attached:
                return None
        # The later of the session's other activity and a connection letting go of a stream.
        return max(self._idle_at, self.streams.released_at)

    def touch(self) -> None:
        """Note activity now (the start of idleness, once nothing else is going on)."""
        self._idle_at = self.clock()

    async def submit(
        self, data: bytes, info: RequestInfo, *, resumable: bool = True, serve_here: bool = False
    ) -> Exchange:
        """Hand a POST body to the session, which reads it before this returns: the
        exchange's `read` says what it started. ConnectionClosed once the session ended.

        Without `resumable` its SSE answer has no event ids and is not kept for a GET with
        Last-Event-ID (the initialize: a client that lost its answer starts again). With
        `serve_here`, a body holding one request leaves it on the exchange's `request`, for
        the caller to serve in its own task, rather than starting a task for it."""
        feeder = self._feeder
        if self._closed or feeder is None:
            raise ConnectionClosed("the session has ended")
        exchange = Exchange(self)  # (made first: the connection's two calls then follow)
        self._pending += 1
        try:
            await feeder.room_to_read()  # at once, unless answers pile up unread
        finally:
            self._pending -= 1
        if self._closed:
            raise ConnectionClosed("the session has ended")
        self._current = exchange
        self._current_resumable = resumable
        try:
            # (calls body_read, which takes `_current`)
            exchange.request = feeder.feed(data, info, hold=serve_here)
        except ConnectionClosed:
            self.close()  # the connection failed: the session is over
            raise
        finally:
            self._current = None
        return exchange

    def serve(self, request: RequestReceived) -> Coroutine[object, object, None]:
        """Serve `request`, the one an exchange's body started (`submit(serve_here=True)`),
        in the calling task: its answer and what it sends meanwhile come to its exchange as
        any request's do. Nothing to do once the session ended (its streams ended too).
        (`runtime.connection.serve`'s coroutine itself, not one more around it.)"""
        if self._feeder is None:
            return nothing()  # (the session ended: its streams ended too)
        return serve(request)

    # ------------------------------------------------------------ RoutedChannel

    def deliver_to(self, feeder: Feeder) -> None:
        self._feeder = feeder

    async def receive(self) -> bytes:
        raise RuntimeError("an HttpChannel delivers its bodies with submit(), not receive()")

    def body_read(
        self, info: RequestInfo | None, started: list[RequestId], refused: list[bytes]
    ) -> None:
        exchange, self._current = self._current, None
        if exchange is None:
            return
        for request_id in started:
            # A reused id whose answer is still due takes the new stream; the old POST's
            # stream then ends at the newer answer (architecture.md, "Seams").
            self._routes[request_id] = exchange
        if not started:
            exchange.end()
            self.touch()
        elif not self.json_response and self._current_resumable:
            self.streams.number(exchange, started)
        # A body that started requests is no activity to note (`touch`) by itself: while
        # its exchange is routed and its connection holds it, the session is not idle
        # (`idle_since`), and its answer, or its connection letting go of it, notes it
        # (`send_routed`, `release`, `Exchange.connection_lost`).
        # (Held as given: the session makes them for this body alone, `BodyRead`.)
        exchange.read = (started, refused)

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        routes = self._routes
        exchange = None if related is None else routes.get(related)
        if final and exchange is not None:
            gate = self.gate
            waiting = None if gate is None else gate.before_answer(self)
            if waiting is not None:
                await waiting
            # Its answer is being sent: the routes to the exchange go, its own ids
            # (`body_read` routed only those), not a scan of every route: a session with
            # many calls running pays nothing per answer for the others.
            for request_id in exchange.read[0]:
                if routes.get(request_id) is exchange:  # (a reused id may route elsewhere now)
                    del routes[request_id]
            if not routes:
                # The last: the table goes too, rather than stay sized for one request in
                # every idle session (as `Answering.answer`; docs/performance.md, "An idle
                # session").
                routes.clear()
            if not exchange.offer(data, True):  # (offered and ended: no coroutine, the usual)
                await exchange.put(data)
                exchange.end()
            if not exchange.attached:  # cut before its end: resumable for a while (`release`)
                await self.release(exchange, delivered=False)
            self._idle_at = self.clock()  # (`touch`)
            return
        target: Stream | None = exchange
        if exchange is None or self.json_response or exchange.json:
            target = self.stream
        if target is None:
            logger.debug("no stream for a message related to %r: dropped", related)
            return
        await target.put(data)

    async def send(self, data: bytes) -> None:
        await self.send_routed(data, None, False)

    def answer_as_json(self, request_id: RequestId) -> None:
        """Answer `request_id` with one JSON object rather than an SSE stream, if its response
        has not begun (the app waits FIRST_WAIT for a call's first message before choosing);
        what else it causes goes to the GET stream. The handlers of tasks/get, tasks/list and
        tasks/cancel call it: "servers SHOULD NOT upgrade to an SSE stream in response to a
        tasks/get request, as the client has indicated it wishes to poll" (basic/utilities/
        tasks, "Input Required Status"). The choice costs other requests nothing."""
        exchange = self._routes.get(request_id)
        if exchange is not None:
            exchange.json = True

    # ----------------------------------------------------------------- streams

    async def release(self, stream: Stream, delivered: bool) -> None:
        """A connection of `stream` ended (`ResumableStreams.release`, which notes the time:
        the session's activity): the stream is kept for a resumption, or forgotten."""
        waiting = self.streams.release(stream, delivered)
        if waiting is not None:
            await waiting

    def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the connection of `request_id`'s stream early, keeping the stream (SEP-1699);
        False when there is none to close (JSON answers, a client before 2025-11-25...)."""
        exchange = self._routes.get(request_id)
        retry = self.settings.retry_ms if retry_ms is None else retry_ms
        return exchange is not None and exchange.hang_up(retry)

    # ------------------------------------------------------------------ ending

    async def aclose(self) -> None:
        """`close()`, waiting for the store to forget the session's streams."""
        await self.settings.forget_now(self._end())

    def close(self) -> None:
        """End every stream of the session, free what they keep, and fail the bodies it never
        read. The runtime calls it from plain callbacks (the connection's end, `on_close`),
        which cannot await: the store forgets the session's streams in a task
        (`StreamSettings.forget_later`); `aclose()` waits for it instead."""
        self.settings.forget_later(self._end())

    def _ended(self) -> None:
        """Called once, when the channel closes (`HttpSession`: its app forgets it then)."""

    def _end(self) -> list[str]:
        """`close()` but for the store: the ids of the streams it is to forget."""
        if self._closed:
            return []
        self._closed = True
        for exchange in set(self._routes.values()):
            exchange.end()
        self._routes.clear()
        if self._feeder is not None:
            self._feeder.input_closed()
            self._feeder = None
        self._ended()
        return self.streams.close()


# ------------------------------------------------------------------ resumable streams

#: Streams one session keeps resumable once no connection carries them (the oldest goes
#: first past it): a client that cuts every stream and never comes back costs a bounded sum.
MAX_RETAINED: Final = 32


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
        stream.storing = StreamStoring(stream_id, store, settings.own_store)
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
        parsed = last_event_id(last)
        if isinstance(parsed, Refusal):
            return parsed
        stream = None if self._streams is None else self._streams.get(parsed[0])
        if stream is None or stream.storing is None or parsed[1] > stream.seq:
            return expired(last[0])  # another session's stream is as good as unknown
        return stream, parsed[1]

    def holds(self, stream_id: str) -> bool:
        """Whether this copy of the session numbered the stream `stream_id` and holds it still
        (one it did not is another copy's: the deployment's `relay` resumes it)."""
        return self._streams is not None and stream_id in self._streams

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
        if stream.reader is not None:
            stream.reader.stop_keepalive()
        if stream is self.stream:
            self.stream = None
        stream_id = stream.id
        streams = self._streams
        stored = None
        if stream_id is not None and streams is not None:
            storing = stream.storing
            if streams.pop(stream_id, None) is not None and storing is not None:
                if storing.later is None or storing.stored:  # (else the store was never told)
                    stored = stream_id
                # What its request still sends is dropped, not stored; what it kept for
                # replay leaves the budget.
                stream.storing = None
                if stream.replay_held and stream.budget is not None:  # (only a budget charges it)
                    stream.budget.release_replay(stream)
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
