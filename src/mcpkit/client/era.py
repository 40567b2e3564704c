"""The two eras a `Client` speaks, each an object chosen once at connect (docs/client.md,
"Protocol revisions"): `LegacyEra` (a 2025-11-25 session opened with `initialize`) and
`ModernEra` (2026-07-28, every modern request). The rules themselves are in
`request_terms`, `discover` (reading `discover_answer`), `http_headers` and `listen`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec

from mcpkit.client.discover import discover, pinned_refusal
from mcpkit.client.discover_answer import Discovered, modern_wanted
from mcpkit.client.http_headers import ToolHeaders, without_invalid_tools
from mcpkit.client.listen import Listener
from mcpkit.client.pages import all_pages
from mcpkit.client.request_path import LogLevel, ProgressHandler, RequestPath
from mcpkit.client.request_terms import CACHED_LISTS, ModernCalls
from mcpkit.errors import LocalProtocolError, McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.runtime.authorizing import answered_within
from mcpkit.types import ClientCapabilities, Implementation, InitializeResult, ServerCapabilities
from mcpkit.types.methods import LATEST_REVISION, MODERN_REVISIONS, SUPPORTED_REVISIONS

if TYPE_CHECKING:
    from mcpkit.client.callbacks import ServerRequestRouter
    from mcpkit.protocol.events import NotificationReceived
    from mcpkit.runtime.connection import Connection

__all__ = [
    "LIST_CHANGED",
    "PROBE_TIMEOUT",
    "Opening",
    "LegacyEra",
    "ModernEra",
    "choose_era",
    "era",
    "open_modern",
]

#: Seconds the "auto" probe waits for `server/discover` (at most `init_timeout`) over stdio
#: before it takes the server for a legacy one: some answer nothing to a request before
#: `initialize` (basic/transports/stdio, "Backward Compatibility"). A modern server that was
#: only slow to start then refuses the `initialize` that follows with -32022, and is probed
#: again. Over HTTP every server answers a POST (a legacy one with 400, 404 or 405), so there
#: the probe waits `init_timeout`: a modern server slow to answer, as under load, is not
#: mistaken for a legacy one.
PROBE_TIMEOUT: Final = 10.0

#: The notifications that make a cached list stale.
LIST_CHANGED = frozenset(CACHED_LISTS.values())


class LegacyEra:
    """A 2025-11-25 session: requests go out as they are, the server's facts are initialize's."""

    ping: tuple[str, Any] = ("ping", None)
    client_tasks = True
    discovered = None
    modern = None

    def __init__(self, connection: Connection, requests: RequestPath[Any]) -> None:
        self.connection = connection
        self._requests = requests
        session = connection.session
        assert isinstance(session, ClientSession)
        self._session = session

    def send(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Awaitable[Any]:
        return self.connection.request(
            method, params, timeout=timeout, on_progress=progress, result_type=result_type
        )

    @property
    def initialize_result(self) -> InitializeResult:
        result = self._session.initialize_result
        if result is None:
            raise LocalProtocolError("the session is not initialized")
        return result

    @property
    def protocol_version(self) -> str:
        return self.initialize_result.protocol_version

    @property
    def server_info(self) -> Implementation:
        return self.initialize_result.server_info

    @property
    def server_capabilities(self) -> ServerCapabilities:
        return self.initialize_result.capabilities

    @property
    def instructions(self) -> str | None:
        return self.initialize_result.instructions

    def refuse_session_tasks(self, what: str) -> None:
        pass  # this is their era

    def modern_params(self, params: Any) -> dict[str, Any]:
        raise McpError(codes.INVALID_REQUEST, "the client does not speak a modern revision")

    async def subscribe(self, uri: str) -> None:
        await self._requests.request("resources/subscribe", {"uri": uri})

    async def unsubscribe(self, uri: str) -> None:
        await self._requests.request("resources/unsubscribe", {"uri": uri})

    async def set_logging_level(self, level: LogLevel) -> None:
        await self._requests.request("logging/setLevel", {"level": level})

    async def roots_changed(self) -> None:
        await self.connection.notify("notifications/roots/list_changed")

    async def listen(self, hear_list_changes: bool) -> None:
        pass  # a session hears list changes without asking

    def heard(self, ev: NotificationReceived) -> bool:
        return True

    async def aclose(self) -> None:
        pass  # the connection ends the session


class ModernEra:
    """2026-07-28: each request carries its terms (`ModernCalls`), input requests are
    answered, lists are cached while fresh, and subscriptions are one `subscriptions/listen`."""

    ping: tuple[str, Any] = ("server/discover", msgspec.Raw)
    client_tasks = False

    def __init__(
        self,
        connection: Connection,
        calls: ModernCalls,
        discovered: Discovered,
        tool_headers: ToolHeaders,
    ) -> None:
        self.connection = connection
        self.modern = calls
        self.discovered = discovered
        self._tool_headers = tool_headers
        self._over_http = connection.extras.speak_modern is not None
        self._listen = Listener()

    async def send(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Any:
        """`_meta` added, input requests answered; over HTTP a `tools/call` the server finds
        out of step with the tool's headers is retried once after listing the tools again."""
        conn, calls = self.connection, self.modern

        def wire(method: str, params: dict[str, Any]) -> Awaitable[msgspec.Raw]:
            return conn.request(
                method, params, timeout=timeout, on_progress=progress, result_type=msgspec.Raw
            )

        try:
            result = await calls.request(wire, method, params, result_type)
        except McpError as exc:
            if not (
                self._over_http and method == "tools/call" and exc.code == codes.HEADER_MISMATCH
            ):
                raise
            # streamable-http, "Client Behavior": the tool's x-mcp-header parameters may have
            # changed; list the tools again (not from the cache) and retry once.
            calls.drop_cached("notifications/tools/list_changed")
            await self._list_tools(timeout)
            result = await calls.request(wire, method, params, result_type)
        if method == "tools/list" and self._over_http:
            result = without_invalid_tools(result, self._tool_headers)
        return result

    async def _list_tools(self, timeout: float | None) -> None:
        """Every page of `tools/list`, for the headers of the tools it lists."""

        def fetch(cursor: str | None) -> Awaitable[Any]:
            params = {} if cursor is None else {"cursor": cursor}
            return self.send("tools/list", params, timeout, None, None)

        await all_pages(fetch, "tools")

    @property
    def protocol_version(self) -> str:
        return self.modern.revision

    @property
    def server_info(self) -> Implementation:
        # Self-reported and optional in server/discover: "unknown" when absent.
        return self.discovered.server_info or Implementation(name="unknown", version="unknown")

    @property
    def server_capabilities(self) -> ServerCapabilities:
        return self.discovered.capabilities

    @property
    def instructions(self) -> str | None:
        return self.discovered.instructions

    def refuse_session_tasks(self, what: str) -> None:
        raise LocalProtocolError(
            f"{what} is revision 2025-11-25's (the client asks for tasks); this client "
            f"speaks {self.modern.revision}, where the server decides which calls become "
            "tasks and call_tool follows them to their end. Client(..., protocol='2025-11-25') "
            "keeps the 2025 tasks where the server speaks both"
        )

    def modern_params(self, params: Any) -> dict[str, Any]:
        return self.modern.params(params)

    async def listen(self, hear_list_changes: bool) -> None:
        """At connect: listen for the list changes the server declares, if they are heard."""
        await self._listen.start(self, self.server_capabilities, hear_list_changes)

    async def subscribe(self, uri: str) -> None:
        # No resources/subscribe: the listen stream is opened again with `uri` in its filter.
        await self._listen.change(self, self._listen.resources | {uri})

    async def unsubscribe(self, uri: str) -> None:
        await self._listen.change(self, self._listen.resources - {uri})

    async def set_logging_level(self, level: LogLevel) -> None:
        # No logging/setLevel: the level is sent with every later request.
        self.modern.log_level = level

    async def roots_changed(self) -> None:
        pass  # the server asks for roots with each request that needs them

    def heard(self, ev: NotificationReceived) -> bool:
        if ev.method in LIST_CHANGED:
            self.modern.drop_cached(ev.method)
        elif ev.method == "notifications/subscriptions/acknowledged":
            self._listen.acknowledged(ev.params)
            return False  # the listen's own business, not the application's
        return True

    async def aclose(self) -> None:
        await self._listen.stop()


