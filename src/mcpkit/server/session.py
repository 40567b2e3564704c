"""The server's view of one connected client: its handshake facts, log level and subscriptions.

`ServerSessionHandle` wraps the runtime connection with the server-to-client operations a
handler may use (log messages, requests to the client, notifications), each checked against
what the client declared.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from collections.abc import Set as AbstractSet
from typing import Any, Protocol, cast

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.capabilities import has_capability, task_params
from mcpkit.protocol.events import Event, InitializedReceived, InitializeReceived, RequestReceived
from mcpkit.protocol.modern import CachePolicy
from mcpkit.protocol.phases import SERVER_PHASES
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import LOG_LEVEL_NAMES, Terms
from mcpkit.runtime.awaiting import ProgressCallback
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.task_augmented import created_or_cancelled
from mcpkit.server.asking.asks import AskBudget
from mcpkit.server.tasks.requestor import cancel_quietly
from mcpkit.stores.sessions import SessionRecord, new_session_id
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    ListRootsResult,
    LoggingLevel,
    LoggingMessageNotificationParams,
    RequestId,
    Root,
)

__all__ = [
    "LOG_LEVELS",
    "OwningServer",
    "Peer",
    "ServerSessionHandle",
    "SessionPeer",
    "log_message_params",
    "session_of",
]

# server/utilities/logging: RFC 5424 severities, least to most severe.
LOG_LEVELS: dict[str, int] = {name: rank for rank, name in enumerate(LOG_LEVEL_NAMES)}


class Peer(Protocol):
    """The client of a request, as its handler sees it (`ctx.session`): what every client
    offers, whether the request came on a session (`ServerSessionHandle`) or carries its own
    terms and belongs to none (`mcpkit.server.request_peer.RequestPeer`). What only a session
    can do is `SessionPeer`'s: ask `isinstance(peer, ServerSessionHandle)` where it is needed."""

    @property
    def server_info(self) -> Implementation:
        """The server's info, in whose name the request is answered (a proxy gives its
        upstream's)."""
        ...

    @server_info.setter
    def server_info(self, info: Implementation) -> None: ...

    @property
    def terms(self) -> Terms[Any] | None:
        """What the client's requests are served under when they carry no terms of their own."""
        ...

    @property
    def client_info(self) -> Implementation | None:
        """What the client said of itself: in `initialize`, or in a modern request's terms
        (None before a handshake)."""
        ...

    @property
    def client_capabilities(self) -> ClientCapabilities:
        """What the client declared it can do; every request to it is checked against this
        (basic/lifecycle, "Operation": only negotiated capabilities may be used)."""
        ...

    @property
    def protocol_version(self) -> str | None:
        """The revision the request is served under (None before a handshake)."""
        ...

    @property
    def log_level(self) -> str | None:
        """The least severe level the client wants. None means every level from a session
        (nothing set with logging/setLevel) and no level at all from a modern request, which
        gets log messages only by asking in its `_meta` (server/utilities/logging, 2026-07-28,
        "Per-request log level")."""
        ...

    @property
    def cache(self) -> CachePolicy:
        """The server's cache terms for its answers (2026-07-28 `_meta`)."""
        ...

    @property
    def all_revisions(self) -> tuple[str, ...]:
        """Every revision the server speaks (server/discover)."""
        ...

    @property
    def closed(self) -> bool:
        """Whether nothing more can reach the client."""
        ...

    def is_inflight(self, request_id: RequestId) -> bool:
        """Whether `request_id` is still being served (neither answered nor cancelled)."""
        ...

    def wants_log(self, level: str) -> bool: ...

    def log_params(
        self, level: str, data: Any, logger: str | None
    ) -> LoggingMessageNotificationParams | None: ...

    async def log(
        self, level: str, data: Any, *, logger: str | None = None, related: RequestId | None = None
    ) -> None: ...

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Send a notification; `related` names the request it is about, whose stream
        carries it over Streamable HTTP."""
        ...

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        """Queue progress on `request_id` (sent by the next `flush`)."""
        ...

    async def flush(self) -> None:
        """Send what is queued (progress)."""
        ...

    def answer_as_json(self, request_id: RequestId) -> None:
        """Answer `request_id` with one JSON object rather than a stream, where the transport
        has the choice (a poll of a task)."""
        ...


class SessionPeer(Peer, Protocol):
    """What only a session's client offers (`ServerSessionHandle`): its id, resource
    subscriptions, requests to the client outside the answer of a call, its streams and its
    runtime. A modern request has none of it (no id either: what is kept
    per session is kept for no one there, `mcpkit.server.catalog.callers.lasting_session`)."""

    @property
    def id(self) -> str:
        """The session's one id (its Mcp-Session-Id over Streamable HTTP)."""
        ...

    @property
    def connection(self) -> Connection: ...

    @property
    def protocol(self) -> ServerSession: ...

    @property
    def subscriptions(self) -> AbstractSet[str]:
        """The resource URIs the client subscribed to (server/resources, "Subscriptions")."""
        ...

    def subscribe(self, uri: str) -> None: ...

    def unsubscribe(self, uri: str) -> None: ...

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        """LocalProtocolError if the lifecycle or the client's capabilities forbid sending
        this request; for a request that goes out later, on a task's behalf."""
        ...

    async def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the connection carrying `request_id`'s stream, keeping the request and the
        stream, for the client to reconnect after `retry_ms` (SEP-1699); False where the
        channel cannot (stdio, memory, a JSON answer)."""
        ...

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        on_progress: ProgressCallback | None = None,
        result_type: Any = None,
    ) -> Any: ...


class OwningServer(Protocol):
    """The server a session belongs to, as the session needs it (`mcpkit.Server`): where its
    requests and events go, and the bounds on its own requests to the client. Named here, so
    that this module sits below the server that builds sessions and never imports it."""

    @property
    def request_timeout(self) -> float | None: ...

    @property
    def asks(self) -> AskBudget: ...

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any: ...

    def handle_event(self, handle: ServerSessionHandle, ev: Event) -> None: ...


def log_message_params(
    level: str, data: Any, logger: str | None, wanted: str | None
) -> LoggingMessageNotificationParams | None:
    """The params of a log message at `level`, or None below `wanted`, the level the client
    asked for (None: it asked for no message at all); ValueError for a level that is none."""
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
    if wanted is None or LOG_LEVELS[level] < LOG_LEVELS[wanted]:
        return None
    return LoggingMessageNotificationParams(
        level=cast("LoggingLevel", level), data=data, logger=logger
    )


def session_of(peer: Peer, method: str) -> ServerSessionHandle:
    """`peer` as the session `method` needs (resources/subscribe...); LocalProtocolError for
    the client of a modern request, which has none."""
    if not isinstance(peer, ServerSessionHandle):
        raise LocalProtocolError(f"{method} needs a session; this request has none")
    return peer


class HeldSessions(set["ServerSessionHandle"]):
    """The sessions one process serves (`Server.sessions`), a set that also finds a session
    by its id at once: a client's answer or cancel forwarded by another process names only
    the session, and scanning thousands of idle sessions for each would cost as many
    compares. Where two copies of one session meet (a restore racing a refresh), the id
    names the newer, until it is discarded."""

    __slots__ = ("_by_id", "_on_left")

    def __init__(self, on_left: Callable[[ServerSessionHandle], None] | None = None) -> None:
        """`on_left` is told of each session discarded (what its client followed may no
        longer be followed by anyone: `Server.sync_subscriptions`)."""
        super().__init__()
        self._by_id: dict[str, ServerSessionHandle] = {}
        self._on_left = on_left

    def add(self, handle: ServerSessionHandle) -> None:
        super().add(handle)
        self._by_id[handle.id] = handle

    def discard(self, element: object) -> None:
        held = element in self
        super().discard(element)
        if isinstance(element, ServerSessionHandle):
            # Only while the id still names this copy: a newer copy of the same session keeps
            # its entry when the older one leaves.
            if self._by_id.get(element.id) is element:
                del self._by_id[element.id]
            # Told only of a session that was held: discarding one twice is no departure.
            if held and self._on_left is not None:
                self._on_left(element)

    def remove(self, element: ServerSessionHandle) -> None:
        if element not in self:
            raise KeyError(element)
        self.discard(element)

    def clear(self) -> None:
        """Forget every session, and the index with them, so that `by_id` never finds one
        the set no longer holds (`on_left` is not told)."""
        super().clear()
        self._by_id.clear()

    def by_id(self, session_id: str) -> ServerSessionHandle | None:
        """This process's copy of session `session_id`, if it serves one."""
        return self._by_id.get(session_id)


