"""The stateless era (2026-07-28) of `Client`: choosing it at connect, sending its requests,
and what its notifications change. Mixed into `Client` (docs/client.md, "Protocol
revisions"); the rules themselves are in `stateless`, `discover`, `http_headers` and `listen`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Final

import msgspec

from mcpkit.client.calls import ProgressHandler
from mcpkit.client.discover import discover, pinned_refusal
from mcpkit.client.http_headers import ToolHeaders, without_invalid_tools
from mcpkit.client.listen import Listener
from mcpkit.client.middleware import ClientMiddleware, OutgoingRequest, call_through
from mcpkit.client.stateless import CACHED_LISTS, Discovered, StatelessCalls
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.events import NotificationReceived
from mcpkit.types import ClientCapabilities, Implementation, Tool
from mcpkit.types.methods import LATEST_REVISION, STATELESS_REVISIONS, SUPPORTED_REVISIONS

if TYPE_CHECKING:
    from mcpkit.client.callbacks import ServerRequestRouter
    from mcpkit.runtime.connection import Connection

__all__ = ["LIST_CHANGED", "PROBE_TIMEOUT", "StatelessEra", "era"]

#: Seconds the "auto" probe waits for `server/discover` (at most `init_timeout`) over stdio
#: before it takes the server for a legacy one: some answer nothing to a request before
#: `initialize` (basic/transports/stdio, "Backward Compatibility"). A modern server that was
#: only slow to start then refuses the `initialize` that follows with -32022, and is probed
#: again. Over HTTP every server answers a POST (a legacy one with 400, 404 or 405), so there
#: the probe waits `init_timeout`: a modern server slow to answer, as under load, is not
#: mistaken for a legacy one.
PROBE_TIMEOUT: Final = 10.0


class StatelessEra:
    """What `Client` does in the stateless revision; `Client` sets the attributes."""

    target: Any
    capabilities: ClientCapabilities
    client_info: Implementation
    init_timeout: float | None
    max_input_rounds: int
    protocol: str
    on_log: Any
    on_notification: Any
    middleware: tuple[ClientMiddleware, ...]
    _router: ServerRequestRouter
    _stateless: StatelessCalls | None
    _discovered: Discovered | None
    _tool_headers: ToolHeaders
    _listen: Listener

    @property
    def connection(self) -> Connection:
        raise NotImplementedError

    async def list_tools(self, *, max_pages: int = 1000) -> list[Tool]:
        raise NotImplementedError

    def _probe_timeout(self, conn: Connection) -> float | None:
        """`init_timeout`; with "auto" over a channel where a legacy server may stay silent
        (stdio, not HTTP), at most PROBE_TIMEOUT (a fallback is waiting)."""
        if self.protocol != "auto" or conn.extras.speak_stateless is not None:
            return self.init_timeout  # pinned (the probe is the only opening), or HTTP
        if self.init_timeout is None:
            return PROBE_TIMEOUT
        return min(self.init_timeout, PROBE_TIMEOUT)

    async def _start_stateless(self, conn: Connection) -> bool:
        """Probe with server/discover; True if the server speaks the stateless revision."""
        calls = StatelessCalls(
            STATELESS_REVISIONS[0],
            self.capabilities,
            self.client_info,
            self._router,
            max_input_rounds=self.max_input_rounds,
        )
        if self.on_log is not None or self.on_notification is not None:
            # A 2025 session hears every level until logging/setLevel; a 2026 request hears
            # none without a level. A client that handles logs (or every notification) asks
            # for them all, so it sees the same in both eras (set_logging_level changes it).
            calls.log_level = "debug"
        headers = self._tool_headers.headers
        if conn.extras.sessions_only:
            found = None  # the HTTP+SSE transport (a URL ending in /sse) has no such era
        else:
            found = await discover(conn, calls, headers, self._probe_timeout(conn))
        if found is None:
            if self.protocol != "auto":
                raise pinned_refusal(
                    self.target, calls.probe_error, sessions_only=conn.extras.sessions_only
                )
            return False
        self._discovered = found
        self._stateless = calls
        await self._listen.start(self)  # type: ignore[arg-type]  # (a Client)
        return True

    async def _stateless_request(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Any:
        """`request` in the stateless revision: `_meta` added, input requests answered."""
        calls = self._stateless
        assert calls is not None
        conn = self.connection

        def send(method: str, params: dict[str, Any]) -> Awaitable[msgspec.Raw]:
            return conn.request(
                method, params, timeout=timeout, on_progress=progress, result_type=msgspec.Raw
            )

        def call(params: Any) -> Awaitable[Any]:
            return calls.request(send, method, params, result_type)

        over_http = conn.extras.speak_stateless is not None
        try:
            if self.middleware:
                request = OutgoingRequest(method, self)  # type: ignore[arg-type]  # (a Client)
                result = await call_through(self.middleware, request, params, call)
            else:
                result = await call(params)
        except McpError as exc:
            if not (over_http and method == "tools/call" and exc.code == codes.HEADER_MISMATCH):
                raise
            # streamable-http, "Client Behavior": the tool's x-mcp-header parameters may have
            # changed; list the tools again (not from the cache) and retry once.
            calls.drop_cached("notifications/tools/list_changed")
            await self.list_tools()
            result = await call(params)
        if method == "tools/list" and over_http:
            result = without_invalid_tools(result, self._tool_headers)
        return result

    @property
    def discovered(self) -> Discovered | None:
        """What `server/discover` said, when the client speaks the stateless revision."""
        return self._discovered if self._stateless is not None else None

    def _stateless_notification(self, ev: NotificationReceived) -> None:
        if ev.method in LIST_CHANGED:
            assert self._stateless is not None
            self._stateless.drop_cached(ev.method)
        elif ev.method == "notifications/subscriptions/acknowledged":
            self._listen.acknowledged(ev.params)


#: The notifications that make a cached list stale.
LIST_CHANGED = frozenset(CACHED_LISTS.values())


def era(protocol: str, protocol_version: str | None) -> tuple[str, str]:
    """(the revision initialize asks for, "auto" | a stateless revision | "sessions")."""
    if protocol == "auto" or protocol in STATELESS_REVISIONS:
        if protocol_version is not None:  # asking for a session revision pins that era
            return protocol_version, "sessions" if protocol == "auto" else protocol
        return LATEST_REVISION, protocol
    if protocol in SUPPORTED_REVISIONS:
        return protocol_version or protocol, "sessions"
    raise ValueError(
        f"protocol must be 'auto' or a revision mcpkit speaks "
        f"({', '.join((*STATELESS_REVISIONS, *SUPPORTED_REVISIONS))}), not {protocol!r}"
    )