@dataclass(frozen=True, slots=True)
class Opening:
    """What a client brings to the `server/discover` probe."""

    target: Any
    protocol: str
    #: The revision `initialize` asks for, if it comes to that.
    requested_version: str
    capabilities: ClientCapabilities
    client_info: Implementation
    router: ServerRequestRouter
    max_input_rounds: int
    init_timeout: float | None
    #: Whether the client handles logs (or every notification): it then asks for them all.
    hears_logs: bool


def _probe_timeout(opening: Opening, conn: Connection) -> float | None:
    """`init_timeout`; with "auto" over a channel where a legacy server may stay silent
    (stdio, not HTTP), at most PROBE_TIMEOUT (a fallback is waiting)."""
    if opening.protocol != "auto" or conn.extras.speak_modern is not None:
        return opening.init_timeout  # pinned (the probe is the only opening), or HTTP
    if opening.init_timeout is None:
        return PROBE_TIMEOUT
    return min(opening.init_timeout, PROBE_TIMEOUT)


async def open_modern(opening: Opening, conn: Connection) -> ModernEra | None:
    """Probe with server/discover: the modern era if the server speaks it; None for one
    that does not (ModernRefused when the client is pinned to that era)."""
    calls = ModernCalls(
        MODERN_REVISIONS[0],
        opening.capabilities,
        opening.client_info,
        opening.router,
        max_input_rounds=opening.max_input_rounds,
    )
    if opening.hears_logs:
        # A 2025 session hears every level until logging/setLevel; a 2026 request hears
        # none without a level. A client that handles logs (or every notification) asks
        # for them all, so it sees the same in both eras (set_logging_level changes it).
        calls.log_level = "debug"
    tool_headers = ToolHeaders()
    if conn.extras.legacy_only:
        found = None  # the HTTP+SSE transport (a URL ending in /sse) has no such era
    else:
        found = await discover(conn, calls, tool_headers.headers, _probe_timeout(opening, conn))
    if found is None:
        if opening.protocol != "auto":
            raise pinned_refusal(
                opening.target, calls.probe_error, legacy_only=conn.extras.legacy_only
            )
        return None
    return ModernEra(conn, calls, found, tool_headers)


