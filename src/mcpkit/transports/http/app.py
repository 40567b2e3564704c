"""The Streamable HTTP server: one MCP endpoint as a plain ASGI 3 application (spec:
basic/transports, "Streamable HTTP"). Build it with `Server.http_app()`."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, TypedDict

from mcpkit.auth._asgi import Receive, Scope, Send, send_whole
from mcpkit.auth.server.resource import ProtectedResource, identity_of
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.stores.event_log import DEFAULT_REPLAY_EVENTS, EventStore
from mcpkit.stores.sessions import SessionStore
from mcpkit.transports.http import joined_writes
from mcpkit.transports.http._exchange import (
    Resumption,
    local_path,
    read_body,
    send_refusal,
    send_sse,
    watch_disconnect,
)
from mcpkit.transports.http._headers import values_of
from mcpkit.transports.http.checks import (
    EndpointPolicy,
    Refusal,
    check_request,
    protocol_version,
    refuse,
    session_id,
    unknown_session,
)
from mcpkit.transports.http.guard import Guard, call_route
from mcpkit.transports.http.hosting import SessionHosting
from mcpkit.transports.http.legacy import LegacySse, legacy_endpoint
from mcpkit.transports.http.limits import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    BodyBudget,
    check_connection_settings,
    default_max_connections,
    guarded,
)
from mcpkit.transports.http.origin import OriginPolicy, is_loopback_bind
from mcpkit.transports.http.sessions import (
    DEFAULT_MAX_SESSIONS_PER_ADDRESS,
    DEFAULT_MAX_SESSIONS_PER_USER,
    ClientCaps,
    HostServer,
    HttpSession,
    MemorySessionRegistry,
    SessionRegistry,
    make_room,
    no_room,
)
from mcpkit.transports.http.stateless import open_stateless
from mcpkit.transports.http.streams import (
    Exchange,
    HttpChannel,
    Stream,
    StreamSettings,
    expired,
)

__all__ = ["HttpSettings", "McpHttpApp"]

logger = logging.getLogger("mcpkit.http")

_JSON: Final = ((b"content-type", b"application/json"),)
# Seconds a call's SSE answer waits for its first message before the head goes out alone:
# long enough for a quick tool, short enough that no client notices.
FIRST_WAIT: Final = 0.01
_NOT_FOUND: Final = refuse(404, "no MCP endpoint at this path")


class HttpSettings(TypedDict, total=False):
    """The settings `Server.http_app()` takes besides `path` (see `McpHttpApp`)."""

    json_response: bool
    allow_get: bool
    allow_delete: bool
    max_sessions: int
    max_sessions_per_user: int
    max_sessions_per_address: int
    session_idle_timeout: float
    bind_host: str
    bind_port: int | None
    allowed_origins: Sequence[str]
    allowed_hosts: Sequence[str]
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
    max_connections: int | None
    max_body_bytes: int


class McpHttpApp(SessionHosting):
    """An ASGI app serving `server` at `path` (POST, GET, DELETE) and running its lifespan.

    Settings: `json_response` answers each POST with one JSON object instead of an SSE
    stream; `allow_get` and `allow_delete` offer the GET stream and DELETE (else 405);
    `max_sessions` live sessions at most, of which `max_sessions_per_user` for one
    authenticated user and `max_sessions_per_address` for one client address without auth
    (past a cap the longest-idle session goes, or 503 when all are busy);
    `session_idle_timeout` seconds without a request, an open stream or a call whose client
    is still connected end a session. `bind_host` and `bind_port` say where
    the server listens: DNS rebinding protection (`allowed_origins`, `allowed_hosts`,
    `dns_rebinding_protection`, see `OriginPolicy.for_bind`) is on for a loopback bind.
    `legacy_sse` also serves the 2024-11-05 HTTP+SSE transport (GET /sse, POST /messages;
    a `LegacySse` moves them), with the same protections and limits; False turns it off.

    Resumption (`resumable`, on by default): every SSE event carries an id naming its stream,
    and `event_store` (default: a `MemoryEventStore` keeping the last `replay_window` events
    of each stream) keeps them for a GET with `Last-Event-ID`; a stream cut before its end
    stays resumable `replay_retention` seconds after it ends. `sse_retry` is the reconnection
    delay (seconds) sent when the server closes a stream early (`ctx.close_sse_stream()`);
    `keepalive_interval` seconds without a message on a stream send a comment (None: never).
    `stateless` serves each POST with a fresh, already initialized session freed after its
    answer: no Mcp-Session-Id, no GET stream or DELETE (405), no requests to the client.

    `session_store` (a `mcpkit.stores.sessions.SessionStore`; None: none) keeps each
    session's record: written when the session opens and when it changes, read when a
    request names a session this app does not hold (it ended with a restarted process, or
    another process opened it), which is then rebuilt from it (`Server.restore`).

    `auth` protects the endpoint (docs/auth.md): every request needs a bearer token the
    `ProtectedResource`'s verifier accepts, a session answers only the identity that opened
    it, and the metadata and the `routes` apps are served beside the endpoint.

    What all clients together may cost (docs/http.md, "Limits and exposure"): bodies being
    read hold at most `max_body_bytes` at once (503 past it). `header_timeout` and
    `body_timeout` (seconds for a request's headers, and for its body after them: 408) and
    `max_connections` (open at once; None: from the file-descriptor limit) are enforced by
    the uvicorn protocol `uvicorn_protocol()` gives, which `mcpkit run` and `server.run()`
    serve with: ASGI sees no connection before its headers are complete.
    """

    def __init__(
        self,
        server: HostServer,
        *,
        path: str = "/mcp",
        json_response: bool = False,
        allow_get: bool = True,
        allow_delete: bool = True,
        max_sessions: int = 10_000,
        max_sessions_per_user: int = DEFAULT_MAX_SESSIONS_PER_USER,
        max_sessions_per_address: int = DEFAULT_MAX_SESSIONS_PER_ADDRESS,
        session_idle_timeout: float = 1800.0,
        bind_host: str = "127.0.0.1",
        bind_port: int | None = None,
        allowed_origins: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        dns_rebinding_protection: bool | None = None,
        legacy_sse: bool | LegacySse = True,
        resumable: bool = True,
        event_store: EventStore | None = None,
        session_store: SessionStore | None = None,
        replay_window: int = DEFAULT_REPLAY_EVENTS,
        replay_retention: float = 60.0,
        sse_retry: float = 1.0,
        keepalive_interval: float | None = 15.0,
        stateless: bool = False,
        auth: ProtectedResource | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        max_connections: int | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        if max_body_bytes < server.max_message_size:
            raise ValueError(
                f"max_body_bytes ({max_body_bytes}) is below the server's max_message_size "
                f"({server.max_message_size}): a body of the largest size could never be read"
            )
        self.bodies = BodyBudget(max_body_bytes)
        if max_connections is None:
            max_connections = default_max_connections()
        check_connection_settings(header_timeout, body_timeout, max_connections)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.path = path
        self.json_response = json_response
        self.stateless = stateless
        origin = OriginPolicy.for_bind(
            bind_host,
            bind_port,
            allowed_origins=allowed_origins,
            allowed_hosts=allowed_hosts,
            dns_rebinding_protection=dns_rebinding_protection,
        )
        self.policy = EndpointPolicy(
            origin=origin,
            # Stateless: no session for a GET stream to serve, or for a DELETE to end.
            allow_get=allow_get,
            allow_delete=allow_delete,
            stateless=stateless,
            json_only=json_response,
            max_message_size=server.max_message_size,
        )
        self.sessions: SessionRegistry[HttpSession] = MemorySessionRegistry(
            max_sessions=max_sessions, idle_timeout=session_idle_timeout
        )
        self.max_sessions = max_sessions
        self.client_caps = ClientCaps(max_sessions_per_user, max_sessions_per_address)
        self.session_idle_timeout = session_idle_timeout
        self.session_store = session_store
        self.streams = StreamSettings.build(
            resumable, event_store, replay_window, replay_retention, sse_retry, keepalive_interval
        )
        self._open_streams: set[Stream] = set()  # those a response carries now
        self._local = path.rstrip("/") or "/"
        self._slashed = self._local.rstrip("/") + "/"
        self._lifespan_ran = False
        self._warned = False
        self._clock = clock
        if (
            auth is not None
            and auth.resource is None
            and not (is_loopback_bind(bind_host) and origin.enabled)
        ):
            # The audience would follow a Host header nobody checks: a token issued for
            # another server, sent with that server's name as Host, would pass.
            raise ValueError(
                f"serving a protected endpoint on {bind_host} needs ProtectedResource("
                "resource=...): the endpoint's public URL, such as 'https://mcp.example.com/"
                "mcp', which tokens must name as their audience (only a loopback bind with "
                "DNS rebinding protection derives it from the checked Host)"
            )
        self.guard = None if auth is None else Guard(auth, path, server)
        self.legacy = legacy_endpoint(
            server,
            legacy_sse,
            origin,
            max_sessions,
            session_idle_timeout,
            clock,
            mcp_path=path,
            client_caps=self.client_caps,
            bodies=self.bodies,
        )
        if self.legacy is not None:
            self.legacy.guard = self.guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        # Unmounted (the usual case), two compares; below a mount point, its path below it.
        if scope.get("root_path"):
            mine = local_path(scope) == self._local
        else:
            mine = path == self.path or path == self._slashed
        if not mine:
            await self._elsewhere(scope, receive, send)
            return
        if not self._lifespan_ran and not self._warned:
            self._warn_no_lifespan()
        method: str = scope["method"]
        refusal = check_request(self.policy, method, scope["headers"])
        token: AccessToken | None = None
        if refusal is None and self.guard is not None:
            # basic/authorization: the token is checked before anything touches a session.
            found = await self.guard.admit(scope)
            refusal, token = (found, None) if isinstance(found, Refusal) else (None, found)
        if refusal is not None:
            logger.info("refused %s: %s", method, refusal.message)
            await send_refusal(send, refusal)
        elif method == "POST":
            await self._post(scope, receive, send, token)
        elif method == "GET":
            await self._get(scope, receive, send, token)
        else:
            await self._delete(scope, send, token)

    def uvicorn_protocol(self, http: Literal["httptools", "h11"] = "httptools") -> type[Any]:
        """uvicorn's `http` protocol class with this app's `header_timeout`, `body_timeout`
        and `max_connections`, its writes joined per loop turn (`joined_writes`): for
        `uvicorn.run(app, http=app.uvicorn_protocol())` when serving the app yourself."""
        # The guard reads uvicorn's protocol state, so it is the inner class; the joined
        # writes only wrap the transport, from outside.
        return joined_writes.joined(
            guarded(
                joined_writes.uvicorn_protocol(http),
                header_timeout=self.header_timeout,
                body_timeout=self.body_timeout,
                max_connections=self.max_connections,
            )
        )

    def _warn_no_lifespan(self) -> None:
        """Say once, at the first request, that the lifespan never ran (the app is mounted in
        another ASGI app that does not enter `lifespan()`): the server's lifespan hook has
        not run and idle sessions are not swept."""
        self._warned = True
        has_hook = getattr(self.server, "lifespan", None) is not None
        hook = " (the server's lifespan hook has not run)" if has_hook else ""
        logger.warning(
            "serving without the ASGI lifespan%s: when mounting this app in another, enter "
            "app.lifespan() in the outer app's lifespan (docs/http.md, \"Inside another ASGI "
            'app")',
            hook,
        )

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Another path: the protected resource metadata, the legacy endpoints, the apps of
        `auth.routes`, in this order, else 404."""
        guard = self.guard
        if guard is not None and await guard.serve_metadata(scope, send):
            return
        legacy = self.legacy
        if legacy is not None and legacy.serves(scope):
            await legacy(scope, receive, send)
            return
        mounted = None if guard is None else guard.route(scope)
        if mounted is not None:
            await call_route(*mounted, scope, receive, send)
        else:
            await send_refusal(send, _NOT_FOUND)

    # -------------------------------------------------------------------- POST

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, token: AccessToken | None
    ) -> None:
        headers = scope["headers"]
        version = protocol_version(headers, self.policy.supported_revisions)
        sid = session_id(headers, required=False)
        body = await read_body(receive, self.policy.max_message_size, self.bodies)
        for found in (version, sid, body):
            if isinstance(found, Refusal):
                await send_refusal(send, found)
                return
        if body is None or isinstance(body, Refusal):
            return  # the client went away
        owner = None
        if token is not None and self.guard is not None:
            scoped = self.guard.check_scopes(scope, token, body)
            if scoped is not None:
                await send_refusal(send, scoped)
                return
            owner = identity_of(token)
        info = RequestInfo("http", headers, _client(scope), token)
        if self.stateless:
            assert isinstance(version, str)
            await self._post_stateless(version, info, body, receive, send)
            return
        if sid is None:
            await self._post_new(info, body, receive, send, owner)
            return
        session = await self._find(str(sid), headers, owner, info.client)
        if isinstance(session, Refusal):
            await send_refusal(send, session)
            return
        exchange = await _submit(session, body, info)
        if exchange is None:
            await send_refusal(send, unknown_session(str(sid)))
            return
        await self._answer(exchange, receive, send, ())
        await self._save(session)

    async def _post_new(
        self, info: RequestInfo, body: bytes, receive: Receive, send: Send, owner: object
    ) -> None:
        """A body without a session id: only an initialize request may open a session, which
        belongs to `owner` (who the token speaks for; None without auth)."""
        client = self.client_caps.of(owner, None if info.client is None else info.client[0])
        full = await make_room(self.sessions, self._clock(), client)
        if full is not None:
            await send_refusal(send, no_room(full))
            return
        session = self._open()
        session.owner = owner
        exchange = await _submit(session, body, info, resumable=False)
        if exchange is None or not session.opened:
            # Not an initialize (or one refused): answer as for any request without an id.
            await session.aclose()
            refused = [] if exchange is None else exchange.read[1]
            await send_refusal(send, _no_session() if not refused else _bad_body(refused[0]))
            return
        sid = session.handle.id
        key = None if client is None else client[0]
        # Another initialize may have taken the place made while this one was read.
        full = None if self.sessions.add(sid, session, key) else "max_sessions"
        if full is not None:
            full = await make_room(self.sessions, self._clock(), client)
            if full is None and not self.sessions.add(sid, session, key):
                full = "max_sessions"
        if full is not None:
            await session.aclose()
            await send_refusal(send, no_room(full))
            return
        session.channel.on_close = functools.partial(self._forget, sid, session)
        await self._save(session)
        await self._answer(exchange, receive, send, ((b"mcp-session-id", sid.encode()),))

    async def _post_stateless(
        self, version: str, info: RequestInfo, body: bytes, receive: Receive, send: Send
    ) -> None:
        """Stateless: a fresh session on `version` serves this body alone (an initialize
        too, answered with no session id), then ends with all it held, even when the client
        left mid-answer: no later POST can reach it."""
        session = open_stateless(
            self.server, version, json_response=self.json_response, clock=self._clock
        )
        try:
            exchange = await _submit(session, body, info)
            if exchange is None:  # the session ended before it read the body: not ours to say
                await send_refusal(send, refuse(500, "the request's session ended unread"))
            else:
                await self._answer(exchange, receive, send, ())
        finally:
            await session.aclose()

    async def _answer(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        started, refused = exchange.read
        if refused:
            await send_refusal(send, _bad_body(refused[0]))
        elif not started:
            await send_whole(send, 202, b"", headers)
        elif self.json_response:
            await _send_json(exchange, receive, send, headers)
        else:
            channel = exchange.channel
            assert channel is not None
            # A call's stream waits a moment for its first message, so that a quick answer goes
            # out with the response's head; and a poll's handler has said by then that it
            # wants JSON (HttpChannel.answer_as_json).
            generation = exchange.generation
            try:
                await exchange.wait_ready(generation, FIRST_WAIT)
            except asyncio.CancelledError:  # as if its connection went: the request goes on
                exchange.detach(generation)
                await channel.release(exchange, delivered=False)
                raise
            if exchange.json:
                await channel.forget(exchange)  # not a stream: nothing to keep for a resumption
                await _send_json(exchange, receive, send, headers)
            else:
                await self._stream(channel, exchange, receive, send, headers)

    # --------------------------------------------------------------------- GET

    async def _get(
        self, scope: Scope, receive: Receive, send: Send, token: AccessToken | None
    ) -> None:
        session = await self._known(scope, send, token)
        if session is None:
            return
        last = values_of(scope["headers"], b"last-event-id")
        if last:
            await self._resume(session.channel, last, receive, send)
            return
        stream = await session.channel.open_stream()
        if stream is None:
            # basic/transports: "MAY remain connected to multiple SSE streams"; one is enough
            # here, since each message goes on exactly one stream.
            await send_refusal(send, refuse(409, "this session's GET stream is already open"))
            return
        await self._stream(session.channel, stream, receive, send)

    async def _resume(
        self, channel: HttpChannel, last: list[bytes], receive: Receive, send: Send
    ) -> None:
        """GET with Last-Event-ID: replay what that one stream sent after it, then go on
        (basic/transports, "Resumability and Redelivery")."""
        found = channel.resumable(last)
        if isinstance(found, Refusal):
            logger.info("refused a resumption: %s", found.message)
            await send_refusal(send, found)
            return
        stream, after = found
        generation = channel.resume(stream)
        assert stream.store is not None and stream.id is not None
        events = await stream.store.replay_after(stream.id, after)
        if events is None:
            stream.detach(generation)
            await channel.release(stream, delivered=False)
            await send_refusal(send, expired(last[0]))
            return
        await self._stream(channel, stream, receive, send, resume=Resumption(after, events))

    async def _stream(
        self,
        channel: HttpChannel,
        stream: Stream,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]] = (),
        resume: Resumption | None = None,
    ) -> None:
        """Carry `stream` on this response; then keep it for a resumption, or free it."""
        interval = self.streams.keepalive_interval
        delivered = False
        self._open_streams.add(stream)
        try:
            delivered = await send_sse(
                receive,
                send,
                stream,
                headers,
                resume=resume,
                keepalive_interval=interval,
            )
        finally:
            self._open_streams.discard(stream)
            await channel.release(stream, delivered)
            channel.touch()

    # ------------------------------------------------------------------ DELETE

    async def _delete(self, scope: Scope, send: Send, token: AccessToken | None) -> None:
        session = await self._known(scope, send, token)
        if session is None:
            return
        sid = str(session_id(scope["headers"], required=True))
        if self.sessions.remove(sid) is session:
            await session.aclose()
        if self.session_store is not None:
            await self.session_store.delete(sid)
        await send_whole(send, 200)

    # -------------------------------------------------------------- sessions

    async def _known(
        self, scope: Scope, send: Send, token: AccessToken | None
    ) -> HttpSession | None:
        """The live session a GET or DELETE names (opened by who `token` speaks for), or None
        once refused."""
        headers = scope["headers"]
        version = protocol_version(headers, self.policy.supported_revisions)
        sid = session_id(headers, required=True)
        for found in (version, sid):
            if isinstance(found, Refusal):
                await send_refusal(send, found)
                return None
        owner = None if token is None else identity_of(token)
        session = await self._find(str(sid), headers, owner, _client(scope))
        if isinstance(session, Refusal):
            await send_refusal(send, session)
            return None
        return session


