"""One upstream session serving one client session of a proxy: requests go up, and the
upstream server's notifications and own requests (sampling, elicitation, roots) come down."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.errors import ConnectionClosed, ConnectionFailed, LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import RELATED_TASK, task_params
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.connection import Connection, ProgressCallback
from mcpkit.stores.tasks import is_terminal
from mcpkit.transports.connect import close_opened
from mcpkit.types import (
    InitializeRequestParams,
    InitializeResult,
    ProgressNotificationParams,
    RequestId,
)

if TYPE_CHECKING:
    from mcpkit.server.session import ServerSessionHandle

__all__ = ["Link", "LinkSettings", "UpstreamLink"]

logger = logging.getLogger("mcpkit.proxy")

#: Change announcements: coalesced per session as the server's own are.
_ANNOUNCED = frozenset(
    {
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
    }
)
#: Passed down as they are; a log message goes with the call it most likely belongs to.
_PASSED = frozenset(
    {
        "notifications/resources/updated",
        "notifications/elicitation/complete",
        "notifications/tasks/status",
    }
)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """How every upstream session of one proxy is opened and used."""

    open_channel: Callable[[], Awaitable[tuple[Any, Callable[[], Awaitable[None]]]]]
    connect_timeout: float
    upstream_timeout: float | None
    downstream_timeout: float | None
    max_message_size: int
    max_json_depth: int
    send_high_water: int
    #: Pass results down as the upstream's bytes, never decoded (no middleware to show them
    #: to): both sessions speak the same revision, so the shape is already the client's.
    raw_results: bool = False


class Link:
    """One upstream session of a proxy: what goes up. Where the upstream's own requests and
    notifications go down is a subclass's (`UpstreamLink`: one client session; the 2026
    pool's `PooledLink`: the request it serves)."""

    def __init__(self, settings: LinkSettings) -> None:
        self.settings = settings
        self.connection: Connection | None = None
        self._release: Callable[[], Awaitable[None]] | None = None
        #: Why the upstream session ended, once it has.
        self.ended: str | None = None
        #: Client requests being forwarded, oldest first.
        self._forwarded: dict[RequestId, None] = {}
        #: task id -> the client's `tasks/result` call waiting for it (where the task's
        #: messages go: basic/utilities/tasks, "Input Required Status").
        self._results: dict[str, RequestId] = {}
        self._tasks = BackgroundTasks()
        self._closing = False
        self._opened = False  # initialize answered: the client session depends on it

    # ----------------------------------------------------------------- opening

    async def open(self, params: InitializeRequestParams) -> InitializeResult:
        """Open the upstream session as this client: its info, its capabilities and its
        requested revision; returns the upstream's answer."""
        settings = self.settings
        channel, self._release = await settings.open_channel()
        session = ClientSession(
            params.client_info,
            params.capabilities,
            max_message_size=settings.max_message_size,
            max_json_depth=settings.max_json_depth,
        )
        conn = Connection(
            session,
            channel,
            on_request=self._upstream_request,
            on_event=self._upstream_event,
            hold_timeouts_while_serving=True,  # a person may be answering an elicitation
            send_high_water=settings.send_high_water,
        )
        self.connection = conn
        conn.start().add_done_callback(self._upstream_ended)
        rid = session.start(params.protocol_version)
        try:
            async with asyncio.timeout(settings.connect_timeout):
                await conn.wait_response(rid)
        except TimeoutError:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"the upstream server did not answer initialize within "
                f"{settings.connect_timeout} s (connect_timeout)",
            ) from None
        await conn.flush()  # notifications/initialized
        result = session.initialize_result
        assert result is not None
        self._opened = True
        return result

    async def aclose(self) -> None:
        """End the upstream session (a process is stopped as a client stops it)."""
        self._closing = True
        conn, self.connection = self.connection, None
        release, self._release = self._release, None
        await close_opened(conn, release)
        self._tasks.cancel_all()

    # -------------------------------------------------------------- client → up

    async def forward(
        self, ev: RequestReceived, params: Any, progress: ProgressCallback | None = None
    ) -> Any:
        """Send the client's request upstream and return the answer; the upstream's progress
        on it goes to `progress`. Cancelling the caller (the client cancelled, or left)
        cancels the upstream request."""
        conn = self.connection
        if conn is None or self.ended is not None:
            raise self._gone()
        timeout = self.settings.upstream_timeout
        result_type: Any = msgspec.Raw if self.settings.raw_results else None
        waited = None
        if ev.method == "tasks/result":
            # Blocks until the task ends, however long (its ttl bounds it upstream); the
            # result is the underlying request's, whatever it is: passed down as bytes.
            timeout, result_type = None, msgspec.Raw
            waited = getattr(params, "task_id", None)
            if isinstance(waited, str):
                self._results[waited] = ev.request_id
        elif task_params(params) is not None:
            result_type = None  # a CreateTaskResult, decoded so its progress token is kept
        self._forwarded[ev.request_id] = None
        try:
            return await conn.request(
                ev.method, params, timeout=timeout, on_progress=progress, result_type=result_type
            )
        except ConnectionClosed:
            raise self._gone() from None
        except ConnectionFailed as exc:  # this request could not reach the upstream (HTTP)
            raise McpError(codes.INTERNAL_ERROR, str(exc)) from None
        except LocalProtocolError as exc:  # the upstream did not declare what it needs
            raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {exc}") from None
        finally:
            self._forwarded.pop(ev.request_id, None)
            if waited is not None and self._results.get(waited) == ev.request_id:
                del self._results[waited]

    async def notify_upstream(self, method: str, params: Any) -> None:
        conn = self.connection
        if conn is not None and self.ended is None:
            try:
                await conn.notify(method, params)
            except ConnectionClosed:
                pass  # the end is handled by `_upstream_ended`

    #: What the client can do once the upstream session ended, as its error says.
    _after_end = "start a new session to reconnect"

    def _gone(self) -> McpError:
        why = self.ended or "its connection closed"
        return McpError(
            codes.INTERNAL_ERROR,
            f"the upstream server of this proxy session has ended ({why}); {self._after_end}",
        )

    async def _progress_up(
        self, rid: RequestId, token: RequestId, progress: float, total: float | None, msg: Any
    ) -> None:
        """The client's progress on a request of the upstream's, under the upstream's token."""
        conn = self.connection
        if conn is None:
            return
        try:
            conn.session.send_progress(rid, token, progress, total, msg)
            await conn.flush()
        except (LocalProtocolError, ConnectionClosed):
            pass

    def _task_status(self, params: Any) -> None:
        """A task of the client's ended: its progress token is released upstream."""
        conn = self.connection
        status, task_id = getattr(params, "status", None), getattr(params, "task_id", None)
        if conn is not None and isinstance(task_id, str) and is_terminal(str(status)):
            conn.session.release_task_progress(task_id)

    async def _upstream_request(self, ev: RequestReceived) -> Any:
        """A request of the upstream server's (sampling, elicitation, roots, tasks/*)."""
        raise NotImplementedError

    def _upstream_event(self, ev: Event) -> None:
        """A notification of the upstream server's."""

    def _upstream_ended(self, reader: asyncio.Task[None]) -> None:
        """The upstream session ended: requests in flight fail with `_gone`'s error."""
        self.ended = "its connection closed"