async def choose_era(
    opening: Opening, conn: Connection, session: ClientSession, requests: RequestPath[Any]
) -> LegacyEra | ModernEra:
    """Probe for the modern era (unless pinned to sessions), else run `initialize`: the
    era that serves every request of this connection."""
    modern = None
    if opening.protocol != "sessions":
        modern = await open_modern(opening, conn)
    if modern is None:
        rid = session.start(opening.requested_version)
        try:
            await _await_initialize(conn, rid, opening.init_timeout)
        except McpError as exc:
            # A modern server that answered the probe too late (a slow start) refuses
            # initialize with the modern revisions it speaks: probe once more.
            if opening.protocol != "auto" or modern_wanted(exc) is None:
                raise
            session.forget_refused_initialize()
            modern = await open_modern(opening, conn)
            if modern is None:
                raise
    return LegacyEra(conn, requests) if modern is None else modern


async def _await_initialize(conn: Connection, rid: Any, timeout: float | None) -> None:
    try:
        # As for the probe, a login at the authorization server does not count.
        await answered_within(conn.wait_response(rid), timeout, conn.extras.authorizing)
    except TimeoutError:
        raise RequestTimeout(f"the server did not answer initialize within {timeout} s") from None
    await conn.flush()  # notifications/initialized
    await conn.wait_sent(timeout if timeout is not None else 30.0)


def era(protocol: str, protocol_version: str | None) -> tuple[str, str]:
    """(the revision initialize asks for, "auto" | a modern revision | "sessions")."""
    if protocol == "auto" or protocol in MODERN_REVISIONS:
        if protocol_version is not None:  # asking for a session revision pins that era
            return protocol_version, "sessions" if protocol == "auto" else protocol
        return LATEST_REVISION, protocol
    if protocol in SUPPORTED_REVISIONS:
        return protocol_version or protocol, "sessions"
    raise ValueError(
        f"protocol must be 'auto' or a revision mcpkit speaks "
        f"({', '.join((*MODERN_REVISIONS, *SUPPORTED_REVISIONS))}), not {protocol!r}"
    )
