"""Pump one protocol session over one message channel with asyncio.

One task per inbound request (so a long handler never blocks a ping or a cancellation),
futures for our own requests, one timer for request deadlines. When the channel ends,
every pending request fails at once with ConnectionClosed and running handlers are
cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcpkit.errors import ConnectionClosed, McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
)
from mcpkit.protocol.jsonrpc import RequestId
from mcpkit.protocol.session import Session
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.tasks import BackgroundTasks

__all__ = ["Connection", "NotificationHandler", "ProgressCallback", "RequestHandler"]

logger = logging.getLogger("mcpkit")

RequestHandler = Callable[[RequestReceived], Awaitable[Any]]
NotificationHandler = Callable[[Event], None]
ProgressCallback = Callable[[float, "float | None", "str | None"], Any]


class Connection:
    """Drives `session` over `channel`; call `run()` in a task, or use `start()`."""

    def __init__(self, session: Session, channel: MessageChannel, *,
                 on_request: RequestHandler, on_event: NotificationHandler,
                 drain_timeout: float = 2.0, hold_timeouts_while_serving: bool = False) -> None:
        self.session = session
        self.drain_timeout = drain_timeout
        #: When True (the client's choice), our requests do not time out while we are
        #: answering the peer's requests - a person may be filling an elicitation form for
        #: the very tool call that is waiting - and their timeouts restart once we are done.
        self.hold_timeouts_while_serving = hold_timeouts_while_serving
        self._timeouts: dict[RequestId, tuple[float, str]] = {}  # rid -> (seconds, method)
        self.channel = channel
        self._on_request = on_request
        self._on_event = on_event
        self._futures: dict[RequestId, asyncio.Future[Any]] = {}
        self._progress: dict[RequestId, ProgressCallback] = {}
        self._handlers: dict[RequestId, asyncio.Task[None]] = {}
        self._closed: ConnectionClosed | None = None
        self._input_closed: ConnectionClosed | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._reader: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def start(self) -> asyncio.Task[None]:
        """Run the reader loop in a task and return it."""
        self._reader = asyncio.get_running_loop().create_task(self.run())
        return self._reader

    async def run(self) -> None:
        """Read and dispatch messages until the channel ends."""
        receive = self.channel.receive
        try:
            while True:
                data = await receive()
                self._dispatch(self.session.receive_data(data))
                await self.flush()
        except ConnectionClosed as exc:
            await self._drain(exc)
            self._shutdown(exc)
        except asyncio.CancelledError:
            self._shutdown(ConnectionClosed("the connection was closed"))
            raise
        except Exception as exc:
            logger.exception("mcpkit connection failed")
            self._shutdown(ConnectionClosed(f"the connection failed: {exc!r}"))

    async def _drain(self, exc: ConnectionClosed) -> None:
        """The peer stopped sending (stdin closed, say), though it may still read: let the
        requests it already sent finish and answer, for at most `drain_timeout` seconds.
        Our own requests can get no answer any more, so they fail at once."""
        self._input_closed = exc
        self._fail_waiting(exc)
        handlers = [t for t in self._handlers.values() if not t.done()]
        writable = getattr(self.channel, "writable", True)
        if handlers and writable and self._closed is None and self.drain_timeout > 0:
            await asyncio.wait(handlers, timeout=self.drain_timeout)

    async def aclose(self) -> None:
        """Close the channel and stop the reader; pending requests fail with ConnectionClosed."""
        self._shutdown(ConnectionClosed("the connection was closed"))
        await self.channel.aclose()
        reader = self._reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            try:
                await reader
            except (asyncio.CancelledError, Exception):
                pass

    # ----------------------------------------------------------------- sending

    async def flush(self) -> None:
        """Send everything the session has queued."""
        out = self.session.data_to_send()
        if not out:
            return
        if self._closed is not None:
            return
        send = self.channel.send
        try:
            for item in out:
                await send(item.data)
        except ConnectionClosed as exc:
            self._shutdown(exc)
        self._arm_timer()

    def _flush_soon(self) -> None:
        if self._closed is None:
            self._background.spawn(self.flush())

    async def request(self, method: str, params: Any = None, *, timeout: float | None = None,
                      on_progress: ProgressCallback | None = None,
                      related: RequestId | None = None) -> Any:
        """Send a request and wait for its result (raises McpError, RequestTimeout,
        ConnectionClosed). Cancelling the awaiting task sends `notifications/cancelled`."""
        closed = self._closed or self._input_closed
        if closed is not None:
            raise ConnectionClosed(str(closed))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout is not None else None
        rid = self.session.send_request(method, params, deadline=deadline,
                                        progress=on_progress is not None, related=related)
        fut: asyncio.Future[Any] = loop.create_future()
        self._futures[rid] = fut
        if timeout is not None:
            self._timeouts[rid] = (timeout, method)
        if on_progress is not None:
            self._progress[rid] = on_progress
        try:
            await self.flush()
            return await fut
        except asyncio.CancelledError:
            # Awaiting `fut` cancels it too, so ask the session: it still holds the request
            # only if no response has arrived.
            if self.session.is_pending(rid):
                self.session.cancel_request(rid, "the request was cancelled by the caller")
                self._flush_soon()
            raise
        finally:
            self._futures.pop(rid, None)
            self._progress.pop(rid, None)
            self._timeouts.pop(rid, None)

    async def wait_response(self, rid: RequestId) -> Any:
        """Send what is queued and wait for the response to a request the session already
        queued itself (such as the client's initialize); raises as `request` does."""
        if self._closed is not None:
            raise ConnectionClosed(str(self._closed))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures[rid] = fut
        try:
            await self.flush()
            return await fut
        finally:
            self._futures.pop(rid, None)

    async def notify(self, method: str, params: Any = None, *,
                     related: RequestId | None = None) -> None:
        if self._closed is not None:
            raise ConnectionClosed(str(self._closed))
        self.session.send_notification(method, params, related=related)
        await self.flush()

    # ---------------------------------------------------------------- dispatch

    def _dispatch(self, events: list[Event]) -> None:
        for ev in events:
            tp = type(ev)
            if tp is RequestReceived:
                self._spawn_handler(ev)  # type: ignore[arg-type]
            elif tp is ResponseReceived:
                self._resolve(ev.request_id, ev.result, None)  # type: ignore[union-attr]
            elif tp is ErrorReceived:
                self._resolve(ev.request_id, None, ev.error)  # type: ignore[union-attr]
            elif tp is RequestCancelled:
                task = self._handlers.get(ev.request_id)  # type: ignore[union-attr]
                if task is not None:
                    task.cancel()
            elif tp is RequestTimedOut:
                rid = ev.request_id  # type: ignore[union-attr]
                timeout, method = self._timeouts.get(rid, (None, "request"))
                within = f" within {timeout:g} s" if timeout is not None else ""
                self._resolve(rid, None, RequestTimeout(
                    f"{method} (id {rid}) got no response{within}; the peer was told to "
                    "cancel it"))
            elif tp is ProgressReceived:
                self._report_progress(ev)  # type: ignore[arg-type]
            else:
                self._on_event(ev)

    def _resolve(self, rid: RequestId, result: Any, error: BaseException | None) -> None:
        fut = self._futures.get(rid)
        if fut is None or fut.done():
            return
        if error is None:
            fut.set_result(result)
        else:
            fut.set_exception(error)

    def _restart_timeouts(self, only: RequestId | None = None) -> None:
        now = asyncio.get_running_loop().time()
        items = self._timeouts.items() if only is None else (
            [(only, self._timeouts[only])] if only in self._timeouts else [])
        for rid, (timeout, _) in list(items):
            self.session.restart_deadline(rid, now + timeout)
        self._arm_timer()

    def _report_progress(self, ev: ProgressReceived) -> None:
        self._restart_timeouts(ev.request_id)  # the peer is working on it
        callback = self._progress.get(ev.request_id)
        if callback is None:
            return
        try:
            outcome = callback(ev.progress, ev.total, ev.message)
        except Exception:
            logger.exception("progress callback failed")
            return
        if asyncio.iscoroutine(outcome):
            self._background.spawn(outcome)

    def _spawn_handler(self, ev: RequestReceived) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(ev))
        self._handlers[ev.request_id] = task

    async def _serve(self, ev: RequestReceived) -> None:
        rid = ev.request_id
        session = self.session
        try:
            result = await self._on_request(ev)
        except McpError as exc:
            session.send_error(rid, exc)
        except asyncio.CancelledError:
            # Cancelled by the peer (the session already forgot the request, so no response
            # goes out) or by shutdown.
            self._handler_done(rid)
            return
        except Exception as exc:
            logger.exception("handler for %s failed", ev.method)
            session.send_error(rid, McpError(codes.INTERNAL_ERROR, f"Internal error: {exc}"))
        else:
            session.send_response(rid, result)
        self._handler_done(rid)
        await self.flush()

    def _handler_done(self, rid: RequestId) -> None:
        self._handlers.pop(rid, None)
        if self.hold_timeouts_while_serving and not self._handlers and self._closed is None:
            self._restart_timeouts()

    # ------------------------------------------------------------------ timers

    def _arm_timer(self) -> None:
        deadline = self.session.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.hold_timeouts_while_serving and self._handlers:
            return  # re-armed with fresh deadlines when the last handler finishes
        loop = asyncio.get_running_loop()
        self._dispatch(self.session.expire(loop.time()))
        self._flush_soon()
        self._arm_timer()

    # ---------------------------------------------------------------- shutdown

    def _fail_waiting(self, exc: ConnectionClosed) -> None:
        """Our requests can get no answer any more: fail everyone awaiting one."""
        for fut in self._futures.values():
            if not fut.done():
                fut.set_exception(ConnectionClosed(str(exc)))

    def _shutdown(self, exc: ConnectionClosed) -> None:
        if self._closed is not None:
            return
        self._closed = exc
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fail_waiting(exc)
        for task in list(self._handlers.values()):
            task.cancel()
        self._handlers.clear()
