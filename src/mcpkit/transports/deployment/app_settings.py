"""The settings of the Streamable HTTP app (`McpHttpApp`, `Server.http_app(**settings)`), with
their defaults, grouped into the objects they configure: the checks of every request
(`EndpointPolicy`, with its `OriginPolicy`), the connection limits uvicorn's protocol keeps,
the per-client caps, the streams' `StreamSettings`. `McpHttpApp`'s docstring says what each
setting does; here they are checked together (a refusal names each setting in conflict) and
turned into those objects, so the app's constructor only assembles its parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.stores.event_log import DEFAULT_REPLAY_EVENTS, EventStore, MemoryEventStore
from mcpkit.stores.sessions import SessionStore
from mcpkit.transports.deployment.capacity import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_BODY_BYTES,
    check_connection_settings,
    check_keep_alive,
    default_max_connections,
)
from mcpkit.transports.deployment.client_caps import (
    DEFAULT_MAX_REQUESTS_PER_ADDRESS,
    DEFAULT_MAX_REQUESTS_PER_USER,
    DEFAULT_MAX_SESSIONS_PER_ADDRESS,
    DEFAULT_MAX_SESSIONS_PER_USER,
    ClientCaps,
)
from mcpkit.transports.deployment.slow_readers import DEFAULT_MAX_QUEUED_BYTES, QueuedBytes
from mcpkit.transports.guards.origin import OriginPolicy, is_loopback_bind
from mcpkit.transports.http.checks import EndpointPolicy
from mcpkit.transports.http.streams import StreamSettings
from mcpkit.transports.legacy_sse.endpoint import LegacySse

__all__ = ["AppSettings", "ConnectionLimits", "HttpSettings"]


class HttpSettings(TypedDict, total=False):
    """The settings `Server.http_app()` takes besides `path` (see `McpHttpApp`)."""

    json_response: bool
    allow_get: bool
    allow_delete: bool
    max_sessions: int
    max_sessions_per_user: int
    max_sessions_per_address: int
    max_requests_per_user: int
    max_requests_per_address: int
    session_idle_timeout: float
    bind_host: str
    bind_port: int | None
    allowed_origins: Sequence[str]
    allowed_hosts: Sequence[str]
    forwarded_allow_ips: Sequence[str]
    dns_rebinding_protection: bool | None
    legacy_sse: bool | LegacySse
    resumable: bool
    event_store: EventStore | None
    session_store: SessionStore | None
    replay_window: int
    replay_retention: float
    sse_retry: float
    keepalive_interval: float | None
    stateless: bool
    auth: ProtectedResource | None
    header_timeout: float
    body_timeout: float
    keep_alive: int
    max_connections: int | None
    max_body_bytes: int
    max_queued_bytes: int
    health_path: str | None
    ready_path: str | None


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What uvicorn's protocol keeps of each connection (`McpHttpApp.uvicorn_protocol()`):
    seconds for a request's headers and for its body, seconds an idle connection is kept
    alive, and the connections open at once."""

    header_timeout: float
    body_timeout: float
    keep_alive: int
    max_connections: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    """`HttpSettings` with their defaults (`McpHttpApp(**settings)` makes one)."""

    json_response: bool = False
    allow_get: bool = True
    allow_delete: bool = True
    max_sessions: int = 10_000
    max_sessions_per_user: int = DEFAULT_MAX_SESSIONS_PER_USER
    max_sessions_per_address: int = DEFAULT_MAX_SESSIONS_PER_ADDRESS
    max_requests_per_user: int = DEFAULT_MAX_REQUESTS_PER_USER
    max_requests_per_address: int = DEFAULT_MAX_REQUESTS_PER_ADDRESS
    session_idle_timeout: float = 1800.0
    bind_host: str = "127.0.0.1"
    bind_port: int | None = None
    allowed_origins: Sequence[str] = ()
    allowed_hosts: Sequence[str] = ()
    forwarded_allow_ips: Sequence[str] = ()
    dns_rebinding_protection: bool | None = None
    legacy_sse: bool | LegacySse = True
    resumable: bool = True
    event_store: EventStore | None = None
    session_store: SessionStore | None = None
    replay_window: int = DEFAULT_REPLAY_EVENTS
    replay_retention: float = 60.0
    sse_retry: float = 1.0
    keepalive_interval: float | None = 15.0
    stateless: bool = False
    auth: ProtectedResource | None = None
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    keep_alive: int = DEFAULT_KEEP_ALIVE
    max_connections: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES
    health_path: str | None = "/healthz"
    ready_path: str | None = "/readyz"

    def policy(self, path: str, max_message_size: int) -> EndpointPolicy:
        """The checks of every request, once the settings are known to agree (else the
        ValueError naming those that do not)."""
        if path in (self.health_path, self.ready_path):
            raise ValueError(
                f"the MCP endpoint's path {path!r} is also a health route: move one "
                "(health_path, ready_path; None serves none)"
            )
        if self.max_body_bytes < max_message_size:
            raise ValueError(
                f"max_body_bytes ({self.max_body_bytes}) is below the server's "
                f"max_message_size ({max_message_size}): a body of the largest size could "
                "never be read"
            )
        origin = OriginPolicy.for_bind(
            self.bind_host,
            self.bind_port,
            allowed_origins=self.allowed_origins,
            allowed_hosts=self.allowed_hosts,
            dns_rebinding_protection=self.dns_rebinding_protection,
        )
        auth = self.auth
        if auth is not None and auth.resource is None:
            if not (is_loopback_bind(self.bind_host) and origin.enabled):
                # The audience would follow a Host header nobody checks: a token issued for
                # another server, sent with that server's name as Host, would pass.
                raise ValueError(
                    f"serving a protected endpoint on {self.bind_host} needs "
                    "ProtectedResource(resource=...): the endpoint's public URL, such as "
                    "'https://mcp.example.com/mcp', which tokens must name as their audience "
                    "(only a loopback bind with DNS rebinding protection derives it from the "
                    "checked Host)"
                )
        return EndpointPolicy(
            origin=origin,
            # Stateless: no session for a GET stream to serve, or for a DELETE to end.
            allow_get=self.allow_get,
            allow_delete=self.allow_delete,
            stateless=self.stateless,
            json_only=self.json_response,
            max_message_size=max_message_size,
        )

    def connection_limits(self) -> ConnectionLimits:
        """The connection limits, checked; `max_connections` None: from the file-descriptor
        limit."""
        limit = self.max_connections
        if limit is None:
            limit = default_max_connections()
        check_connection_settings(self.header_timeout, self.body_timeout, limit)
        check_keep_alive(self.keep_alive)
        return ConnectionLimits(self.header_timeout, self.body_timeout, self.keep_alive, limit)

    def client_caps(self) -> tuple[ClientCaps, ClientCaps]:
        """The caps of one client's sessions, and of its 2026-07-28 requests in flight."""
        sessions = ClientCaps(self.max_sessions_per_user, self.max_sessions_per_address)
        requests = ClientCaps(
            self.max_requests_per_user, self.max_requests_per_address, kind="requests"
        )
        return sessions, requests

    def streams(self, *, relayed: bool, queued: QueuedBytes | None) -> StreamSettings:
        """What the streams of the app's sessions share, in the binding's units (ms for the
        `retry`), with an in-process store of `replay_window` events each when resumable and
        given none (`StreamSettings.own_store`: told a message only when it is needed)."""
        retention, retry, keepalive = self.replay_retention, self.sse_retry, self.keepalive_interval
        if retention < 0 or retry < 0 or (keepalive is not None and keepalive <= 0):
            raise ValueError(
                "replay_retention and sse_retry must be seconds >= 0, and keepalive_interval "
                "seconds > 0 (or None for no keep-alive comments)"
            )
        store, own_store = self.event_store, None
        if self.resumable and store is None:
            store = own_store = MemoryEventStore(max_events=self.replay_window)
        return StreamSettings(
            store=store if self.resumable else None,
            retention=retention,
            retry_ms=round(retry * 1000),
            keepalive_interval=keepalive,
            relayed=relayed,
            queued=queued,
            own_store=own_store,
        )
