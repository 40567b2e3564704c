"""What the state modules read of a server and of a request, as narrow Protocols: naming
`Context` or `ServerCore` here would close an import cycle through the modules that name
this room (`Context` delegates `ctx.get_state()` to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.events import RequestInfo
    from mcpkit.protocol.terms import Terms
    from mcpkit.server.catalog.callers import Served

__all__ = ["StateRequest"]


class StateRequest(Protocol):
    """A request as the state modules read it (a `Context`).

    These are what decide whose state a request reads: the server (its store and name),
    the session of a 2025-11-25 request, and for a 2026-07-28 one, which has no session,
    the caller's token, the request's `_meta` and its HTTP facts (`state.caller`). The
    method and terms say which era the request is of."""

    @property
    def server(self) -> Served: ...

    @property
    def session(self) -> object: ...

    @property
    def method(self) -> str: ...

    @property
    def terms(self) -> Terms[Any] | None: ...

    @property
    def auth(self) -> AccessToken | None: ...

    @property
    def meta(self) -> dict[str, Any] | None: ...

    @property
    def request_info(self) -> RequestInfo | None: ...