async def _submit(
    session: HttpSession, body: bytes, info: RequestInfo, *, resumable: bool = True
) -> Exchange | None:
    """Hand `body` to the session, which reads it; None if the session ended."""
    try:
        return await session.channel.submit(body, info, resumable=resumable)
    except ConnectionClosed:
        return None


async def _send_json(
    exchange: Exchange, receive: Receive, send: Send, headers: Sequence[tuple[bytes, bytes]]
) -> None:
    """The answer as one JSON object (202 with no body if the client cancelled it). A
    client that goes away meanwhile leaves the call running, no longer holding its session
    against expiry (`HttpChannel.idle_since`)."""
    async with watch_disconnect(receive, exchange):
        data = await exchange.next()
    if exchange.channel is not None:
        exchange.channel.touch()  # the call's idle time starts when its client stopped waiting
    if data:
        await send_whole(send, 200, data, (*_JSON, *headers))
    else:
        await send_whole(send, 202, b"", headers)


def _no_session() -> Refusal:
    refusal = session_id((), required=True)
    assert isinstance(refusal, Refusal)
    return refusal


def _bad_body(answer: bytes) -> Refusal:
    return Refusal(400, "the body is not a JSON-RPC message", answer, _JSON)


def _client(scope: Scope) -> tuple[str, int] | None:
    client = scope.get("client")
    return None if client is None else (str(client[0]), int(client[1]))