class ServerSessionHandle:
    """One client session of a `Server`: its live connection, and its `record`
    (`mcpkit.stores.sessions.SessionRecord`), which holds everything about it that outlives a
    request: its id, what `initialize` settled (the protocol session keeps its terms there),
    its log level and subscriptions, its owner. `Server.restore` builds a handle from a saved
    record. `dirty` says the record changed since it was built, read back or last written
    (the HTTP app writes it to its session store then: `transports.deployment.session_records`)."""

    # Slots, and sets made when first needed: thousands of idle HTTP sessions each hold one.
    __slots__ = ("_announcing", "connection", "dirty", "record", "server")

    def __init__(
        self,
        server: OwningServer,
        connect: Callable[[ServerSessionHandle], Connection],
        record: SessionRecord | None = None,
    ) -> None:
        """`connect` builds the runtime under the session, given this handle to dispatch to;
        `record` is the session's (a new one, with a fresh id, by default)."""
        self.server = server
        self.record = record if record is not None else SessionRecord(id=new_session_id())
        self.connection = connect(self)
        # What the handshake settles goes on the record, and only there.
        protocol = self.connection.session
        if isinstance(protocol, ServerSession):
            protocol.keep_terms_in(self.record)
        self._announcing: set[str] | None = None
        self.dirty = False

    @property
    def id(self) -> str:
        """The session's one id (its Mcp-Session-Id over Streamable HTTP)."""
        return self.record.id

    def refresh(self, record: SessionRecord) -> None:
        """Take what another process serving this session changed (`record`, read back from
        the store): the client's `notifications/initialized`, its log level, its
        subscriptions, its own visibility rules (`ctx.disable_components()`). What the
        handshake settled never changes. The record is then as read: not `dirty`, so this
        copy writes nothing back over what the other process wrote."""
        mine = self.record
        if record.initialized and not mine.initialized:
            mine.initialized = True
            self.protocol.initialized_elsewhere()
        mine.log_level = record.log_level
        mine.subscriptions = record.subscriptions
        mine.components = record.components
        self.dirty = False

    @property
    def log_level(self) -> str | None:
        """The level the client set with logging/setLevel; None sends every level."""
        return self.record.log_level

    @log_level.setter
    def log_level(self, level: str | None) -> None:
        record = self.record
        if level != record.log_level:
            record.log_level = level
            self.dirty = True

    async def run(self) -> None:
        """Serve the session until its channel ends."""
        await self.connection.run()

    def on_event(self, ev: Event) -> None:
        tp = type(ev)
        if tp is InitializeReceived:  # the protocol session settled its terms on the record
            self.dirty = True
            self.server.handle_event(self, ev)  # (typed middleware may watch the handshake)
        elif tp is InitializedReceived:
            self.record.initialized = True
            self.dirty = True
        else:
            self.server.handle_event(self, ev)

    @property
    def subscriptions(self) -> AbstractSet[str]:
        """The resource URIs the client subscribed to (server/resources, "Subscriptions")."""
        return self.record.subscriptions

    @property
    def pending_announcements(self) -> AbstractSet[str]:
        """Change notifications (`notifications/tools/list_changed`...) waiting for room."""
        return self._announcing or frozenset()

    def subscribe(self, uri: str) -> None:
        record = self.record
        if uri not in record.subscriptions:
            record.subscriptions = record.subscriptions | {uri}
            self.dirty = True

    def unsubscribe(self, uri: str) -> None:
        record = self.record
        if uri in record.subscriptions:
            record.subscriptions = record.subscriptions - {uri}
            self.dirty = True

    @property
    def protocol(self) -> ServerSession:
        """The protocol session under the handle. Always a ServerSession, since `connect`
        builds a server's runtime; the assert narrows the runtime's wider type."""
        session = self.connection.session
        assert isinstance(session, ServerSession)
        return session

    @property
    def terms(self) -> Terms[Any] | None:
        return self.protocol.terms

    @property
    def server_info(self) -> Implementation:
        return self.protocol.server_info

    @server_info.setter
    def server_info(self, info: Implementation) -> None:
        self.protocol.server_info = info

    @property
    def cache(self) -> CachePolicy:
        return self.protocol.modern.cache

    @property
    def all_revisions(self) -> tuple[str, ...]:
        return self.protocol.modern.all_revisions

    @property
    def closed(self) -> bool:
        return self.connection.closed

    def is_inflight(self, request_id: RequestId) -> bool:
        return self.protocol.is_inflight(request_id)

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        self.protocol.send_progress(request_id, token, progress, total, message)

    async def flush(self) -> None:
        await self.connection.flush()

    def answer_as_json(self, request_id: RequestId) -> None:
        self.connection.answer_as_json(request_id)

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        self.protocol.check_outbound_request(method, params)

    async def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        return await self.connection.close_stream(request_id, retry_ms)

    @property
    def client_info(self) -> Implementation | None:
        return self.protocol.client_info

    @property
    def client_capabilities(self) -> ClientCapabilities:
        return self.protocol.client_capabilities

    @property
    def protocol_version(self) -> str | None:
        return self.protocol.revision

    @property
    def operating(self) -> bool:
        """Whether the client has sent `notifications/initialized`."""
        return self.protocol.phase == "operating" and not self.connection.closed

    @property
    def notifiable(self) -> bool:
        """Whether notifications may be sent: once `initialize` has been answered (the
        phase's `notifies`, `mcpkit.protocol.phases`)."""
        return SERVER_PHASES[self.protocol.phase].notifies and not self.connection.closed

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        on_progress: ProgressCallback | None = None,
        result_type: Any = None,
    ) -> Any:
        """Send a request to the client and return its result, decoded as `result_type` (the
        method's own type when None), counted against the server's
        `max_pending_client_requests` while it waits. A task-augmented request (params with
        `task`) given up on (its timeout passed, or the caller cancelled) cancels the task
        the client made with `tasks/cancel`, not `notifications/cancelled`
        (`runtime.task_augmented`)."""
        if timeout is None:
            timeout = self.server.request_timeout
        with self.server.asks.hold(self):
            tasked = task_params(params) is not None
            # (A task-augmented one goes out with no deadline: `created_or_cancelled` bounds it.)
            sending = self.connection.request(
                method,
                params,
                timeout=None if tasked else timeout,
                related=related,
                on_progress=on_progress,
                result_type=result_type,
            )
            if not tasked:
                return await sending

            async def cancel(task_id: str) -> None:
                # A client that did not declare tasks.cancel is sent none: its task runs out
                # alone (basic/utilities/tasks, "Capability Negotiation").
                if has_capability(self.client_capabilities, ("tasks", "cancel")):
                    await cancel_quietly(self.connection, related, task_id)

            return await created_or_cancelled(method, sending, timeout, cancel)

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        await self.connection.notify(method, params, related=related)

    def announce(self, method: str, uri: str | None = None) -> Coroutine[Any, Any, None] | None:
        """A notification that says something changed (a list, or the resource `uri`: then
        `notifications/resources/updated` with it), to run in a task that waits for room;
        None when one for the same thing already waits (changes made together, or while the
        client does not read, make one). So however many changes happen while it waits,
        a client that is not reading gets one, nothing piles up for it, and whoever made the
        change never waits for this client (they are idempotent: the client reads the list
        or the resource again, and sees the latest)."""
        key = method if uri is None else f"{method} {uri}"
        if self._announcing is None:
            self._announcing = set()
        elif key in self._announcing:
            return None
        self._announcing.add(key)
        return self._announce(method, key, None if uri is None else {"uri": uri})

    async def _announce(self, method: str, key: str, params: Any) -> None:
        # The key is released however the wait ends: one left behind by a wait cut short (the
        # connection closed, the task cancelled) would silence this change for good.
        try:
            await self.connection.wait_for_room()
        finally:
            if self._announcing is not None:
                self._announcing.discard(key)
        await self.notify(
            method, params
        )  # queued at once: there is room, and no await came between

    def wants_log(self, level: str) -> bool:
        threshold = self.log_level
        return threshold is None or LOG_LEVELS[level] >= LOG_LEVELS[threshold]

    async def log(
        self, level: str, data: Any, *, logger: str | None = None, related: RequestId | None = None
    ) -> None:
        """Send `notifications/message` if `level` passes the client's threshold."""
        params = self.log_params(level, data, logger)
        # Dropped on a closed connection rather than raised: a handler that logs while its
        # client goes away should not fail for a message no one can read.
        if params is not None and not self.connection.closed:
            await self.notify("notifications/message", params, related=related)

    def log_params(
        self, level: str, data: Any, logger: str | None
    ) -> LoggingMessageNotificationParams | None:
        """The params of a log message at `level`, or None below the client's threshold (none
        set: every level goes)."""
        return log_message_params(level, data, logger, self.log_level or LOG_LEVEL_NAMES[0])

    async def list_roots(
        self, *, timeout: float | None = None, related: RequestId | None = None
    ) -> list[Root]:
        """Ask the client for its roots (client/roots); needs the client's `roots` capability."""
        result: ListRootsResult = await self.request(
            "roots/list", None, timeout=timeout, related=related
        )
        return list(result.roots)
