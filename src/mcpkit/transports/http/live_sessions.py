"""A Streamable HTTP endpoint's live sessions: what one is (`HttpSession`), and where they are
kept: a small registry interface and its in-memory implementation, with a cap on live
sessions and an idle expiry (spec: basic/transports, "Session Management"). And what the
binding needs of what lies outside it, each named by what it does: the server
(`HostServer`), what serves one 2026-07-28 request (`RequestServer`), a session's handle
(`SessionHandle`), and, of the deployment, the bearer-token check (`TokenGuard`) and each
client's caps with the room made for a new session (`ClientRoom`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from mcpkit._asgi import Scope
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.outbox import ModernRead
from mcpkit.protocol.server_session import ServerSession
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.reply import Reply
from mcpkit.runtime.response import Response
from mcpkit.stores.component_rules import ComponentRule
from mcpkit.stores.sessions import SessionRecord, owner_key
from mcpkit.transports.http.checks import Refusal
from mcpkit.transports.http.streams import NO_RESUMPTION, HttpChannel, StreamSettings

__all__ = [
    "ClientRoom",
    "Expirable",
    "HostServer",
    "HttpSession",
    "MemorySessionRegistry",
    "RequestServer",
    "SessionHandle",
    "SessionRegistry",
    "TokenGuard",
    "end_expired",
]

logger = logging.getLogger("mcpkit.http")


class Expirable(Protocol):
    """What a registry needs of a session: when it last went idle (None while it is busy:
    serving a request or holding a stream open, which never expires), and how to end it."""

    @property
    def idle_since(self) -> float | None: ...

    async def end(self) -> None: ...


S = TypeVar("S", bound=Expirable)


class SessionRegistry(Protocol[S]):
    """The live sessions of one endpoint, by Mcp-Session-Id. A shared store implements the
    same operations later; the app never reaches past them."""

    @property
    def get(self) -> Callable[[str], S | None]:
        """What finds the session an id names, or None (a method does, as a callable
        attribute may: `MemorySessionRegistry`'s is its dict's own)."""
        ...

    def add(self, session_id: str, session: S, client: Hashable = None) -> bool: ...

    def remove(self, session_id: str) -> S | None: ...

    def expired(self, now: float) -> list[tuple[str, S]]: ...

    def full(self) -> bool: ...

    def count(self, client: Hashable) -> int: ...

    def longest_idle(self, client: Hashable = None) -> tuple[str, S] | None: ...

    def items(self) -> list[tuple[str, S]]: ...

    def __len__(self) -> int: ...


class MemorySessionRegistry(Generic[S]):
    """Sessions in a dict: at most `max_sessions` live at once, and those idle for
    `idle_timeout` seconds (by the clock the caller passes to `expired`) are due to end.
    Each session may be added for a client (who opened it: a user, an address), whose
    sessions are counted apart (`count`, `longest_idle(client)`)."""

    def __init__(self, *, max_sessions: int, idle_timeout: float) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if idle_timeout <= 0:
            raise ValueError("session_idle_timeout must be a positive number of seconds")
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, S] = {}
        #: The session an id names, or None: the dict's own `get`, which every request naming
        #: a session asks, with nothing of the registry's around it.
        self.get: Callable[[str], S | None] = self._sessions.get
        self._clients: dict[str, Hashable] = {}  # session id -> its client, when it has one
        self._by_client: dict[Hashable, dict[str, None]] = {}  # client -> its session ids

    def add(self, session_id: str, session: S, client: Hashable = None) -> bool:
        """Keep `session` (opened by `client`, if not None); False (and nothing kept) when
        `max_sessions` are live already."""
        if self.full():
            return False
        self._sessions[session_id] = session
        if client is not None:
            self._clients[session_id] = client
            self._by_client.setdefault(client, {})[session_id] = None
        return True

    def remove(self, session_id: str) -> S | None:
        client = self._clients.pop(session_id, None)
        if client is not None:
            ids = self._by_client[client]
            del ids[session_id]
            if not ids:
                del self._by_client[client]
        return self._sessions.pop(session_id, None)

    def count(self, client: Hashable) -> int:
        """How many live sessions `client` opened."""
        ids = self._by_client.get(client)
        return 0 if ids is None else len(ids)

    def expired(self, now: float) -> list[tuple[str, S]]:
        """The sessions idle since `now - idle_timeout` or earlier (still registered: the
        caller ends and removes each)."""
        limit = now - self.idle_timeout
        found: list[tuple[str, S]] = []
        for session_id, session in self._sessions.items():
            since = session.idle_since
            if since is not None and since <= limit:
                found.append((session_id, session))
        return found

    def full(self) -> bool:
        return len(self._sessions) >= self.max_sessions

    def longest_idle(self, client: Hashable = None) -> tuple[str, S] | None:
        """The session idle the longest (no request running, no stream connected), of
        `client`'s when given, or None when every one is busy. A scan: it runs only when the
        registry, or the client's share of it, is full."""
        found: tuple[str, S] | None = None
        oldest = 0.0
        candidates: Iterable[tuple[str, S]]
        if client is None:
            candidates = self._sessions.items()
        else:
            sessions = self._sessions
            candidates = ((sid, sessions[sid]) for sid in self._by_client.get(client, ()))
        for session_id, session in candidates:
            since = session.idle_since
            if since is not None and (found is None or since < oldest):
                found, oldest = (session_id, session), since
        return found

    def items(self) -> list[tuple[str, S]]:
        """Every (id, session), as a list the caller may change the registry while reading."""
        return list(self._sessions.items())

    def __len__(self) -> int:
        return len(self._sessions)


