"""Which targets a page's request may connect to as they are: a URL (nothing is started), the
target given on the inspector's own command line, and one the person confirmed in the page.
Any other target starts a process as the inspector's user, so the page that asked is shown the
exact command over its own event stream, with a nonce bound to that page: the answer to the
request never holds the nonce, so a request alone, even one that carries the inspector's
token, never runs a command, and neither does a caller echoing back what it was answered."""

from __future__ import annotations

import secrets
import shlex
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpkit.client.target import Target

__all__ = ["CONFIRMATION_LIFETIME", "Approvals", "ConfirmationNeeded"]

#: Seconds a confirmation the page was asked for stays good (the person reads the command).
CONFIRMATION_LIFETIME = 300.0
#: Confirmations waiting at once; asking for more forgets the oldest.
_MAX_WAITING = 16


class ConfirmationNeeded(Exception):
    """`target` starts `command`, which nobody confirmed; the page that asked (`page`) is
    shown it and sends `nonce` back if the person runs it."""

    def __init__(self, target: str, command: str, nonce: str, page: str | None = None) -> None:
        super().__init__(f"{target!r} runs `{command}`: confirm it in the page first")
        self.target = target
        self.command = command
        self.nonce = nonce
        self.page = page

    def as_json(self) -> dict[str, Any]:
        """What the request that asked is answered: never the nonce."""
        return {"target": self.target, "command": self.command}

    def for_page(self) -> dict[str, Any]:
        """What the page's own event stream carries, for its Run button."""
        return {"target": self.target, "command": self.command, "nonce": self.nonce}


class Approvals:
    """The targets that need no confirmation (`trusted`: those of the command line), and the
    confirmations asked for and not yet given."""

    def __init__(
        self, trusted: Iterable[str | None] = (), *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        #: (target, variables added): the command line's with none; a confirmed one with
        #: those it was confirmed with.
        self._trusted: set[tuple[str, tuple[tuple[str, str], ...]]] = {
            (text.strip(), ()) for text in trusted if text
        }
        self._clock = clock
        #: nonce -> (target, command shown, the page shown it, the clock's time it expires)
        self._waiting: dict[str, tuple[str, str, str | None, float]] = {}

    def check(
        self,
        target: Target,
        confirmation: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        page: str | None = None,
    ) -> None:
        """Return if `target` may be connected to with the environment variables `env`
        added; else raise ConfirmationNeeded with a new nonce for `page` (the key of the
        open page that asks; None: no page, so nothing can confirm it). `confirmation`: the
        nonce of an earlier ConfirmationNeeded, good once, from the page it was shown to, for
        that target and command only; once given, the target (with those variables) is
        trusted from then on. A variable can change what a command runs (`LD_PRELOAD`,
        `PYTHONPATH`): the command shown names them, and the command line's target with
        variables added is asked about too."""
        text = target.text.strip()
        if not target.spawns:
            return
        variables = tuple(sorted((env or {}).items()))
        if (text, variables) in self._trusted:
            return
        command = _command(target.argv_or_url, variables)
        if confirmation is not None and self._confirmed(confirmation, text, command, page):
            self._trusted.add((text, variables))
            return
        nonce = secrets.token_urlsafe(18)
        self._waiting[nonce] = (text, command, page, self._clock() + CONFIRMATION_LIFETIME)
        while len(self._waiting) > _MAX_WAITING:
            del self._waiting[next(iter(self._waiting))]
        raise ConfirmationNeeded(target.text, command, nonce, page)

    def _confirmed(self, nonce: str, text: str, command: str, page: str | None) -> bool:
        waiting = self._waiting.pop(nonce, None)  # spent, whatever it confirms
        if waiting is None or page is None:
            return False
        shown, expires = waiting[:3], waiting[3]
        # the command shown must still be what runs (a file may have appeared on PATH since),
        # and the page it was shown to must be the one whose person pressed Run
        return shown == (text, command, page) and self._clock() < expires


def _command(argv: tuple[str, ...] | str, variables: tuple[tuple[str, str], ...]) -> str:
    """The command as a shell would run it: the variables first (`NAME=value cmd ...`)."""
    words = [argv] if isinstance(argv, str) else list(argv)
    return shlex.join([*(f"{name}={value}" for name, value in variables), *words])
