"""One upstream session of a proxy (`Link`), and the one way every request is relayed on it:
a 2025 client session's, a 2026-07-28 request's, or a mounted proxy's entry. The request goes
up; its progress and log messages come down to the `Downstream` it was forwarded for; the
upstream server's own requests (sampling, elicitation, roots) go to whoever holds the link
(`Asker`); its other notifications and its end go to the link's `LinkOwner`, which opens and
closes it through `mcpkit.proxy.owned_links`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol, cast

import msgspec

from mcpkit.errors import (
    ConnectionClosed,
    ConnectionFailed,
    LocalProtocolError,
    McpError,
)
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import RELATED_TASK, task_params
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived
from mcpkit.protocol.jsonrpc import field_of, meta_of
from mcpkit.proxy.caller_secrets import without_caller_secrets
from mcpkit.runtime.background import BackgroundTasks, outlast
from mcpkit.runtime.connection import Connection, ProgressCallback
from mcpkit.runtime.task_augmented import created_or_cancelled, quietly
from mcpkit.stores.tasks import is_terminal
from mcpkit.transports.connect import close_opened
from mcpkit.types import InitializeRequestParams, InitializeResult, RequestId

__all__ = [
    "LIST_CHANGES",
    "Asker",
    "Downstream",
    "Link",
    "LinkOwner",
    "LinkSettings",
]

logger = logging.getLogger("mcpkit.proxy")

#: Seconds a second `Link.aclose` waits for the first to end, however often it is cancelled
#: (the first is bounded itself: a stdio upstream is killed within its close's timeouts).
_CLOSE_WAIT: Final = 10.0
#: The upstream's announcements that one of its lists changed.
LIST_CHANGES: Final = frozenset(
    {
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
    }
)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """How every upstream session of one proxy is opened and used."""

    open_channel: Callable[[], Awaitable[tuple[Any, Callable[[], Awaitable[None]]]]]
    connect_timeout: float
    upstream_timeout: float | None
    max_message_size: int
    max_json_depth: int
    send_high_water: int
    #: Pass results down as the upstream's bytes, never decoded (no middleware to show them
    #: to): both sessions speak the same revision, so the shape is already the client's.
    raw_results: bool = False


class Downstream(Protocol):
    """Where the upstream's progress and log messages on one forwarded request go: a client's
    request (`mcpkit.proxy.downstream.Down`), a 2026 call alive across rounds
    (`mcpkit.proxy.round_trips.PendingCall`), or a mounted entry's Context."""

    @property
    def request_id(self) -> RequestId | None: ...

    async def log(self, params: Any) -> None: ...

    async def progress(self, progress: float, total: float | None, message: Any) -> None: ...


class Asker(Protocol):
    """Who holds a link: asked the upstream's own requests, with the forwarded request they
    most likely belong to and where the client's progress on them goes."""

    async def ask(
        self, ev: RequestReceived, related: Downstream | None, on_progress: ProgressCallback | None
    ) -> Any: ...


class LinkOwner(Protocol):
    """What a link belongs to for its life (a 2025 client session, or the pool of 2026
    requests): told the upstream's notifications no forwarded request takes, and its end."""

    #: What a client can do once the upstream session ended, as its error says.
    after_end: ClassVar[str]

    def notified(self, link: Link, method: str, params: Any) -> None: ...

    def ended(self, link: Link) -> None: ...


