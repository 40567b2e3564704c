"""`Terms`: what one request is served under - its protocol revision and what the peer said
about itself.

Up to 2025-11-25 these are settled once per session by `initialize` (basic/lifecycle), so every
request of a session shares one `Terms` object, made when the handshake ends. From 2026-07-28
a request may carry them itself, in its `_meta` (`io.modelcontextprotocol/protocolVersion`,
`.../clientCapabilities`, `.../clientInfo`: basic/index), with no session at all; such a
request gets `Terms` of its own. Either way a handler reads them from the request
(`RequestReceived.terms`, `Context.terms`), never from the session, so the same handler serves
both eras.

The peer's capabilities are typed by role: `Terms[ClientCapabilities]` on the server (the
client's), `Terms[ServerCapabilities]` on the client (the server's).
"""

from __future__ import annotations

from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

from mcpkit.types import ClientCapabilities, Implementation
from mcpkit.types.methods import MODERN_REVISIONS

__all__ = [
    "LOG_LEVEL_NAMES",
    "KeepsTerms",
    "RequestTerms",
    "Terms",
    "TermsSlot",
    "client_capabilities_of",
    "client_info_of",
    "log_level_of",
    "revision_of",
]

#: The log levels of server/utilities/logging (RFC 5424 severities), least to most severe.
LOG_LEVEL_NAMES: tuple[str, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)

Caps = TypeVar("Caps")


class Terms(msgspec.Struct, Generic[Caps], frozen=True, gc=False):
    """The revision a request is served under, and the peer's info and capabilities.

    `stateless` says there is no session to send requests back on: the request carried its
    terms itself (2026-07-28), or came to a 2025-era server serving stateless HTTP.
    Frozen: one object is shared by all the requests of a session, so it is replaced, never
    changed (a changed copy would silently apply to requests already running).
    """

    revision: str
    peer_capabilities: Caps
    peer_info: Implementation | None = None
    stateless: bool = False
    #: Whether a request served under these terms is modern (2026-07-28: it carried them
    #: itself, and belongs to no session, whatever the transport kept around it): worked
    #: out from the revision and `stateless` when the terms are made (`__post_init__`; a
    #: value given is replaced), so that serving a request reads a field.
    modern: bool = False

    def __post_init__(self) -> None:
        modern = self.stateless and self.revision in MODERN_REVISIONS
        msgspec.structs.force_setattr(self, "modern", modern)


class RequestTerms(Terms[Caps], frozen=True, gc=False):
    """The terms a 2026-07-28 request carries itself: with the least severe log level the
    client wants for this request (`_meta`'s `io.modelcontextprotocol/logLevel`; no log
    messages at all without it). A 2025-era session's level is the session's
    (`logging/setLevel`), kept elsewhere: its Terms hold no slot for this."""

    log_level: str | None = None


def log_level_of(terms: Terms[Any] | None) -> str | None:
    """The log level a modern request's terms ask for (None: none asked, or a session's terms)."""
    return terms.log_level if isinstance(terms, RequestTerms) else None


def client_info_of(terms: Terms[Any] | None) -> Implementation | None:
    """What the client said of itself, under `terms` (None before a handshake)."""
    return None if terms is None else terms.peer_info


def client_capabilities_of(terms: Terms[Any] | None) -> ClientCapabilities:
    """What the client declared it can do, under `terms` (nothing before a handshake)."""
    return _NO_CLIENT_CAPABILITIES if terms is None else terms.peer_capabilities


def revision_of(terms: Terms[Any] | None) -> str | None:
    """The revision of `terms` (None before a handshake)."""
    return None if terms is None else terms.revision


_NO_CLIENT_CAPABILITIES: Final = ClientCapabilities()


class KeepsTerms(Protocol):
    """Where a session's settled terms are kept: a server session's record
    (`mcpkit.stores.sessions.SessionRecord`), so that what `initialize` settled is held in one
    place, the one a store writes (`ServerSession.keep_terms_in`)."""

    terms: Terms[Any] | None


class TermsSlot(msgspec.Struct, gc=False):
    """A `KeepsTerms` for a session that has no record (a client's, or a protocol session
    alone). A struct: made without a Python call, as every session makes one."""

    terms: Terms[Any] | None = None
