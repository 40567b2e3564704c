"""How many live sessions, or 2026-07-28 requests in flight, one client may hold (a user by its
token, else an address: `ClientCaps`), and how room is made for one more session: at its cap a
client's own longest-idle session ends, and when the server's `max_sessions` are live the idle
ones go, or else the one idle the longest (`make_room`); only when every one that would have
to end is busy is the newcomer refused, 503 with Retry-After naming the setting. The spec's
transport section sets no such numbers: they are what one deployment lets one client cost.

A cap must never lock everyone out: clients that never send DELETE (the official MCP
Inspector's CLI, say) would otherwise hold every place until the idle timeout, and one client
could hold every place of the server.

It relies on: of the binding, the registry of live sessions (`live_sessions.SessionRegistry`:
counted by client, the idle ones found, `end_expired`) and its refusals (`checks.refuse`).
The binding and the legacy endpoint ask it what they need as `live_sessions.ClientRoom`, and
import nothing of this package."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from mcpkit.transports.http.checks import Refusal, refuse
from mcpkit.transports.http.live_sessions import Expirable, SessionRegistry, end_expired

__all__ = [
    "DEFAULT_MAX_REQUESTS_PER_ADDRESS",
    "DEFAULT_MAX_REQUESTS_PER_USER",
    "DEFAULT_MAX_SESSIONS_PER_ADDRESS",
    "DEFAULT_MAX_SESSIONS_PER_USER",
    "ClientCaps",
    "make_room",
]

logger = logging.getLogger("mcpkit.http")

S = TypeVar("S", bound=Expirable)

#: Live sessions one authenticated user (token subject, or client for client credentials)
#: may hold at once on one endpoint.
DEFAULT_MAX_SESSIONS_PER_USER: Final = 100
#: Live sessions one client address may hold at once when the endpoint has no auth.
DEFAULT_MAX_SESSIONS_PER_ADDRESS: Final = 1000
#: 2026-07-28 requests (calls, open `subscriptions/listen` streams) one authenticated user may
#: have in flight at once; the same figures as the sessions', which they replace in that era.
DEFAULT_MAX_REQUESTS_PER_USER: Final = 100
#: 2026-07-28 requests one client address may have in flight at once without auth.
DEFAULT_MAX_REQUESTS_PER_ADDRESS: Final = 1000


@dataclass(frozen=True, slots=True)
class ClientCaps:
    """How many live sessions one client may hold: `per_user` for an authenticated user (its
    token's subject, or its client for client credentials), `per_address` for a client
    address when the endpoint has no auth. A client at its cap that opens one more ends its
    own longest-idle session, so one client cannot fill the server's `max_sessions`.

    `kind` names what is counted, and so the settings (`max_{kind}_per_user`, ...): the same
    caps count a client's 2026-07-28 requests in flight (`kind="requests"`,
    `own_calls.OwnCalls.let_in`)."""

    per_user: int = DEFAULT_MAX_SESSIONS_PER_USER
    per_address: int = DEFAULT_MAX_SESSIONS_PER_ADDRESS
    kind: str = "sessions"
    # The settings' names, made once (`of` runs for every request).
    user_setting: str = field(init=False, repr=False, compare=False)
    address_setting: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.per_user < 1 or self.per_address < 1:
            raise ValueError(
                f"max_{self.kind}_per_user and max_{self.kind}_per_address must be >= 1"
            )
        object.__setattr__(self, "user_setting", f"max_{self.kind}_per_user")
        object.__setattr__(self, "address_setting", f"max_{self.kind}_per_address")

    def of(self, owner: object, address: str | None) -> tuple[Hashable, int, str] | None:
        """Who opens a session (`owner`: `identity_of` its token; else its `address`), their
        cap, and the setting naming it; None when neither is known."""
        if owner is not None:
            return ("user", owner), self.per_user, self.user_setting
        if address is not None:
            return ("address", address), self.per_address, self.address_setting
        return None

    async def make_room(
        self,
        sessions: SessionRegistry[Any],
        now: float,
        client: tuple[Hashable, int, str] | None,
        label: str = "",
    ) -> Refusal | None:
        """`make_room` for `client` (from `of`), and the 503 when it found none."""
        full = await make_room(sessions, now, client)
        return None if full is None else self.refusal(full, label)

    def refusal(self, setting: str, label: str = "") -> Refusal:
        """The 503 of a cap found full (`setting`), saying what to do: of the sessions (whose
        `label` says which, "legacy SSE " say) or of the 2026-07-28 requests in flight."""
        if self.kind == "requests":
            return _no_request_room(setting)
        if setting == "max_sessions":
            why = f"this server's live {label}sessions are at its max_sessions setting"
        else:
            who = "user" if setting == "max_sessions_per_user" else "client address"
            why = f"this {who} holds as many live {label}sessions as its {setting} setting allows"
        return refuse(
            503,
            f"{why}, and each of them is busy: end one (DELETE), try again later, or raise "
            f"{setting}",
            headers=((b"retry-after", b"5"),),
        )


async def make_room(
    sessions: SessionRegistry[S],
    now: float,
    client: tuple[Hashable, int, str] | None = None,
) -> str | None:
    """Room for one session more in `sessions` for `client` (from `ClientCaps.of`): None
    when there is some, after ending the client's longest-idle session when it is at its
    cap, and those idle past the idle timeout or else the one idle the longest when the
    registry is full. Otherwise the name of the setting that is exhausted
    (`max_sessions_per_user`, `max_sessions_per_address`, `max_sessions`): every session
    that would have to end is busy (a request running, a stream connected), for a 503 with
    Retry-After."""
    if client is not None:
        key, cap, setting = client
        if sessions.count(key) >= cap:
            found = sessions.longest_idle(key)
            if found is None:
                return setting
            await _end(sessions, *found)
            logger.info("a client was at its %s cap: ended its session idle the longest", setting)
    if not sessions.full() or (await end_expired(sessions, now) and not sessions.full()):
        return None
    found = sessions.longest_idle()
    if found is None:
        return "max_sessions"
    await _end(sessions, *found)
    logger.info("the sessions were at their cap: ended the one idle the longest")
    return None if not sessions.full() else "max_sessions"


async def _end(sessions: SessionRegistry[S], session_id: str, session: S) -> None:
    sessions.remove(session_id)
    await session.end()


def _no_request_room(setting: str) -> Refusal:
    """The 503 for an `OwnCalls.let_in` that found none: the client's cap, and what to do."""
    who = "user" if setting.endswith("_per_user") else "client address"
    return refuse(
        503,
        f"this {who} has as many requests in flight as its {setting} setting allows, each a "
        f"call still running (none a subscriptions/listen to end): wait for one to finish, "
        f"try again later, or raise {setting}",
        headers=((b"retry-after", b"5"),),
    )