class Link:
    """One upstream session of a proxy (see the module's docstring)."""

    def __init__(self, settings: LinkSettings, owner: LinkOwner) -> None:
        self.settings = settings
        self.owner = owner
        #: Who the upstream's own requests are asked of (None: refused).
        self.holder: Asker | None = None
        self.connection: Connection | None = None
        self._release: Callable[[], Awaitable[None]] | None = None
        #: Why the upstream session ended, once it has.
        self.ended: str | None = None
        #: The requests being forwarded, oldest first (keyed by their Downstream's id).
        self.serving: dict[int, Downstream] = {}
        #: task id -> the client's `tasks/result` call waiting for it (where the task's
        #: messages go: basic/utilities/tasks, "Input Required Status").
        self._results: dict[str, Downstream] = {}
        self.tasks = BackgroundTasks()
        self.closing = False
        #: Done once `aclose` has ended (its process reaped): a later `aclose` waits for it.
        self._closed: asyncio.Future[None] | None = None
        self.opened = False  # initialize answered: the client session depends on it

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
            on_request=Link._upstream_request,
            peer=self,
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
        self.opened = True
        return result

    async def aclose(self) -> None:
        """End the upstream session (a process is stopped as a client stops it). Called
        again, it waits for the first close to end: whoever closes the proxy knows then
        that a close begun elsewhere (a session's end, in a task of its own) has reaped its
        process too."""
        if self._closed is not None:
            await outlast(self._closed, _CLOSE_WAIT)  # (even when this is cancelled: bounded)
            return
        self._closed = asyncio.get_running_loop().create_future()
        self.closing = True
        conn, self.connection = self.connection, None
        release, self._release = self._release, None
        try:
            await close_opened(conn, release)
        finally:  # (a close that failed, or a release cancelled while it waited)
            self.tasks.cancel_all()
            self._closed.set_result(None)

    # -------------------------------------------------------------- client → up

    async def forward(self, down: Downstream, ev: RequestReceived, params: Any) -> Any:
        """Send a client's request upstream and return the answer; the upstream's progress
        and log messages on it go to `down`. Cancelling the caller (the client cancelled, or
        left) cancels the upstream request (a task-augmented one: the task it made)."""
        result_type: Any = msgspec.Raw if self.settings.raw_results else None
        timeout = self.settings.upstream_timeout
        waited = None
        tasked = False
        if ev.method == "tasks/result":
            # Blocks until the task ends, however long (its ttl bounds it upstream); the
            # result is the underlying request's, whatever it is: passed down as bytes.
            timeout, result_type = None, msgspec.Raw
            waited = field_of(params, "task_id")
            if isinstance(waited, str):
                self._results[waited] = down
        elif task_params(params) is not None:
            tasked = True
            result_type = None  # a CreateTaskResult, decoded so its progress token is kept
        # The caller's secrets (its state key) are this proxy's to read, never the upstream's.
        params = without_caller_secrets(params)
        key = id(down)
        self.serving[key] = down
        # Progress is asked for when the client gave a token, and always for a call holding
        # the link: a later round may give one, and a Context knows whether it has one.
        held = self.holder is not None and id(self.holder) == key
        progress = _ProgressTo(down) if held or ev.progress_token is not None else None
        try:
            sending = self.send(
                ev.method,
                params,
                timeout=None if tasked else timeout,
                progress=progress,
                result_type=result_type,
            )
            if not tasked:
                return await sending
            # A task-augmented request given up on (its timeout passed, or the client went)
            # cancels the task it made with tasks/cancel, not notifications/cancelled, which
            # would leave it working upstream (basic/utilities/cancellation).
            return await created_or_cancelled(ev.method, sending, timeout, self._cancel_task)
        finally:
            self.serving.pop(key, None)
            if waited is not None and self._results.get(waited) is down:
                del self._results[waited]

    async def _cancel_task(self, task_id: str) -> None:
        """Cancel an upstream task nobody waits for (best effort: `quietly`)."""
        await quietly(self.send("tasks/cancel", {"taskId": task_id}), task_id)

    async def send(
        self,
        method: str,
        params: Any,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
        result_type: Any = None,
    ) -> Any:
        """`Connection.request` on the upstream session, its failures said as a client of
        the proxy reads them (also the proxy's own requests: lists, subscriptions)."""
        conn = self.connection
        if conn is None or self.ended is not None:
            raise self._gone()
        try:
            return await conn.request(
                method, params, timeout=timeout, on_progress=progress, result_type=result_type
            )
        except ConnectionClosed:
            raise self._gone() from None
        except ConnectionFailed as exc:  # this request could not reach the upstream (HTTP)
            raise McpError(codes.INTERNAL_ERROR, str(exc)) from None
        except LocalProtocolError as exc:  # the upstream did not declare what it needs
            raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {exc}") from None

    async def notify_upstream(self, method: str, params: Any) -> None:
        conn = self.connection
        if conn is not None and self.ended is None:
            try:
                await conn.notify(method, params)
            except ConnectionClosed:
                pass  # the end is handled by `_upstream_ended`

    def _gone(self) -> McpError:
        why = self.ended or "its connection closed"
        return McpError(
            codes.INTERNAL_ERROR,
            f"the upstream server of this proxy session has ended ({why}); {self.owner.after_end}",
        )

    # -------------------------------------------------------------- up → client

    def related(self, params: Any = None) -> Downstream | None:
        """The forwarded request an upstream message most likely belongs to: the client's
        `tasks/result` call for the task the message names, else the call holding the link,
        else the newest request being forwarded (exact when one is; stdio upstreams say no
        more). Over Streamable HTTP it then goes on that request's stream, which the client
        surely reads."""
        task_id = _related_task(params)
        if task_id is not None:
            waiting = self._results.get(task_id)
            if waiting is not None:
                return waiting
        holder = self.holder
        if holder is not None and id(holder) in self.serving:
            return self.serving[id(holder)]
        return next(reversed(self.serving.values()), None)

    async def _upstream_request(self, ev: RequestReceived) -> Any:
        """Sampling, elicitation, roots or tasks/* asked by the upstream server: asked of
        whoever holds the link."""
        holder = self.holder
        if holder is None:
            raise McpError(
                codes.METHOD_NOT_FOUND,
                f"{ev.method} cannot reach this proxy's client: a 2026-07-28 client can be "
                "asked only while tools/call, prompts/get or resources/read is being served",
            )
        progress = None
        if ev.progress_token is not None:  # our own token goes down; progress goes up
            progress = _ProgressUp(self, ev.request_id, ev.progress_token)
        try:
            return await holder.ask(ev, self.related(ev.params), progress)
        except LocalProtocolError as exc:
            raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {exc}") from None
        except ConnectionClosed:
            raise McpError(
                codes.INTERNAL_ERROR, "the client of this proxy session has gone"
            ) from None

    def _upstream_event(self, ev: Event) -> None:
        """A notification of the upstream server's: a log message to the request it most
        likely belongs to, the rest (and a log message no request takes) to the owner."""
        if not isinstance(ev, NotificationReceived):
            return
        method, params = ev.method, ev.params
        if method == "notifications/message":
            down = self.related(params)
            if down is not None:
                self.pass_on(down.log(params))
                return
        elif method == "notifications/tasks/status":
            self._task_status(params)
        self.owner.notified(self, method, params)

    def pass_on(self, sending: Awaitable[None]) -> None:
        """Send a notification down from a task of its own (the client may be gone by
        then: nothing to tell)."""
        self.tasks.spawn(_quietly(sending))

    def _task_status(self, params: Any) -> None:
        """A task of the client's ended: its progress token is released upstream."""
        conn = self.connection
        status, task_id = field_of(params, "status"), field_of(params, "task_id")
        if conn is not None and isinstance(task_id, str) and is_terminal(str(status)):
            conn.session.release_task_progress(task_id)

    def _upstream_ended(self, reader: asyncio.Task[None]) -> None:
        """The upstream session ended: requests in flight fail with `_gone`'s error."""
        self.ended = "its connection closed"
        self.owner.ended(self)


