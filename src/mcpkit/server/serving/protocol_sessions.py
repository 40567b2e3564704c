"""`ProtocolSessions`: the protocol sessions a `Server` builds, an object the `Server` holds:
a new one for each client session (`new`), and for the one that reads every modern request
(2026-07-28: `mcpkit.server.request_peer.RequestPeers.reader`). All of them
share one codec of the terms of 2026-07-28 requests and the heads of their answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from mcpkit.protocol.extensions import TASKS
from mcpkit.protocol.modern import CachePolicy, ModernCodec, ModernOffer
from mcpkit.protocol.server_session import ServerSession
from mcpkit.server.catalog.calling.tool_calls import MODERN_PARAM_TYPES, PARAM_TYPES
from mcpkit.server.catalog.extension_methods import method_infos
from mcpkit.server.catalog.listeners import ListenParams
from mcpkit.server.middleware.protocol_requests import intercepted
from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS

if TYPE_CHECKING:
    from mcpkit.server.catalog.catalog import Catalog
    from mcpkit.types import Implementation, ServerCapabilities

__all__ = ["FeatureSession", "ProtocolHost", "ProtocolSessions"]

#: What a modern request (2026-07-28) is decoded into, where it differs.
_MODERN_PARAM_TYPES: Mapping[str, type] = {
    **MODERN_PARAM_TYPES,
    "subscriptions/listen": ListenParams,
}


class FeatureSession(ServerSession):
    """The protocol session of a `Server`'s client: 2026-07-28 tools/call params decode into
    the type that keeps the arguments raw, as 2025's do, and subscriptions/listen's into the
    type that takes the tasks extension's `taskIds` (a class attribute, so an idle session
    holds nothing for it)."""

    modern_param_types = _MODERN_PARAM_TYPES


class ProtocolHost(Protocol):
    """What a protocol session is built with, read of its server (`mcpkit.Server`) each time
    one is built: its settings may change until it serves, its capabilities at any time,
    each change counted in its catalog's `changes` (a setting replaced: `Server.__setattr__`),
    which is how `RequestPeers.reader` knows one was."""

    @property
    def info(self) -> Implementation: ...

    @property
    def instructions(self) -> str | None: ...

    @property
    def cache(self) -> CachePolicy: ...

    @property
    def max_message_size(self) -> int: ...

    @property
    def max_json_depth(self) -> int: ...

    @property
    def max_inflight(self) -> int: ...

    @property
    def serves_tasks(self) -> bool: ...

    @property
    def middleware(self) -> tuple[Any, ...]: ...

    def capabilities(self) -> ServerCapabilities: ...


class ProtocolSessions:
    """The protocol sessions of `host`, whose features are `catalog`'s, each of
    `session_type` (a proxy's answers `initialize` itself)."""

    def __init__(
        self, host: ProtocolHost, catalog: Catalog, session_type: type[ServerSession]
    ) -> None:
        self._host = host
        self._catalog = catalog
        self._session_type = session_type
        #: Shared by the sessions built here: what one request taught it serves the next
        #: (the terms of a `_meta` already seen, the head of a method's answers).
        self.codec = ModernCodec((*MODERN_REVISIONS, *SUPPORTED_REVISIONS))
        self._modern: ModernOffer | None = None

    def _offer(self) -> ModernOffer:
        """What the sessions built now offer 2026-07-28 requests: one object while the host's
        cache hints and the extensions it serves stay as they were (a setting may change until
        the server serves), shared by those sessions."""
        host = self._host
        # The tasks extension (SEP-2663) is offered only by a server that runs tasks.
        extensions = (TASKS,) if host.serves_tasks else ()
        offer = self._modern
        if offer is None or offer.cache is not host.cache or offer.extensions != extensions:
            offer = self._modern = ModernOffer(
                SUPPORTED_REVISIONS,
                cache=host.cache,
                param_types=self._session_type.modern_param_types,
                extensions=extensions,
                codec=self.codec,
            )
        return offer

    def new(self) -> ServerSession:
        """A new protocol session, with the host's settings and what it declares now.

        Read from the host at each call, never cached here: a session takes the capabilities
        and limits in force when it starts, and keeps them (basic/lifecycle: what was agreed
        at initialization holds for the session)."""
        host = self._host
        catalog = self._catalog
        session = self._session_type(
            host.info,
            host.capabilities(),
            instructions=host.instructions,
            max_message_size=host.max_message_size,
            max_json_depth=host.max_json_depth,
            max_inflight=host.max_inflight,
            param_types=PARAM_TYPES,
            # Only the methods this server serves: a client calling a skills method of a
            # server with no skills gets -32601 from the protocol, as for any unknown method.
            extension_methods=method_infos(len(catalog.skills) > 0, catalog.extension_method_names),
            modern=self._offer(),
        )
        # The handshake's requests typed middleware has hooks for reach the middleware (a
        # proxy's sessions hand out initialize and server/discover anyway, to the proxy).
        # Decided per session, when it is built: middleware added later applies to the
        # sessions that start after it.
        hooked = intercepted(host.middleware) if host.middleware else None
        if hooked and issubclass(self._session_type, FeatureSession):
            session.intercepts = hooked
        return session
