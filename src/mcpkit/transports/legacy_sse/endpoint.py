"""The legacy HTTP+SSE transport of protocol 2024-11-05, served beside the Streamable HTTP
endpoint (2025-11-25 basic/transports, "Backwards Compatibility"): a GET opens a session's SSE
stream, whose first event names the URL its client POSTs each message to.

The routes, the stream and the session registry live here; what a POST is checked against
and answered with is `message_posts`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mcpkit._asgi import Receive, Scope, Send, local_path, values_of
from mcpkit.auth.server.resource import identity_of
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.protocol.events import RequestInfo
from mcpkit.stores.sessions import owner_key
from mcpkit.transports.guards.origin import OriginPolicy
from mcpkit.transports.http._exchange import (
    BodyBudget,
    send_refusal,
)
from mcpkit.transports.http.checks import (
    Refusal,
    check_accept,
    check_content_length,
    check_content_type,
    check_origin,
    client_address,
)
from mcpkit.transports.http.live_sessions import (
    ClientRoom,
    HostServer,
    MemorySessionRegistry,
    SessionRegistry,
    TokenGuard,
)
from mcpkit.transports.http.post import read_body
from mcpkit.transports.http.stream_storing import QueuedBudget
from mcpkit.transports.legacy_sse.legacy_session import LegacyChannel, LegacySession
from mcpkit.transports.legacy_sse.message_posts import (
    busy_session,
    only_method,
    query_session,
    submit,
    unknown_session,
)
from mcpkit.transports.sse import encode_comment, encode_event

__all__ = ["LegacySse", "LegacySseEndpoint", "legacy_endpoint"]

logger = logging.getLogger("mcpkit.http")

_SSE_HEADERS: Final = (
    (b"content-type", b"text/event-stream"),
    # Proxies must neither cache nor buffer a stream (nginx reads X-Accel-Buffering).
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


@dataclass(frozen=True, slots=True)
class LegacySse:
    """Where the legacy transport is served, relative to the app's mount point (ASGI
    `root_path`), and how often an idle stream gets a keep-alive comment (seconds), so that
    proxies with idle timeouts leave it open."""

    sse_path: str = "/sse"
    messages_path: str = "/messages"
    keepalive_interval: float = 15.0

    def __post_init__(self) -> None:
        # Checked at construction, so a wrong setting fails when the app is built, not when
        # the first legacy client connects. The two paths must differ because the endpoint
        # dispatches on the path alone: one would hide the other.
        for name in ("sse_path", "messages_path"):
            value: str = getattr(self, name)
            if not value.startswith("/"):
                raise ValueError(f"{name} {value!r} must start with '/', e.g. '/sse'")
        if self.sse_path.rstrip("/") == self.messages_path.rstrip("/"):
            raise ValueError("sse_path and messages_path must differ")
        if not self.keepalive_interval > 0:
            raise ValueError("keepalive_interval must be a positive number of seconds")


class LegacySseEndpoint:
    """GET `sse_path` and POST `messages_path` for legacy clients, with the Streamable HTTP
    endpoint's protections (Origin and Host, body size) and session limits (`max_sessions`
    live at once, `client_caps` for one user or address, `idle_timeout` seconds without
    activity ends one)."""

    def __init__(
        self,
        server: HostServer,
        settings: LegacySse,
        *,
        origin: OriginPolicy,
        max_sessions: int,
        idle_timeout: float,
        clock: Callable[[], float] = time.monotonic,
        client_caps: ClientRoom,
        bodies: BodyBudget | None = None,
        queued: QueuedBudget | None = None,
    ) -> None:
        self.server = server
        # The app's budgets, shared with the MCP endpoint (bytes of bodies being read, bytes
        # queued for slow readers): the old transport gets no separate allowance of memory.
        self.bodies = bodies
        self.queued = queued
        self.client_caps = client_caps
        self.settings = settings
        self.origin = origin
        self.max_message_size = server.max_message_size
        # In memory only, never in the app's session store: a legacy session is its open GET
        # in this process (2024-11-05 has no resumption), so no other process could serve it.
        # Separate from the Streamable HTTP registry, with its own max_sessions.
        self.sessions: SessionRegistry[LegacySession] = MemorySessionRegistry(
            max_sessions=max_sessions, idle_timeout=idle_timeout
        )
        self.idle_timeout = idle_timeout
        self._clock = clock
        #: The MCP endpoint's protection, when it has one (`McpHttpApp` sets it).
        self.guard: TokenGuard | None = None
        # Keyed by the path without a trailing slash, as `local_path` gives it, so "/sse/"
        # and "/sse" are one route; the values are the two handlers.
        self._paths = {
            settings.sse_path.rstrip("/") or "/": self._sse,
            settings.messages_path.rstrip("/") or "/": self._message,
        }

    def serves(self, scope: Scope) -> bool:
        """Whether the request is for one of the legacy paths."""
        return local_path(scope) in self._paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request on a legacy path (the app asked `serves` first).

        The same gates as the MCP endpoint, in the same order: Origin first (a browser page
        must not reach a local server through DNS rebinding: the 2025-11-25 Streamable HTTP
        "Security Warning" holds for the old transport as much), then the token, whose
        refusal carries the same 401/403 challenge. Only then the path's own checks.
        """
        refusal = check_origin(self.origin, scope["headers"])
        if refusal is not None:
            logger.info("refused legacy %s: %s", scope["method"], refusal.message)
            await send_refusal(send, refusal)
            return
        token: AccessToken | None = None
        if self.guard is not None:
            found = await self.guard.admit(scope)
            if isinstance(found, Refusal):
                logger.info("refused legacy %s: %s", scope["method"], found.message)
                await send_refusal(send, found)
                return
            token = found
        await self._paths[local_path(scope)](scope, receive, send, token)

    # --------------------------------------------------------------- the stream

    async def _sse(
        self, scope: Scope, receive: Receive, send: Send, token: AccessToken | None
    ) -> None:
        """GET `sse_path`: open a session and serve its stream for as long as the GET lasts.

        The session is registered under its owner (the token's identity) so that only the
        same identity may POST to it, and counted against the caps before it exists: a 503
        when every session that could make room is busy.
        """
        headers = scope["headers"]
        refusal = only_method(scope["method"], "GET")
        if refusal is None and values_of(headers, b"accept"):
            refusal = check_accept("GET", headers)  # no Accept at all is what old clients send
        owner = None if token is None else identity_of(token)
        address = client_address(scope)
        client = self.client_caps.of(owner, None if address is None else address[0])
        if refusal is None:
            refusal = await self.client_caps.make_room(
                self.sessions, self._clock(), client, "legacy SSE "
            )
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        session = self._open()
        sid = session.handle.id
        session.owner = owner
        # Room made, and awaited: another GET may have taken the room meanwhile, so add can still
        # refuse; the session just opened is then ended before anything was sent for it.
        if not self.sessions.add(sid, session, None if client is None else client[0]):
            await session.end()
            await send_refusal(send, self.client_caps.refusal("max_sessions", "legacy SSE "))
            return
        try:
            await self._stream(scope, receive, send, sid, session)
        finally:
            # The GET is the session's life: when it ends, for whatever reason, so does the
            # session. It may already be gone from the registry (expired or shut down).
            if self.sessions.get(sid) is session:
                self.sessions.remove(sid)
            await session.end()

    def _open(self) -> LegacySession:
        """A new session with its channel, counted among the server's sessions like any other
        (so notifications to every session, and shutdown, reach it), and started."""
        channel = LegacyChannel(clock=self._clock, budget=self.queued)
        handle = self.server.new_connection(channel)
        self.server.sessions.add(handle)
        return LegacySession(self.server, channel, handle)

    async def _stream(
        self, scope: Scope, receive: Receive, send: Send, sid: str, session: LegacySession
    ) -> None:
        """The endpoint event, then every message of the session, until either side ends."""
        stream = session.channel.stream
        # The endpoint URL is relative to the host the client reached us by (it resolves it
        # against the stream's URL), and includes the mount point, so it works behind a
        # prefix-stripping proxy that sets root_path. The session id goes in the query,
        # as the 2024-11-05 clients expect.
        root = urllib.parse.quote(str(scope.get("root_path", "")).rstrip("/"))
        endpoint = f"{root}{self.settings.messages_path}?session_id={sid}"
        # An idle stream writes nothing for a while, so a client that hung up is noticed from
        # the server's http.disconnect, not from a failed write.
        watcher = asyncio.get_running_loop().create_task(_close_on_disconnect(receive, session))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [*_SSE_HEADERS]})
            # 2024-11-05 basic/transports: the first event is `endpoint`, with the POST URI.
            await _body(send, encode_event(endpoint.encode(), event="endpoint"))
            while (data := await self._next(session)) is not None:
                await _body(send, data)
                stream.sent()
                del data  # not held while the next one is awaited: it may be a whole answer
            # The session ended, or the stream was ended for reading too slowly
            # (max_queued_bytes): so does the response (ignored if the client is gone).
            await send({"type": "http.response.body", "body": b""})
        except OSError:  # the server's way of saying the client is gone
            pass
        finally:
            stream.detach()  # what is still queued for this response is dropped
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _next(self, session: LegacySession) -> bytes | None:
        """The next message as an event, a keep-alive comment after `keepalive_interval`
        quiet seconds, or None once the session ended or idled out.

        This is where an idle legacy session ends: the app's periodic sweep expires only the
        Streamable HTTP registry, and every legacy session has its stream open, so the
        keep-alive tick is the one timer it has.
        Without it a client holding the GET open and never POSTing kept a session for ever.
        """
        try:
            async with asyncio.timeout(self.settings.keepalive_interval):
                data = await session.channel.stream.reading().next()
        except TimeoutError:
            since = session.idle_since
            if since is not None and self._clock() - since >= self.idle_timeout:
                logger.info("a legacy SSE session idle for %s s ended", self.idle_timeout)
                return None
            return encode_comment()
        return None if data is None else encode_event(data, event="message")

    # ------------------------------------------------------------- the messages

    async def _message(
        self, scope: Scope, receive: Receive, send: Send, token: AccessToken | None
    ) -> None:
        """POST `messages_path?session_id=...`: hand one JSON-RPC body to its session.

        Cheap checks (method, content type, declared length, the id's shape) come before the
        lookup, and the lookup before the body is read, so that a flood of bad or unknown
        POSTs costs no body reads. The answer comes later on the stream, never in this
        response, which is a bare 202 Accepted.
        """
        headers = scope["headers"]
        refusal = (
            only_method(scope["method"], "POST")
            or check_content_type(headers)
            or check_content_length(headers, self.max_message_size)
        )
        found = query_session(scope) if refusal is None else refusal
        if isinstance(found, Refusal):
            await send_refusal(send, found)
            return
        session = self.sessions.get(found)
        if session is not None and session.owner != owner_key(identity_of(token)):
            session = None  # another identity's: as if unknown
        # A full session is refused before its body is read: reading it would hold it in
        # memory behind answers the client is not reading (429, with Retry-After).
        if session is None or session.channel.full:
            await send_refusal(send, unknown_session(found) if session is None else busy_session())
            return
        body = await read_body(receive, self.max_message_size, self.bodies)
        # Scopes per message, as on the MCP endpoint: the token may allow some tools and
        # not others, and that is judged against what this body asks for.
        if body is not None and not isinstance(body, Refusal) and token is not None:
            assert self.guard is not None  # a token comes from it
            rules = session.handle.record.components  # (what the session may see)
            body = self.guard.check_scopes(scope, token, body, rules) or body
        if isinstance(body, Refusal):
            await send_refusal(send, body)
        elif body is not None:
            info = RequestInfo("http", headers, client_address(scope), token)
            await submit(session, body, info, send)

    # ---------------------------------------------------------------- sessions

    def close_streams(self) -> None:
        """End every session's stream now (a shutdown begins: uvicorn waits for open responses
        before the lifespan shutdown); each session ends when its GET does."""
        for _, session in self.sessions.items():
            session.channel.close()

    async def aclose_sessions(self) -> None:
        """End every live legacy session (at shutdown): their streams end.

        `items()` is a copy, so removing while iterating is safe; each GET's own `finally`
        then finds its session gone and only ends it again, which does nothing.
        """
        for sid, session in self.sessions.items():
            self.sessions.remove(sid)
            await session.end()


