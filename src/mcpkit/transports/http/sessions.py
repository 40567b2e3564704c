"""A Streamable HTTP endpoint's live sessions: what one is (`HttpSession`), and where they are
kept: a small registry interface and its in-memory implementation, with a cap on live
sessions and an idle expiry (spec: basic/transports, "Session Management")."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

from mcpkit.protocol.lifecycle import ServerSession
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.transports.http.streams import HttpChannel

__all__ = [
    "Expirable",
    "HostServer",
    "HttpSession",
    "MemorySessionRegistry",
    "SessionHandle",
    "SessionRegistry",
    "end_expired",
    "make_room",
]

logger = logging.getLogger("mcpkit.http")


class Expirable(Protocol):
    """What a registry needs of a session: when it last went idle (None while it is busy:
    serving a request or holding a stream open, which never expires)."""

    @property
    def idle_since(self) -> float | None: ...

    async def aclose(self) -> None: ...


S = TypeVar("S", bound=Expirable)


class SessionRegistry(Protocol[S]):
    """The live sessions of one endpoint, by Mcp-Session-Id. A shared store implements the
    same operations later; the app never reaches past them."""

    def get(self, session_id: str) -> S | None: ...

    def add(self, session_id: str, session: S) -> bool: ...

    def remove(self, session_id: str) -> S | None: ...

    def expired(self, now: float) -> list[tuple[str, S]]: ...

    def full(self) -> bool: ...

    def longest_idle(self) -> tuple[str, S] | None: ...

    def items(self) -> list[tuple[str, S]]: ...

    def __len__(self) -> int: ...


class MemorySessionRegistry(Generic[S]):
    """Sessions in a dict: at most `max_sessions` live at once, and those idle for
    `idle_timeout` seconds (by the clock the caller passes to `expired`) are due to end."""

    __slots__ = ("_sessions", "idle_timeout", "max_sessions")

    def __init__(self, *, max_sessions: int, idle_timeout: float) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if idle_timeout <= 0:
            raise ValueError("session_idle_timeout must be a positive number of seconds")
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, S] = {}

    def get(self, session_id: str) -> S | None:
        return self._sessions.get(session_id)

    def add(self, session_id: str, session: S) -> bool:
        """Keep `session`; False (and nothing kept) when `max_sessions` are live already."""
        if self.full():
            return False
        self._sessions[session_id] = session
        return True

    def remove(self, session_id: str) -> S | None:
        return self._sessions.pop(session_id, None)

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

    def longest_idle(self) -> tuple[str, S] | None:
        """The session idle the longest (no request running, no stream connected), or None
        when every one is busy. A scan: it runs only when the registry is full."""
        found: tuple[str, S] | None = None
        oldest = 0.0
        for session_id, session in self._sessions.items():
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
        await session.aclose()
    if expired:
        logger.info("%d idle sessions expired", len(expired))
    return len(expired)


async def make_room(sessions: SessionRegistry[S], now: float) -> bool:
    """Room for one session more in `sessions`: True when there is some, after ending those
    idle past the idle timeout or else the one idle the longest; False when every session is
    busy (a request running or a stream connected), for a 503 with Retry-After.

    A cap must never lock everyone out: clients that never send DELETE (the official MCP
    Inspector's CLI, say) would otherwise hold every place until the idle timeout.
    """
    if not sessions.full() or (await end_expired(sessions, now) and not sessions.full()):
        return True
    found = sessions.longest_idle()
    if found is None:
        return False
    session_id, session = found
    sessions.remove(session_id)
    await session.aclose()
    logger.info("the sessions were at their cap: ended the one idle the longest")
    return not sessions.full()


class SessionHandle(Protocol):
    """What the app needs of a session the server built (`ServerSessionHandle`)."""

    @property
    def connection(self) -> Connection: ...


class HostServer(Protocol):
    """What the app needs of the server it serves (`mcpkit.Server`; transports sit below the
    server layer, so they name only this)."""

    @property
    def max_message_size(self) -> int: ...

    @property
    def sessions(self) -> set[Any]: ...

    def new_connection(self, channel: MessageChannel) -> SessionHandle: ...

    def running(self) -> AbstractAsyncContextManager[object]: ...

    def scopes_for(self, method: str, target: str) -> frozenset[str]:
        """The scopes a `method` request on the item `target` (a tool's or prompt's name, a
        resource's URI) needs beyond the endpoint's own (empty for most)."""
        ...


class HttpSession:
    """One client's session: the channel its HTTP requests share, and the running session.

    No task runs while it is idle: each POST's own task hands its body to the session
    (`HttpChannel.submit`), and only the handlers it starts are tasks."""

    __slots__ = ("channel", "handle", "owner", "server")

    def __init__(self, server: HostServer, channel: HttpChannel, handle: SessionHandle) -> None:
        self.server = server
        self.channel = channel
        self.handle = handle
        #: Who opened it (`mcpkit.auth.server.resource.identity_of` its token); None without
        #: auth. A request of anyone else finds no such session (spec: basic/security).
        self.owner: object = None

    @property
    def opened(self) -> bool:
        """Whether the session has answered an initialize request (and may be kept)."""
        session = self.handle.connection.session
        return not isinstance(session, ServerSession) or session.phase != "new"

    @property
    def idle_since(self) -> float | None:
        return self.channel.idle_since

    async def aclose(self) -> None:
        """End the session and free what it holds: streams end, handlers are cancelled."""
        self.server.sessions.discard(self.handle)
        await self.channel.aclose()
        await self.handle.connection.aclose()
