"""What the state modules read of a server and of a request, as narrow Protocols: naming
`Context` or `ServerApi` here would close an import cycle through the modules that name
this room (`Context` delegates `ctx.get_state()` to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.terms import Terms
    from mcpkit.stores.url import Stores

__all__ = ["Mounting", "Served", "StateRequest", "outermost"]


class Served(Protocol):
    """A server as the state modules read it."""

    @property
    def name(self) -> str: ...

    @property
    def store(self) -> Stores: ...

    @property
    def mounted_in(self) -> Mounting | None: ...


class Mounting(Protocol):
    """Where a mounted server sits: the server it is mounted in."""

    @property
    def parent(self) -> Served: ...


class StateRequest(Protocol):
    """A request as the state modules read it (a `Context`)."""

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


def outermost(server: Served) -> Served:
    """The server the client talks to, whose sessions these are, when `server` is mounted."""
    while (mounting := server.mounted_in) is not None:
        server = mounting.parent
    return server
