"""The lifecycle's phases as tables: what each side may receive and send in each phase, and what
moves a session from one phase to the next (spec: basic/lifecycle).

A 2025-era session goes through initialization, then operation:

    server:  new --initialize answered--> initializing --notifications/initialized--> operating
    client:  new --initialize sent--> initializing --its result--> operating
                                                   --a revision it does not speak--> failed

"The client SHOULD NOT send requests other than pings before the server has responded to the
initialize request" and "the server SHOULD NOT send requests other than pings and logging
before receiving the initialized notification": the `sends` column. Each side refuses what
arrives too early with -32600 (Invalid Request), the `receives` column. A server is lenient
with a client that sends requests after initialize was answered but before `initialized`
(several clients do), and notifies from then on (a list change made right after the handshake
still reaches the client).

A stateless session (Streamable HTTP without sessions) has one phase: it serves whatever
comes, `initialize` included, and never sends a request, since the client's answer would
arrive on another HTTP request with no session to reach.

A modern request (2026-07-28) carries its terms in `_meta` and needs no handshake: in a phase whose
`modern` allows it (before any handshake, or stateless), it is served under the "modern"
row instead of the session's, whatever the session's phase, and the session's phase does not
change.

`Session` subclasses hold a phase name and consult these tables; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import msgspec

__all__ = [
    "CLIENT_PHASES",
    "CLIENT_STEPS",
    "SERVER_PHASES",
    "SERVER_STEPS",
    "Phase",
    "next_phase",
]


class Phase(msgspec.Struct, frozen=True, kw_only=True):
    """What a session may do in one phase.

    `receives` are the requests the peer may send (None: any but those in `refuses`, which
    maps a method to why it is refused); `too_early` is the refusal of any other request.
    `sends` are the requests we may send (None: any); `cannot_send` says why another may not.
    `notifies`: whether we may send notifications that are not about a request (list changes,
    resource updates). `modern`: whether a modern request (2026-07-28: its revision and the
    client's capabilities in its `_meta`) may be served under what it carries, whatever the
    phase's other columns say; only where no handshake has settled the session's terms."""

    receives: frozenset[str] | None
    refuses: dict[str, str] = msgspec.field(default_factory=dict[str, str])  # (never changed)
    too_early: str = ""
    sends: frozenset[str] | None
    cannot_send: str = ""
    notifies: bool
    modern: bool = False

    def refusal(self, method: str) -> str | None:
        """Why a request for `method` from the peer is refused now; None to serve it."""
        if self.receives is None:
            return self.refuses.get(method)
        if method in self.receives:
            return None
        return self.too_early.format(method=method)

    def send_refusal(self, method: str) -> str | None:
        """Why we may not send a request for `method` now; None if we may."""
        if self.sends is None or method in self.sends:
            return None
        return self.cannot_send.format(method=method)


_PING: Final = frozenset({"ping"})
# A second initialize is refused: the handshake settles the session's terms once, and every
# request served since holds them (`Terms`); new ones would apply to some requests, not others.
_AGAIN: Final = {"initialize": "Invalid Request: the session is already initialized"}
_NOT_YET_INITIALIZED: Final = (
    "cannot send {method} before the client has sent notifications/initialized"
)
_STATELESS_SEND: Final = (
    "cannot send {method} to the client: this server serves stateless HTTP, where the client's "
    "answer would arrive on another POST with no session to reach; serve with stateless=False "
    "(the default) to use sampling, elicitation and roots"
)

_MODERN_SEND: Final = (
    "cannot send {method} to the client: a 2026-07-28 request has no session to send requests "
    "on; its handler asks the client through the request's result (basic/patterns/mrtr)"
)

#: The server's phases.
SERVER_PHASES: Final[Mapping[str, Phase]] = MappingProxyType(
    {
        "new": Phase(
            receives=frozenset({"initialize", "ping"}),
            too_early="Invalid Request: {method} received before initialize; "
            "the client must send initialize first",
            sends=_PING,
            cannot_send=_NOT_YET_INITIALIZED,
            notifies=False,
            modern=True,
        ),
        "initializing": Phase(
            receives=None,
            refuses=_AGAIN,
            sends=_PING,
            cannot_send=_NOT_YET_INITIALIZED,
            notifies=True,
        ),
        "operating": Phase(receives=None, refuses=_AGAIN, sends=None, notifies=True),
        # No `refuses`: each POST may open with its own initialize, which is answered again.
        "stateless": Phase(
            receives=None,
            sends=frozenset(),
            cannot_send=_STATELESS_SEND,
            notifies=True,
            modern=True,
        ),
        # A modern request (2026-07-28), in a phase that allows them:
        # any method of its revision, and nothing sent to the client but about the request.
        "modern": Phase(
            receives=None,
            sends=frozenset(),
            cannot_send=_MODERN_SEND,
            notifies=False,
        ),
    }
)

# The client until the server has answered initialize, and after an answer it cannot use: it
# serves only ping and sends only ping and initialize (basic/lifecycle, Initialization).
_CLIENT_WAITING: Final = Phase(
    receives=_PING,
    too_early="Invalid Request: {method} received before initialization finished",
    sends=frozenset({"ping", "initialize"}),
    cannot_send="cannot send {method} before initialization finished",
    notifies=False,
)

#: The client's phases ("failed": the server chose a revision the client does not speak).
CLIENT_PHASES: Final[Mapping[str, Phase]] = MappingProxyType(
    {
        "new": _CLIENT_WAITING,
        "initializing": _CLIENT_WAITING,
        "operating": Phase(receives=None, sends=None, notifies=True),
        "failed": _CLIENT_WAITING,
    }
)

#: (phase, what happened) -> the server's next phase. A session restored from a saved record
#: starts in the phase its record says (`ServerSession.resume`).
SERVER_STEPS: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        ("new", "initialize answered"): "initializing",
        ("initializing", "notifications/initialized"): "operating",
        ("new", "stateless"): "stateless",
        ("stateless", "initialize answered"): "stateless",
    }
)

#: (phase, what happened) -> the client's next phase.
CLIENT_STEPS: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        ("new", "initialize sent"): "initializing",
        ("initializing", "initialize result"): "operating",
        ("initializing", "unsupported revision"): "failed",
    }
)


def next_phase(steps: Mapping[tuple[str, str], str], phase: str, happened: str) -> str | None:
    """The phase `happened` leads to from `phase`; None when it changes nothing there (an
    `initialized` notification the server already had, say)."""
    return steps.get((phase, happened))