async def end_expired(sessions: SessionRegistry[S], now: float) -> int:
    """End the sessions idle past the registry's idle timeout at `now`; how many there were."""
    expired = sessions.expired(now)
    for session_id, session in expired:
        sessions.remove(session_id)
        await session.end()
    if expired:
        logger.info("%d idle sessions expired", len(expired))
    return len(expired)


class ClientRoom(Protocol):
    """How many live sessions, or 2026-07-28 requests in flight, one client may hold, and the
    room made for one more session (the deployment's `transports.deployment.client_caps.
    ClientCaps`, which says why): named by what it does, so that neither this binding nor the
    legacy endpoint imports the deployment."""

    def of(self, owner: object, address: str | None) -> tuple[Hashable, int, str] | None:
        """Who the client is (who its token speaks for, else its address), its cap, and the
        setting naming the cap; None when neither is known."""
        ...

    async def make_room(
        self,
        sessions: SessionRegistry[Any],
        now: float,
        client: tuple[Hashable, int, str] | None,
        label: str = "",
    ) -> Refusal | None:
        """Room for one session more in `sessions` for `client` (from `of`) at `now`, or the
        503 to send (`label` says which sessions, "legacy SSE " say)."""
        ...

    def refusal(self, setting: str, label: str = "") -> Refusal:
        """The 503 of the cap `setting` found full."""
        ...


class RequestServer(Reply, Protocol):
    """What the app needs of what serves one modern request: the request's reply and its
    peer (the two its exchange is made with: `runtime.connection.serve` serves it), and what
    reads its body."""

    @property
    def reader(self) -> ServerSession:
        """The server's reading session (`ServerSession.read_sessionless`), which keeps nothing."""
        ...

    async def answer_read(self, read: ModernRead) -> tuple[bool, list[bytes]]:
        """Answer what `read` found when it holds no request to serve; (whether it held
        anything awaiting an answer, the refusal of the body)."""
        ...


class SessionHandle(Protocol):
    """What the app needs of a session the server built (`ServerSessionHandle`)."""

    @property
    def connection(self) -> Connection: ...

    @property
    def record(self) -> SessionRecord: ...

    @property
    def id(self) -> str: ...

    #: Whether the record changed since it was built, read back or last written.
    dirty: bool

    async def run(self) -> None: ...

    def refresh(self, record: SessionRecord) -> None:
        """Take the changes another process made to this session's record."""
        ...