class UpstreamLink(Link):
    """The upstream session of one client session (`handle`)."""

    def __init__(self, settings: LinkSettings, handle: ServerSessionHandle) -> None:
        super().__init__(settings)
        self.handle = handle

    async def forward(
        self, ev: RequestReceived, params: Any, progress: ProgressCallback | None = None
    ) -> Any:
        if progress is None and ev.progress_token is not None:
            # our own token goes up; progress comes down under the client's
            progress = functools.partial(self._progress, ev.request_id, ev.progress_token)
        return await super().forward(ev, params, progress)

    async def _progress(
        self, rid: RequestId, token: RequestId, progress: float, total: float | None, msg: Any
    ) -> None:
        handle = self.handle
        try:  # basic/utilities/progress: under the client's own token
            if handle.protocol.is_inflight(rid):
                handle.protocol.send_progress(rid, token, progress, total, msg)
                await handle.connection.flush()
            else:  # the request made a task: its token lives on with the task (tasks,
                # "Task Progress Notifications"); the upstream keeps it increasing
                params = ProgressNotificationParams(
                    progress_token=token, progress=progress, total=total, message=msg
                )
                await handle.notify("notifications/progress", params)
        except (LocalProtocolError, ConnectionClosed):
            pass  # progress that does not increase, or a client gone: nothing to tell

    # -------------------------------------------------------------- up → client

    def _related(self, params: Any = None) -> RequestId | None:
        """The client request an upstream message most likely belongs to: the client's
        `tasks/result` call for the task the message names, else the newest request being
        forwarded (exact when one is; stdio upstreams say no more). Over Streamable HTTP it
        then goes on that request's stream, which the client surely reads."""
        task_id = _related_task(params)
        if task_id is not None:
            waiting = self._results.get(task_id)
            if waiting is not None:
                return waiting
        return next(reversed(self._forwarded), None)

    async def _upstream_request(self, ev: RequestReceived) -> Any:
        """Sampling, elicitation, roots or tasks/* asked by the upstream server: asked of the
        client."""
        timeout = self.settings.downstream_timeout
        result_type = None
        if ev.method == "tasks/result":  # waits for the client's task; any result
            timeout, result_type = math.inf, msgspec.Raw
        progress = None
        if ev.progress_token is not None:  # our own token goes down; progress goes up
            progress = functools.partial(self._progress_up, ev.request_id, ev.progress_token)
        try:
            return await self.handle.connection.request(
                ev.method,
                ev.params,
                timeout=timeout,
                related=self._related(ev.params),
                result_type=result_type,
                on_progress=progress,
            )
        except LocalProtocolError as exc:
            raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {exc}") from None
        except ConnectionClosed:
            raise McpError(
                codes.INTERNAL_ERROR, "the client of this proxy session has gone"
            ) from None

    def _upstream_event(self, ev: Event) -> None:
        if not isinstance(ev, NotificationReceived) or not self.handle.notifiable:
            return
        method = ev.method
        if method in _ANNOUNCED:
            announcing = self.handle.announce(method)
            if announcing is not None:
                self._tasks.spawn(_quietly(announcing))
        elif method == "notifications/message":
            related = self._related(ev.params)
            self._tasks.spawn(_quietly(self.handle.notify(method, ev.params, related=related)))
        elif method in _PASSED:
            if method == "notifications/tasks/status":
                self._task_status(ev.params)
            self._tasks.spawn(_quietly(self.handle.notify(method, ev.params)))

    def _upstream_ended(self, reader: asyncio.Task[None]) -> None:
        """The upstream session ended (its process died, say): requests in flight fail
        with an error that says so, then the client session ends too, so a client over
        Streamable HTTP opens a new one (404: basic/transports, "Session Management")
        and with it a new upstream session."""
        super()._upstream_ended(reader)
        if self._closing or not self._opened:
            return  # closed by us, or failing `open`, whose error answers initialize
        logger.warning("the upstream server ended; ending its client session too")
        self._tasks.spawn(self._end_client_session())

    async def _end_client_session(self) -> None:
        connection = self.handle.connection
        # The failed requests' answers are queued by now (their handlers ran first): send
        # them, at most for a while, then end.
        try:
            await connection.flush()
            await connection.wait_sent(2.0)
        except ConnectionClosed:
            pass
        await connection.aclose()


def _related_task(params: Any) -> str | None:
    """The task a message names in its `_meta` ("Associating Task-Related Messages")."""
    meta: Any = getattr(params, "meta", None)
    if isinstance(params, dict):
        meta = cast("dict[str, Any]", params).get("_meta")
    related: Any = (
        cast("dict[str, Any]", meta).get(RELATED_TASK) if isinstance(meta, dict) else None
    )
    task_id: Any = (
        cast("dict[str, Any]", related).get("taskId") if isinstance(related, dict) else None
    )
    return task_id if isinstance(task_id, str) else None


async def _quietly(sending: Awaitable[None]) -> None:
    try:
        await sending
    except Exception:  # the session may have ended meanwhile
        logger.debug("could not pass a notification on", exc_info=True)
