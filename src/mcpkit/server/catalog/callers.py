"""Who a request comes from and which server it reached, as the rooms that keep things per
caller read them (state, overflowed results, out-of-band approvals, round-trip state): the
server the client talks to when the one serving is mounted, and the spelling of a token's
owner. In the catalog room, which every room that keeps things per caller may import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from mcpkit.server.session import ServerSessionHandle
from mcpkit.stores.sessions import owner_key

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.terms import Terms
    from mcpkit.stores.url import Stores

__all__ = ["Asking", "Mounting", "Served", "lasting_session", "outermost", "principal_of"]


class Served(Protocol):
    """A server as the per-caller rooms read it (`Server`)."""

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


S = TypeVar("S", bound=Served)


def outermost(server: S) -> S:
    """The server the client talks to (whose sessions, store and app serve the request) when
    `server` is mounted in others; `server` itself when it is not. A server is only ever
    mounted in a server of its own kind, hence the one type."""
    found: Served = server
    while (mounting := found.mounted_in) is not None:
        found = mounting.parent
    return cast("S", found)


def principal_of(token: AccessToken | None) -> str | None:
    """Who a token is issued to: its issuer and subject (as a session's owner, `owner_key`)
    and its client, as one JSON array, so no two callers share a spelling whatever their
    names hold; None without auth, as over stdio."""
    if token is None:
        return None
    from mcpkit.auth.server.resource import identity_of  # (loaded already where auth is)

    return owner_key((*(identity_of(token) or ()), token.client_id))


class Asking(Protocol):
    """A request as `lasting_session` reads it (a `Context`)."""

    @property
    def terms(self) -> Terms[Any] | None: ...

    @property
    def session(self) -> object: ...


def lasting_session(ctx: Asking) -> str | None:
    """The id of the session the request of `ctx` belongs to when that session outlives it (a
    2025-11-25 session); None for a request that stands alone: a 2026-07-28 one, and any
    served by a stateless HTTP app (`--stateless`), whose session is made for that request
    and gone with it, so that what is kept for it would be kept for no one."""
    terms = ctx.terms
    if terms is not None and terms.stateless:
        return None
    session = ctx.session
    return session.id if isinstance(session, ServerSessionHandle) else None