class TokenGuard(Protocol):
    """What the endpoints need of the bearer-token check of a protected endpoint (spec:
    basic/authorization; the deployment's `transports.deployment.guard.Guard`, which it puts
    in front of them when it has `auth`): named by what it does, so that neither this binding
    nor the legacy endpoint imports the deployment."""

    async def admit(self, scope: Scope) -> AccessToken | Refusal:
        """The request's verified token, or the 400/401/403/503 refusal to send."""
        ...

    def check_scopes(
        self,
        scope: Scope,
        token: AccessToken,
        body: bytes,
        session_rules: tuple[ComponentRule, ...] = (),
    ) -> Refusal | None:
        """403 when `body` names an item needing scopes `token` lacks; None otherwise (an
        item the session's rules, `session_rules`, hide is left to the session)."""
        ...


class HostServer(Protocol):
    """What the binding needs of the server it serves (`mcpkit.Server`; transports sit below
    the server layer, so they name only this). What hosting it needs besides is the
    deployment's `transports.deployment.hosted_server.HostedServer`."""

    @property
    def max_message_size(self) -> int: ...

    @property
    def sessions(self) -> set[Any]: ...

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> SessionHandle: ...

    def restore(self, record: SessionRecord, channel: MessageChannel) -> SessionHandle: ...

    @property
    def request_peer(self) -> Callable[[Response], RequestServer]:
        """What makes the peer of one modern request (2026-07-28),
        writing to the response it is given (`mcpkit.server.request_peer.RequestPeer`)."""
        ...

    def handle_request(self, handle: Any, ev: RequestReceived) -> Awaitable[Any]:
        """Serve one request `ev` of `handle`'s, a `request_peer` (`runtime.connection.serve`)."""
        ...

    def end_listen(self, request: object) -> bool:
        """Answer the `subscriptions/listen` served by `request` (a `request_peer`) now,
        its graceful end; whether it serves one."""
        ...


class HttpSession(HttpChannel):
    """One client's session over Streamable HTTP, as one object: the channel its HTTP
    requests share (`HttpChannel`), the running session it carries (`handle`, whose record
    holds what the session is), and what the app's registry keeps.

    No task runs while it is idle: each POST's own task hands its body to the session
    (`HttpChannel.submit`), and only the handlers it starts are tasks. Built with a fresh
    record by default, with `record` (a stateless POST's), or rebuilt from `restore` (a
    record read from the store: `Server.restore`). `on_close` is told once when the channel
    closes (its runtime failed, or it was ended), so the app forgets it."""

    __slots__ = ("_on_close", "handle", "server")

    def __init__(
        self,
        server: HostServer,
        *,
        record: SessionRecord | None = None,
        restore: SessionRecord | None = None,
        json_response: bool = False,
        clock: Callable[[], float] = time.monotonic,
        settings: StreamSettings = NO_RESUMPTION,
        on_close: Callable[[HttpSession], None] | None = None,
    ) -> None:
        super().__init__(json_response=json_response, clock=clock, settings=settings)
        self.server = server
        self._on_close = on_close
        self.handle = (
            server.new_connection(self, record)
            if restore is None
            else server.restore(restore, self)
        )

    @property
    def session_id(self) -> str | None:
        return self.handle.id

    @property
    def revision(self) -> str | None:
        """The revision the handshake negotiated, from the terms the session's record holds
        (read where they are kept, with no call: every POST asks)."""
        terms = self.handle.record.terms
        return None if terms is None else terms.revision

    @property
    def owner(self) -> str | None:
        """Who opened it: `owner_key` of `mcpkit.auth.server.resource.identity_of` its
        token; None without auth. A request of anyone else finds no such session (spec:
        basic/security)."""
        return self.handle.record.owner

    @owner.setter
    def owner(self, identity: object) -> None:
        self.handle.record.owner = owner_key(identity)
        self.handle.dirty = True

    @property
    def opened(self) -> bool:
        """Whether the session has answered an initialize request, or middleware is about
        to (and may be kept)."""
        session = self.handle.connection.session
        return (
            not isinstance(session, ServerSession)
            or session.phase != "new"
            or (session.initializing)
        )

    def _ended(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close(self)

    async def end(self) -> None:
        """End the session and free what it holds: streams end, handlers are cancelled (its
        connection closes this channel, `aclose`)."""
        self.server.sessions.discard(self.handle)
        await self.handle.connection.aclose()