class _ProgressTo:
    """A progress callback to `down` (a class, so the link keeps no closure per request)."""

    __slots__ = ("down",)

    def __init__(self, down: Downstream) -> None:
        self.down = down

    async def __call__(self, progress: float, total: float | None, message: Any) -> None:
        await self.down.progress(progress, total, message)


class _ProgressUp:
    """The client's progress on a request of the upstream's, under the upstream's token."""

    __slots__ = ("link", "rid", "token")

    def __init__(self, link: Link, rid: RequestId, token: RequestId) -> None:
        self.link, self.rid, self.token = link, rid, token

    async def __call__(self, progress: float, total: float | None, message: Any) -> None:
        conn = self.link.connection
        if conn is None:
            return
        try:
            conn.session.send_progress(self.rid, self.token, progress, total, message)
            await conn.flush()
        except (LocalProtocolError, ConnectionClosed):
            pass


def _related_task(params: Any) -> str | None:
    """The task a message names in its `_meta` ("Associating Task-Related Messages")."""
    meta = meta_of(params)
    related: Any = None if meta is None else meta.get(RELATED_TASK)
    task_id: Any = (
        cast("dict[str, Any]", related).get("taskId") if isinstance(related, dict) else None
    )
    return task_id if isinstance(task_id, str) else None


async def _quietly(sending: Awaitable[None]) -> None:
    try:
        await sending
    except Exception:  # the client may have gone meanwhile
        logger.debug("could not pass a notification on", exc_info=True)
