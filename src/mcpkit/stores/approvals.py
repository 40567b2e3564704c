"""Out-of-band approvals of tool calls (`when_cannot_ask="url"`): a one-time link the user
opens to approve one call, bound to its caller and to what the call asks, expiring, and
bounded in number; kept in the server's store (`server.store.kv`), so that whichever process
sharing it serves the approval page (`mcpkit.transports.deployment.approval_page`) or the call made
again sees the same approval.

An approval is opened when a call reaches its question, decided on the approval page, and
taken once by the call that retries with the same caller, tool, arguments and question. Both
steps are atomic in the store: a decision is a key under a prefix whose `Limit` holds one,
and taking it is the `ReplayCache`'s `first_use`; of two processes deciding the same link,
or taking the same decision, at once, one does: a decision is made once and used by one
call, never two.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import msgspec

from mcpkit.stores.kv import Limit, entry_size
from mcpkit.stores.kv_slots import release_slot, take_slot

if TYPE_CHECKING:
    from mcpkit.stores.kv import KeyValueStore
    from mcpkit.stores.replay import ReplayCache
    from mcpkit.stores.url import Stores

__all__ = [
    "APPROVAL_PATH",
    "DEFAULT_APPROVAL_TTL",
    "MAX_APPROVALS",
    "MAX_APPROVALS_PER_CALLER",
    "Approval",
    "Approvals",
    "approval_page_origin",
    "approvals_of",
]

#: Where the HTTP app serves the approval page, below its root (the links lead there).
APPROVAL_PATH: Final = "/mcp-approval"
#: Host names served over plain http by default (a local server has no certificate).
_LOOPBACK: Final = ("localhost", "127.0.0.1", "[::1]")
#: Seconds a link stays valid, and an approval waits for its call to be made again.
DEFAULT_APPROVAL_TTL: Final = 600.0
#: Approvals open at once for one caller, and in all: past these no new one is opened until
#: some are used or expire, so that no caller can fill the store, nor lock another out
#: (callers with no identity share half of `MAX_APPROVALS`).
MAX_APPROVALS_PER_CALLER: Final = 16
MAX_APPROVALS: Final = 4096


def approval_page_origin(host: str, forwarded_proto: str | None) -> str:
    """The origin the approval page is served on as the server sees it: the request's `Host`
    with the scheme of `X-Forwarded-Proto` (behind a proxy), else http for a loopback host
    and https for any other. The links lead there, and the page takes decisions from there."""
    scheme = forwarded_proto
    if scheme not in ("http", "https"):
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        scheme = "http" if name.lower() in _LOOPBACK else "https"
    return f"{scheme}://{host}"


Decision = Literal["approved", "declined"]
_DECISIONS: Final[tuple[Decision, ...]] = ("approved", "declined")


@dataclass(slots=True)
class Approval:
    """One call waiting for the user's decision: `token` is in its link, `form_token` in
    the page's form only (a POST must carry both: nothing is decided by opening the link);
    `id` names it where a name is no secret (a URL elicitation's id, a question's key).
    `expires` is wall-clock seconds (the processes sharing a store may be on several hosts)."""

    id: str
    token: str
    form_token: str
    caller: str | None
    binding: str
    tool: str
    message: str
    expires: float
    decision: Decision | None = None


_decoder: Final = msgspec.json.Decoder(Approval)


class Approvals:
    """The approvals in `kv` (records) and `replay` (the one-time steps), the stores every
    process sharing them sees. A link's token is random and its binding names the server,
    so the servers of one store keep theirs apart."""

    __slots__ = ("_kv", "_replay", "ttl")

    def __init__(
        self, kv: KeyValueStore, replay: ReplayCache, ttl: float = DEFAULT_APPROVAL_TTL
    ) -> None:
        self._kv = kv
        self._replay = replay
        self.ttl = ttl

    async def open(
        self, caller: str | None, binding: str, tool: str, message: str
    ) -> Approval | None:
        """The approval of this call: the one already open for it (the same link, while the
        user has not decided), else a new one; None when the caller, or the server, has as
        many open as it may."""
        known = await self._kv.get(self._call_key(caller, binding))
        if known is not None:
            found = await self._record(known.decode())
            if found is not None:
                return found
        token = secrets.token_urlsafe(32)
        taken: list[str] = []
        for prefix, count in self._slots(caller):
            if not await take_slot(self._kv, prefix, token, count, self.ttl):
                for held in taken:
                    await release_slot(self._kv, held, token)
                return None
            taken.append(prefix)
        approval = Approval(
            id=secrets.token_urlsafe(9),
            token=token,
            form_token=secrets.token_urlsafe(32),
            caller=caller,
            binding=binding,
            tool=tool,
            message=message,
            expires=time.time() + self.ttl,
        )
        await self._kv.set(self._key("approval", token), msgspec.json.encode(approval), self.ttl)
        await self._kv.set(self._call_key(caller, binding), token.encode(), self.ttl)
        return approval

    async def take(self, caller: str | None, binding: str) -> Decision | None:
        """The user's decision on this call, used up by this call; None while undecided (and
        for every call but one when several take the same decision at once)."""
        known = await self._kv.get(self._call_key(caller, binding))
        if known is None:
            return None
        token = known.decode()
        decision = await self._decided(token)
        if decision is None:
            return None
        if not await self._replay.first_use(self._key("approval-taken", token), self.ttl):
            return None  # another call took it
        for key in (
            self._key("approval", token),
            *(self._decision_key(token, d) for d in _DECISIONS),
            self._call_key(caller, binding),
        ):
            await self._kv.delete(key)
        for prefix, _ in self._slots(caller):
            await release_slot(self._kv, prefix, token)
        return decision

    async def shown(self, token: str) -> Approval | None:
        """The undecided approval whose link holds `token`, for its page."""
        found = await self._record(token)
        if found is None or await self._decided(token) is not None:
            return None
        return found

    async def decide(self, token: str, form_token: str, decision: Decision) -> Approval | None:
        """Record the user's decision, when `form_token` is the one of `token`'s page and no
        decision was made on it (by this process or another): the approval, else None."""
        approval = await self.shown(token)
        if approval is None or not hmac.compare_digest(approval.form_token, form_token):
            return None
        # One step of the store: the decisions of a link are keys of one size under a prefix
        # whose `Limit` holds one, so of two written at once (two workers) one is kept.
        key = self._decision_key(token, decision)
        limit = Limit(f"approval-decision:{token}:", entry_size(key, b""))
        if not await self._kv.set(key, b"", self.ttl, limit=limit):
            return None  # decided already, maybe at this very moment elsewhere
        approval.decision = decision
        return approval

    async def _decided(self, token: str) -> Decision | None:
        for decision in _DECISIONS:
            if await self._kv.get(self._decision_key(token, decision)) is not None:
                return decision
        return None

    def _decision_key(self, token: str, decision: Decision) -> str:
        return f"approval-decision:{token}:{decision}"  # ("approved", "declined": one size)

    async def _record(self, token: str) -> Approval | None:
        if not token:
            return None
        data = await self._kv.get(self._key("approval", token))
        return None if data is None else _decoder.decode(data)

    def _key(self, kind: str, token: str) -> str:
        return f"{kind}:{token}"

    def _call_key(self, caller: str | None, binding: str) -> str:
        call = hashlib.sha256(msgspec.json.encode([caller, binding])).hexdigest()
        return f"approval-call:{call}"

    def _slots(self, caller: str | None) -> tuple[tuple[str, int], ...]:
        """The counted slots an approval of `caller` holds: the server's, and the caller's."""
        everyone = ("approval-n:", MAX_APPROVALS)
        if caller is None:  # no identity: the anonymous share one, larger, count
            return everyone, ("approval-c:-:", MAX_APPROVALS // 2)
        who = hashlib.sha256(caller.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return everyone, (f"approval-c:{who}:", MAX_APPROVALS_PER_CALLER)


def approvals_of(store: Stores) -> Approvals:
    """The approvals kept in `store`: those the tools of the servers using it open, and the
    page of any HTTP app serving one of them shows (a mounted server's tools open theirs
    where the app of the server they are mounted in serves the page, in the same store)."""
    return Approvals(store.kv, store.replay)