def legacy_endpoint(
    server: HostServer,
    setting: bool | LegacySse,
    origin: OriginPolicy,
    max_sessions: int,
    idle_timeout: float,
    clock: Callable[[], float] = time.monotonic,
    *,
    mcp_path: str = "/mcp",
    client_caps: ClientRoom,
    bodies: BodyBudget | None = None,
    queued: QueuedBudget | None = None,
) -> LegacySseEndpoint | None:
    """The endpoint the app's `legacy_sse` setting asks for (True: the default paths), or None.

    On by default: clients that speak only 2024-11-05, and the fallback of newer ones
    (basic/transports, "Backwards Compatibility"), reach the server with no setting; it costs
    nothing until a client opens a stream, and has the MCP endpoint's protections and limits.
    """
    settings = LegacySse() if setting is True else setting or None
    if settings is None:
        return None
    # The app routes the MCP endpoint first: a legacy path equal to its path would never be
    # reached, so the clash is refused when the app is built rather than found by a client.
    for name in ("sse_path", "messages_path"):
        if getattr(settings, name).rstrip("/") == mcp_path.rstrip("/"):
            raise ValueError(
                f"the legacy {name} is the MCP endpoint's path {mcp_path!r}: give "
                f"LegacySse({name}=...) another path, or pass legacy_sse=False"
            )
    return LegacySseEndpoint(
        server,
        settings,
        origin=origin,
        max_sessions=max_sessions,
        idle_timeout=idle_timeout,
        clock=clock,
        client_caps=client_caps,
        bodies=bodies,
        queued=queued,
    )


async def _body(send: Send, data: bytes) -> None:
    """One chunk of the stream's response, which stays open for more."""
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _close_on_disconnect(receive: Receive, session: LegacySession) -> None:
    """End the session's stream and channel when the client hangs up its GET.

    Closing the channel ends the session's receive loop, so the session ends with it:
    there is no reconnecting to a legacy session.
    """
    # No body comes with the GET: the next message the server gives is http.disconnect.
    while (await receive())["type"] != "http.disconnect":
        pass
    session.channel.stream.close()
    session.channel.close()
