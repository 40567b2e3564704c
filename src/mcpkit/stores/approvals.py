"""Out-of-band approvals of tool calls (`when_cannot_ask="url"`): a one-time link the user
opens to approve one call, bound to its caller and to what the call asks, expiring, and
bounded in number; kept in this process's memory, one `Approvals` for all the servers it
runs (a mounted server's tools open theirs where the app of the server it is mounted in
serves the page).

An approval is opened when a call reaches its question, decided on the approval page
(`mcpkit.transports.http.approval_page`), and taken once by the call that retries with the
same caller, tool, arguments and question: a decision is used by one call, never two.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "APPROVAL_PATH",
    "DEFAULT_APPROVAL_TTL",
    "MAX_APPROVALS",
    "MAX_APPROVALS_PER_CALLER",
    "Approval",
    "Approvals",
    "process_approvals",
]

#: Where the HTTP app serves the approval page, below its root (the links lead there).
APPROVAL_PATH: Final = "/mcp-approval"
#: Seconds a link stays valid, and an approval waits for its call to be made again.
DEFAULT_APPROVAL_TTL: Final = 600.0
#: Approvals open at once for one caller, and in all: past these the oldest is dropped (its
#: link stops working), so that no caller can fill the memory, nor lock another out.
MAX_APPROVALS_PER_CALLER: Final = 16
MAX_APPROVALS: Final = 4096

Decision = Literal["approved", "declined"]


@dataclass(slots=True)
class Approval:
    """One call waiting for the user's decision: `token` is in its link, `form_token` in
    the page's form only (a POST must carry both: nothing is decided by opening the link);
    `id` names it where a name is no secret (a URL elicitation's id, a question's key)."""

    id: str
    token: str
    form_token: str
    caller: str | None
    binding: str
    tool: str
    message: str
    expires: float
    decision: Decision | None = None


class Approvals:
    """The approvals of one server, in this process's memory."""

    __slots__ = ("_by_call", "_by_token", "clock", "ttl")

    def __init__(
        self, ttl: float = DEFAULT_APPROVAL_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._by_token: dict[str, Approval] = {}  # oldest first
        self._by_call: dict[tuple[str | None, str], str] = {}

    def open(self, caller: str | None, binding: str, tool: str, message: str) -> Approval:
        """The approval of this call: the one already open for it (the same link, while the
        user has not decided), else a new one, dropping the oldest past the bounds."""
        self._expire()
        known = self._by_call.get((caller, binding))
        if known is not None:
            return self._by_token[known]
        mine = [a for a in self._by_token.values() if a.caller == caller]
        if len(mine) >= MAX_APPROVALS_PER_CALLER:
            self._drop(mine[0])
        if len(self._by_token) >= MAX_APPROVALS:
            self._drop(next(iter(self._by_token.values())))
        approval = Approval(
            id=secrets.token_urlsafe(9),
            token=secrets.token_urlsafe(32),
            form_token=secrets.token_urlsafe(32),
            caller=caller,
            binding=binding,
            tool=tool,
            message=message,
            expires=self.clock() + self.ttl,
        )
        self._by_token[approval.token] = approval
        self._by_call[(caller, binding)] = approval.token
        return approval

    def take(self, caller: str | None, binding: str) -> Decision | None:
        """The user's decision on this call, used up by this call; None while undecided."""
        self._expire()
        token = self._by_call.get((caller, binding))
        approval = None if token is None else self._by_token[token]
        if approval is None or approval.decision is None:
            return None
        self._drop(approval)
        return approval.decision

    def shown(self, token: str) -> Approval | None:
        """The undecided approval whose link holds `token`, for its page."""
        self._expire()
        approval = self._by_token.get(token)
        return approval if approval is not None and approval.decision is None else None

    def decide(self, token: str, form_token: str, decision: Decision) -> Approval | None:
        """Record the user's decision, when `form_token` is the one of `token`'s page."""
        approval = self.shown(token)
        if approval is None or not hmac.compare_digest(approval.form_token, form_token):
            return None
        approval.decision = decision
        return approval

    def __len__(self) -> int:
        return len(self._by_token)

    def _drop(self, approval: Approval) -> None:
        del self._by_token[approval.token]
        del self._by_call[(approval.caller, approval.binding)]

    def _expire(self) -> None:
        now = self.clock()
        for approval in [a for a in self._by_token.values() if a.expires <= now]:
            self._drop(approval)


_process: Final = Approvals()


def process_approvals() -> Approvals:
    """The approvals of this process: those its tools open and its HTTP apps' pages show."""
    return _process
