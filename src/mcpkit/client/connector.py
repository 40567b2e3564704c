"""`Connector`: one `Client`'s connection to its server, apart from the requests the client
sends on it: the transport opened and the protocol session and `Connection` built on it
(`open`), the era's `Opening`, what the connection knows of the server (its info,
capabilities, revision; served as the client's properties), what the server sends the client
(its requests answered by the client's handlers or its task receiver, its notifications told
to the client's callbacks), and the close of all of it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from mcpkit.client.callbacks import LogHandler, NotificationHandler, with_meta
from mcpkit.client.client_settings import ClientOffers, ConnectionSettings, EraSettings
from mcpkit.client.request_path import NOT_CONNECTED
from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import RELATED_TASK
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived
from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.workers import call_handler
from mcpkit.transports.connect import Target, close_opened
from mcpkit.transports.endpoint_url import looks_like_url
from mcpkit.types import Implementation, InitializeResult

if TYPE_CHECKING:
    from mcpkit.client.discover_answer import Discovered
    from mcpkit.client.era import Opening
    from mcpkit.client.request_path import RequestPath
    from mcpkit.client.request_terms import ModernCalls
    from mcpkit.client.task_receiver import ClientTaskReceiver
    from mcpkit.client.task_requestor import TaskRequests
    from mcpkit.runtime.connection import Connection
    from mcpkit.types import ClientCapabilities
    from mcpkit.types.server_card import ServerCard

__all__ = ["Connector", "Listening"]

logger = logging.getLogger("mcpkit.client")


class Listening(Protocol):
    """What the connector reads of its client: the target, and the callbacks of what the
    server tells it (settable on the client at any time)."""

    @property
    def target(self) -> Target: ...
    @property
    def on_log(self) -> LogHandler | None: ...
    @property
    def on_notification(self) -> NotificationHandler | None: ...


class Connector:
    """Opens, serves and closes the connection of one client to `target`. The era and the
    requests are the client's request path's (`path`); a task status the server sends
    goes to the client's task handles (`tasks`)."""

    def __init__(
        self,
        client: Listening,
        settings: ConnectionSettings,
        offers: ClientOffers,
        era: EraSettings,
        path: RequestPath[Any],
        tasks: TaskRequests,
    ) -> None:
        self.target = client.target
        self._client = client
        self.settings = settings
        self.offers = offers
        self.era = era
        self.router = offers.router()
        self.capabilities: ClientCapabilities = offers.capabilities()
        #: The methods it speaks beside each revision's (checked here, not at connect).
        self.methods = offers.methods()
        self.task_receiver: ClientTaskReceiver | None = None
        if offers.tasks or offers.task_store is not None:
            # Imported here: a client that receives no tasks loads no task machinery.
            from mcpkit.client.task_receiver import receiving_tasks

            self.task_receiver = receiving_tasks(self.router, offers.task_store, self.capabilities)
        self.conn: Connection | None = None
        self.release: Callable[[], Awaitable[None]] | None = None
        self._callbacks = BackgroundTasks()
        self._path = path
        self._tasks = tasks

    async def open(self) -> tuple[Connection, ClientSession]:
        """The transport opened, and the protocol session and its connection started on it
        (the era is not chosen yet: `opening`)."""
        channel, self.release = await self.settings.open(self.target)
        session = self.offers.session(self.capabilities, self.methods, self.settings)
        # The server's requests served by `_on_request`, this connector their peer.
        on_request = Connector._on_request
        conn = self.settings.connection(session, channel, on_request, self, self._on_event)
        self.conn = conn
        conn.start()
        return conn, session

    def opening(self) -> Opening:
        """What the client brings to the choice of era."""
        hears_logs = self._client.on_log is not None or self._client.on_notification is not None
        return self.era.opening(
            self.target, self.offers, self.capabilities, self.router, hears_logs
        )

    async def close(self) -> None:
        """Close the connection and the transport; the callbacks still running are
        cancelled and the tasks the server asked for end (nobody can fetch their results)."""
        conn, self.conn = self.conn, None
        release, self.release = self.release, None
        try:
            await close_opened(conn, release)
        finally:  # (cancelled while the release waits for an in-process server, say)
            self._callbacks.cancel_all()
            if self.task_receiver is not None:
                await self.task_receiver.aclose()

    # ------------------------------------------------------------------- facts
    # (served as the client's properties: `mcpkit._delegation.served_property`)

    def connection(self) -> Connection:
        """The connection to the server (of a client of many servers: LocalProtocolError
        naming where to look)."""
        if self.conn is None:
            if self._path.current is not None:  # a client of many servers says where to look
                return self._path.current.connection
            raise LocalProtocolError(NOT_CONNECTED)
        return self.conn

    def session(self) -> ClientSession:
        """The protocol session of the connection."""
        session = self.connection().session
        assert isinstance(session, ClientSession)
        return session

    def initialize_result(self) -> InitializeResult:
        """What the server answered to `initialize` (a session of the 2025 era only)."""
        result = self.session().initialize_result
        if result is None:
            raise LocalProtocolError("the session is not initialized")
        return result

    def server_info(self) -> Implementation:
        """The server's name and version, as it gave them."""
        return self._path.era.server_info

    def server_extension(self, extension_id: str) -> dict[str, Any] | None:
        """The settings the server declared for an extension (SEP-2133: its
        `capabilities.extensions` entry, `{}` when it has none), or None when it did not:
        `client.server_extension("io.modelcontextprotocol/ui")`."""
        return (self._path.era.server_capabilities.extensions or {}).get(extension_id)

    def discovered(self) -> Discovered | None:
        """What `server/discover` said, when the client speaks the modern revision."""
        current = self._path.current
        return None if current is None else current.discovered

    def session_id(self) -> str | None:
        """The `Mcp-Session-Id` a Streamable HTTP server gave this session; None over other
        transports, for a stateless server, or before connecting."""
        if self.conn is None:
            return None
        session_id = self.conn.extras.session_id
        return None if session_id is None else session_id()

    def modern(self) -> ModernCalls | None:
        """The terms each 2026-07-28 request carries (and its cached lists), or None."""
        current = self._path.current
        return None if current is None else current.modern

    async def notify(self, method: str, params: Any = None) -> None:
        """Send the server a notification."""
        await self.connection().notify(method, params)

    def modern_params(self, params: Any) -> dict[str, Any]:
        """`params` with the modern revision's `_meta` (only while speaking it)."""
        if self._path.current is None:
            raise McpError(codes.INVALID_REQUEST, "the client does not speak a modern revision")
        return self._path.current.modern_params(params)

    async def fetch_card(self, *, timeout: float = 10.0) -> ServerCard:
        """The Server Card of this client's URL target (experimental, SEP-2127), fetched and
        checked against the extension's schema; it needs no connection, so it may come
        before `async with` (docs/discovery.md). A card is advice: the live connection's
        `serverInfo` wins."""
        from mcpkit.client.card_reader import fetch_server_card

        if not (isinstance(self.target, str) and looks_like_url(self.target)):
            raise ValueError(
                f"fetch_card needs a URL target, and this client's is {self.target!r}: "
                "only servers served over HTTP publish a Server Card"
            )
        return await fetch_server_card(self.target, timeout=timeout)

    # ----------------------------------------------------------- server → us

    async def _on_request(self, ev: RequestReceived) -> Any:
        receiver = self.task_receiver
        if receiver is not None and receiver.takes(ev):
            return await receiver.handle(ev, self.connection())
        result = await self.router.handle(ev.method, ev.params)
        meta = meta_of(ev.params)
        if meta and RELATED_TASK in meta:  # a request of the server's task: so is the answer
            result = with_meta(result, RELATED_TASK, meta[RELATED_TASK])
        return result

    def _on_event(self, ev: Event) -> None:
        if not isinstance(ev, NotificationReceived):
            return
        current = self._path.current
        if current is not None and not current.heard(ev):
            return  # the era's own business, not the application's
        client = self._client
        if ev.method == "notifications/message" and client.on_log is not None:
            self._run_callback(client.on_log, ev.params)
        elif ev.method == "notifications/tasks/status":
            self._tasks.status_received(ev.params)  # updates the task's live handle
        if client.on_notification is not None:
            self._run_callback(client.on_notification, ev.method, ev.params)

    def _run_callback(self, fn: Callable[..., Any], *args: Any) -> None:
        async def run() -> None:
            try:  # notification callbacks run on the loop (sync ones too: they should be quick)
                await call_handler(fn, args, in_thread=False)
            except Exception:
                logger.exception("client notification callback failed")

        self._callbacks.spawn(run())
