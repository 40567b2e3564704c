"""Pump one protocol session over one message channel with asyncio; and `serve`, the one way
every request is served, a session's or a 2026-07-28 request's own (`runtime.reply`).

One task per inbound request (so a long handler never blocks a ping or a cancellation),
futures for our own requests, one timer for request deadlines, one writer at a time for
what goes out. When the channel ends, every pending request fails at once with
ConnectionClosed and running handlers are cancelled.

What waits for the peer is bounded in bytes: answers to the peer (responses, and what
handlers send while serving) count against `send_high_water`, and while they are over it
the reader takes no new message, so a peer that stops reading stops being served rather
than growing us. Our own requests and notifications wait for room before they are queued.
Only answers pause the reader: two peers that both queued requests of their own would
otherwise each stop reading the other's answers, and neither would ever drain.

A channel with the optional methods of `RoutedChannel` (Streamable HTTP) gets what the
session knows about routing: which requests each body started, and for each message sent,
the request it belongs to and whether it is the last one; and it hands each body in with
what the transport knows of it, which reaches handlers on `RequestReceived.request_info`.
Channels without them (stdio, memory) run the same loops as before, at no added cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from mcpkit.errors import ConnectionClosed, McpError
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
)
from mcpkit.protocol.outbox import Outgoing
from mcpkit.protocol.session import Session
from mcpkit.runtime.awaiting import MAX_TIMEOUT_FACTOR, Awaiting, ProgressCallback
from mcpkit.runtime.background import BackgroundTasks, end_within, log_failure, task_on
from mcpkit.runtime.channel import ChannelExtras, MessageChannel, extras_of
from mcpkit.runtime.handler_failure import handler_error
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER, Outbound
from mcpkit.runtime.reading import Reader
from mcpkit.runtime.reply import Reply, RequestHandler, Write
from mcpkit.types import RequestId

__all__ = ["Connection", "NotificationHandler", "ProgressCallback", "RequestHandler", "serve"]

#: Seconds `aclose` waits for the reader it cancelled to stop (its channel's receive may
#: clean up under the cancellation): a reader that outlasts it is left to end alone.
_READER_STOP_WAIT = 5.0


# Told every event the connection does not consume itself (notifications, the handshake's,
# stray responses), synchronously, on the reader's path: it must not block.
NotificationHandler = Callable[[Event], None]


async def serve(request: RequestReceived) -> None:
    """Serve the exchange `request` (its `reply` and `peer` set: `runtime.reply`) with its
    reply's handler, for its peer, in the calling task, and have the reply make its answer,
    which this task then writes. Returns once the answer is handed on, or the request was
    cancelled by the reply's own doing; a cancellation from elsewhere ends the request
    unanswered and propagates."""
    reply: Reply = request.reply
    task = reply.begin(request)
    try:
        # The handler run to its answer here: no coroutine around it.
        result = await reply.handle(request.peer, request)
    except asyncio.CancelledError:
        if reply.cancelled(request, task):
            raise
        return
    except Exception as exc:
        write, args = reply.answered(request, task, None, handler_error(request.method, exc))
    else:
        write, args = reply.answered(request, task, result, None)
    await write(*args)


class Connection:
    """Drives `session` over `channel`; call `run()` in a task, or use `start()`.

    `handlers` holds the task serving each of the peer's requests, by id, from the read that
    started it until it ends or the peer cancels it. `ended` is set once, by `shutdown`:
    from then on nothing more is sent, and every wait ends in ConnectionClosed.
    `_input_closed` is set when the peer stopped sending but may still read (`drain`): our
    new requests are refused, while answers to its requests still go out.
    """

    # Slots: one a session, and thousands of idle sessions are the usual load.
    __slots__ = (
        "_awaiting",
        "_background",
        "_failed_here",
        "_input_closed",
        "_on_event",
        "_reader_task",
        "channel",
        "drain_timeout",
        "ended",
        "handle",
        "handlers",
        "hold_timeouts_while_serving",
        "out",
        "pushed",
        "reader",
        "session",
    )

    def __init__(
        self,
        session: Session,
        channel: MessageChannel,
        *,
        on_request: RequestHandler,
        on_event: NotificationHandler,
        peer: Any = None,
        drain_timeout: float = 2.0,
        hold_timeouts_while_serving: bool = False,
        send_high_water: int = DEFAULT_SEND_HIGH_WATER,
        max_timeout_factor: float = MAX_TIMEOUT_FACTOR,
    ) -> None:
        self.session = session
        self.drain_timeout = drain_timeout
        #: When True (the client's choice), our requests do not time out while we are
        #: answering the peer's requests - a person may be filling an elicitation form for
        #: the very tool call that is waiting - and their timeouts restart once we are done.
        self.hold_timeouts_while_serving = hold_timeouts_while_serving
        self.channel = channel
        #: Serves each of the peer's requests (`runtime.connection.serve`).
        self.handle = on_request
        # The session hands out each request as an exchange: this connection its reply, and
        # `peer` its peer, for whom `handle` serves it (`runtime.reply`).
        answering = session.answering
        answering.reply = self
        answering.peer = peer
        self._on_event = on_event
        self.handlers: dict[RequestId, asyncio.Task[None]] = {}
        self.ended: ConnectionClosed | None = None
        self._input_closed: ConnectionClosed | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()
        #: Our requests' waiters, timeouts, progress callbacks and deadline timer.
        self._awaiting = Awaiting(session, self, self._background, max_timeout_factor)
        # The optional methods of the channel (`RoutedChannel`, `PushingChannel`) used on
        # every message, looked up once.
        extras = extras_of(channel)
        self.out = Outbound(extras, send_high_water, self.shutdown, self._background)
        #: What reads the peer's messages (`run`, or the channel's `feed`).
        self.reader = Reader(self, extras)
        self._failed_here = extras.failed_here
        if self.out.send_routed is not None:
            session.mark_unanswered = True  # so a cancelled request's stream can end
        deliver_to = extras.deliver_to
        #: True when the channel hands bodies to `feed` itself (`PushingChannel`): no reader.
        self.pushed = deliver_to is not None
        # Last: the channel may feed a body at once, and everything above must be in place.
        if deliver_to is not None:
            deliver_to(self.reader)

    @property
    def extras(self) -> ChannelExtras:
        """The channel's optional methods (`mcpkit.runtime.channel.ChannelExtras`)."""
        return extras_of(self.channel)

    @property
    def closed(self) -> bool:
        """Whether the connection has shut down (nothing more is sent or read)."""
        return self.ended is not None

    async def run(self) -> None:
        """Read and dispatch messages until the channel ends (`Reader.run`)."""
        await self.reader.run()

    def start(self) -> asyncio.Task[None]:
        """Run the reader loop in a task and return it (not for a `PushingChannel`'s
        connection, which has no reader: its channel calls `feed`)."""
        self._reader_task = asyncio.get_running_loop().create_task(self.run())
        return self._reader_task

    async def drain(self, exc: ConnectionClosed) -> None:
        """The peer stopped sending (stdin closed, say), though it may still read: let the
        requests it already sent finish and answer, for at most `drain_timeout` seconds.
        Our own requests can get no answer any more, so they fail at once."""
        self._input_closed = exc
        self._awaiting.fail_all(exc)
        handlers = [t for t in self.handlers.values() if not t.done()]
        # Nothing can reach the peer any more, or we are shutting down on purpose: no wait.
        if not self.extras.writable or self.ended is not None or self.drain_timeout <= 0:
            return
        # One deadline for the whole drain: the handlers, then the sending of their answers.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        if handlers:
            await asyncio.wait(handlers, timeout=self.drain_timeout)
        await self.out.wait_idle(max(0.0, deadline - loop.time()))  # their answers

    async def aclose(self) -> None:
        """Close the channel and stop the reader; pending requests fail with ConnectionClosed."""
        # Shut down before the channel closes: the reader, woken by the close, then finds the
        # connection closed and skips the drain that the peer's own end of input gets.
        self.shutdown(ConnectionClosed("the connection was closed"))
        try:
            await self.channel.aclose()
        finally:  # (a close that failed or was cancelled: the reader may still wait on it)
            await self._stop_reader()

    async def _stop_reader(self) -> None:
        """Cancel the reader and wait for it to stop: `aclose`'s last step."""
        reader = self._reader_task
        if reader is None or reader is asyncio.current_task():
            return
        # The caller cancelled meanwhile (its timeout, its task group) still lets the
        # reader stop, for a bounded time, then sees its cancellation raised.
        await end_within(reader, _READER_STOP_WAIT)

    # ----------------------------------------------------------------- sending

    @property
    def send_high_water(self) -> int:
        """Bytes of answers queued for the peer above which reading stops."""
        return self.out.high

    @property
    def send_backlog(self) -> int:
        """Bytes queued for the peer and not yet handed to the channel."""
        return self.out.queued

    async def flush(self, *, answering: bool = True) -> None:
        """Send everything the session has queued, in order. With `answering` (the default:
        a handler's progress, a response) the caller waits while answers to the peer are
        over high water; without, the bytes are ours to send and only their order counts."""
        out = self.session.outbox.take()
        # A request just queued may have the earliest deadline: the timer is armed as it is
        # handed on. (Without one awaited and no timer armed, no deadline changed.)
        awaiting = self._awaiting
        if awaiting.futures or awaiting.timer_at is not None:
            awaiting.arm_timer()
        await self.out.send(out, answering)

    def flush_from_reader(self) -> None:
        """Queue what the session answered itself (a ping, an error) without letting the
        reader become the writer: blocked in a send it would stop reading the peer's
        answers, and a peer doing the same would never drain."""
        out = self.session.outbox.take()
        if out and self.ended is None:
            ob = self.out
            ob.enqueue(out, True)
            if not ob.writing:
                ob.start_writer()
        awaiting = self._awaiting
        if awaiting.futures or awaiting.timer_at is not None:  # (as in `flush`)
            awaiting.arm_timer()

    async def wait_sent(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until everything queued has been handed to the
        channel: the client's connect returns once `notifications/initialized` is sent (over
        HTTP, its GET stream is open then, so nothing the server says next is missed)."""
        await self.out.wait_idle(timeout)

    async def wait_for_room(self) -> None:
        """Return once our own new messages may be queued: at once unless the peer has too
        much unread from us (raises ConnectionClosed if the connection ends meanwhile)."""
        await self.out.room.wait()
        closed = self.ended or self._input_closed
        if closed is not None:
            raise ConnectionClosed(str(closed))

    def _flush_soon(self) -> None:
        """Send what is queued from a task of its own: for callers that cannot await (a timer
        callback) or must not (a task being cancelled)."""
        if self.ended is None:
            self._background.spawn(self.flush(answering=False))

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any:
        """Send a request and wait for its result (raises McpError, RequestTimeout,
        ConnectionClosed), decoded as `result_type` if given (`Session.send_request`).
        Cancelling the awaiting task sends `notifications/cancelled`."""
        closed = self.ended or self._input_closed
        if closed is not None:
            raise ConnectionClosed(str(closed))
        if self.out.queued > self.out.high:
            await self.wait_for_room()
        # The session's deadlines are on the loop's clock, which also fires the timer.
        if timeout is None:
            now = deadline = None
        else:
            now = asyncio.get_running_loop().time()
            deadline = now + timeout
        rid = self.session.send_request(
            method,
            params,
            deadline=deadline,
            progress=on_progress is not None,
            related=related,
            result_type=result_type,
        )
        # The waiter exists before the request is sent: the reader may take its response
        # while this task is still in `flush`, and a response nobody awaits is dropped.
        fut = self._awaiting.wait_for(rid, timeout, method, on_progress, now)
        try:
            # A request sent while serving the peer's (`related`) travels with that answer
            # and is paced as answers are; one of our own only keeps its place in line.
            await self.flush(answering=related is not None)
            return await fut
        except asyncio.CancelledError:
            # Awaiting `fut` cancels it too, so ask the session: it still holds the request
            # only if no response has arrived.
            if self.session.is_pending(rid):
                self.session.cancel_request(rid, "the request was cancelled by the caller")
                # Sent from a task of its own: this one is being cancelled, and an await
                # here could be interrupted before the notification is out.
                self._flush_soon()
            raise
        finally:
            self._awaiting.done(rid)

    def take_forwarded(self, data: bytes) -> None:
        """A response to one of our requests that the peer sent through another process
        (several processes serving one session; `mcpkit.stores.broker`): read as if it had
        come over this connection. Not awaited any more, it is dropped (the session makes it
        a stray, which names this process)."""
        if self.ended is None:
            self.dispatch(self.session.receive_data(data))
            self.flush_from_reader()

    def take_cancel(self, request_id: RequestId, reason: str | None) -> None:
        """The peer cancelled `request_id` through another process serving this session: the
        handler stops here if it runs here."""
        if self.ended is None:
            self.dispatch(self.session.cancel_forwarded(request_id, reason))
            self.flush_from_reader()

    def answer_as_json(self, request_id: RequestId) -> None:
        """Answer the peer's request `request_id` with one JSON object rather than a stream,
        where the channel has the choice (`RoutedChannel.answer_as_json`; over stdio and in
        memory there is none)."""
        answer_as_json = self.extras.answer_as_json
        if answer_as_json is not None:
            answer_as_json(request_id)

    def release_task_progress(self, task_id: str) -> None:
        """Stop passing progress about task `task_id` to the callback of the request that
        created it (the task ended, or its requestor forgot it)."""
        self._awaiting.release_task_progress(task_id)

    async def wait_response(self, rid: RequestId) -> Any:
        """Send what is queued and wait for the response to a request the session already
        queued itself (such as the client's initialize); raises as `request` does."""
        if self.ended is not None:
            raise ConnectionClosed(str(self.ended))
        fut = self._awaiting.wait_for(rid)
        try:
            await self.flush(answering=False)
            return await fut
        finally:
            self._awaiting.done(rid)

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Send a notification. `related` is the peer's request it is sent while serving:
        it travels with that request's answer and is paced as answers are (`flush`)."""
        if self.ended is not None:
            raise ConnectionClosed(str(self.ended))
        # One of our own (a list change, say) waits for room, as our requests do.
        if related is None and self.out.queued > self.out.high:
            await self.wait_for_room()
        self.session.send_notification(method, params, related=related)
        await self.flush(answering=related is not None)

    async def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the connection carrying what `request_id` sends, keeping the request and its
        stream (SEP-1699; `RoutedChannel.close_stream`), once what it sent so far is handed
        to the channel; False when the channel cannot (stdio, memory, a JSON answer)."""
        close = self.extras.close_stream
        if close is None or self.ended is not None:
            return False
        # What the request sent so far is handed over first, so the client gets it before
        # this connection ends rather than when it comes back.
        await self.flush()
        return close(request_id, retry_ms)

    # ---------------------------------------------------------------- dispatch

    def dispatch(self, events: list[Event]) -> None:
        """Act on what the session reported, in the order it happened (a request and its
        cancellation can come in one read). Synchronous: nothing here waits for the peer."""
        for ev in events:
            tp = type(ev)
            if tp is RequestReceived:
                self._spawn_handler(ev)  # type: ignore[arg-type]
            elif tp is ResponseReceived:
                self._awaiting.resolve(ev.request_id, ev.result, None)  # type: ignore[union-attr]
            elif tp is ErrorReceived:
                failed = cast(ErrorReceived, ev)
                self._awaiting.resolve(failed.request_id, None, self._error_of(failed))
            elif tp is RequestCancelled:
                # Forgotten here, not when the task ends: a task cancelled before it first
                # runs (its cancellation came in the same read) never executes its coroutine.
                task = self.handlers.pop(ev.request_id, None)  # type: ignore[union-attr]
                if task is not None:
                    task.cancel()
                    self._maybe_restart_timeouts()
            elif tp is RequestTimedOut:
                self._awaiting.timed_out(cast(RequestTimedOut, ev).request_id)
            elif tp is ProgressReceived:
                self._awaiting.report_progress(ev)  # type: ignore[arg-type]
            else:
                self._on_event(ev)

    def _error_of(self, ev: ErrorReceived) -> BaseException:
        """What the caller of a failed request gets: the peer's error, or, for a request the
        channel could not carry and answered itself, the channel's own exception."""
        if self._failed_here is not None:
            failure = self._failed_here(ev.request_id)
            if failure is not None:
                return failure
        return ev.error

    def _spawn_handler(self, ev: RequestReceived) -> None:
        # A task per request: a long handler never holds up a ping or a cancellation.
        rid = ev.request_id
        loop = asyncio.get_running_loop()
        task = self.handlers[rid] = loop.create_task(serve(ev))
        # `serve` answers every failure of the handler; one of its own (the channel failing
        # in another way than closing) is logged, not left unretrieved.
        task.add_done_callback(log_failure)

    # ---------------------------------------------- the Reply of the session's requests

    # `runtime.connection.serve` serves each of the peer's requests in a task that stands as
    # its handler task: one of its own (`_spawn_handler`), or the one `feed(..., hold=True)`
    # handed it back to (an HTTP POST's). The peer's cancellation and the connection's end
    # cancel it there; the answer goes out through the session, after what it queued before.

    def begin(self, request: RequestReceived) -> asyncio.Task[Any]:
        """The calling task stands as `request`'s handler task from now."""
        task = task_on(asyncio.get_running_loop())  # (`asyncio.current_task()`)
        assert task is not None
        self.handlers[request.request_id] = task
        return task

    def answered(
        self,
        request: RequestReceived,
        task: asyncio.Task[Any] | None,
        result: Any,
        error: McpError | None,
    ) -> Write:
        rid = request.request_id
        handlers = self.handlers
        alone: Outgoing | None = None
        try:
            if error is None:
                # Handed back when it is all there is to send (the usual answer): it goes
                # from here to the channel, never through the session's outbox.
                alone = self.session.answering.answer(rid, result)
            else:
                self.session.send_error(rid, error)
        finally:
            # The handler ended: forgotten, once, here. A cancelled request's id may already
            # serve a new request of the peer's (only ids in flight are refused): the task is
            # forgotten only if it is still the one registered.
            if handlers.get(rid) is task:
                del handlers[rid]
            elif task is not None and task.cancelling():
                task.uncancel()  # cancelled by the connection, and the handler swallowed it
            if self.hold_timeouts_while_serving:  # (`_maybe_restart_timeouts`'s first test)
                self._maybe_restart_timeouts()
        if alone is None:
            return self.flush, ()
        return self.out.send, ([alone],)

    def cancelled(self, request: RequestReceived, task: asyncio.Task[Any] | None) -> bool:
        """Ours when the connection forgot the task before cancelling it (`dispatch`,
        `shutdown`): spent, unless someone else cancelled the task too. Cancelled from
        elsewhere, with the task it ran in, the request ends unanswered, as if the peer had
        cancelled it, so its stream ends too."""
        assert task is not None
        rid = request.request_id
        handlers = self.handlers
        registered = handlers.get(rid) is task
        if registered:
            del handlers[rid]
        elsewhere = registered or task.uncancel() > 0
        if self.hold_timeouts_while_serving:
            self._maybe_restart_timeouts()
        if elsewhere:
            self.session.cancel_forwarded(rid, None)
            self.flush_from_reader()
        return elsewhere

    def _maybe_restart_timeouts(self) -> None:
        """If our timeouts are held while we serve the peer and no handler is left, start
        them again from now, each with its whole length."""
        if self.hold_timeouts_while_serving and not self.handlers and self.ended is None:
            self._awaiting.restart_timeouts()

    def on_deadline(self) -> None:
        """A deadline of one of our requests passed (`Awaiting`'s timer)."""
        if self.hold_timeouts_while_serving and self.handlers:
            return  # re-armed with fresh deadlines when the last handler finishes
        loop = asyncio.get_running_loop()
        # Each expired request's waiter gets RequestTimeout; the session has queued its
        # notifications/cancelled, sent from a task since a timer callback cannot await.
        self.dispatch(self.session.expire(loop.time()))
        self._flush_soon()
        self._awaiting.arm_timer()

    # ---------------------------------------------------------------- shutdown

    def shutdown(self, exc: ConnectionClosed) -> None:
        """End the connection, once: nothing more is sent, every waiter fails, every handler
        is cancelled. `ended` is set first, so that what the rest wakes (a handler's
        CancelledError, a writer waiting for room) finds the connection closed and sends
        nothing."""
        if self.ended is not None:
            return
        self.ended = exc
        self._awaiting.stop_timer()
        self._awaiting.fail_all(exc)
        for task in list(self.handlers.values()):
            task.cancel()
        self.handlers.clear()
        self.out.close()
