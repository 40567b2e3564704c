"""How a browser logs in to the inspector without its token ever appearing in a command line
or a URL: the link the inspector prints, and the one in the private file it opens in a browser
(launcher.py), carry a one-time code, and the page that code opens sets an HttpOnly,
SameSite=Strict cookie holding the token. No code is ever in a browser's arguments (readable by
every local user, `ps`); should the browser's code still be used by someone else first, the
browser brings it spent, and every login is revoked."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from mcpkit._asgi import Scope

__all__ = ["BROWSER_CODE_LIFETIME", "Logins"]

#: Seconds the code in the link given to the browser stays good (it is used within one or two).
BROWSER_CODE_LIFETIME = 60.0


class Logins:
    """The token a logged-in browser holds (in a cookie), and the one-time codes that log one
    in. `clock`: seconds, monotonic (tests pass their own)."""

    def __init__(
        self, token: str | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self._clock = clock
        #: code -> the clock's time after which it is refused (None: good until used)
        self._codes: dict[str, float | None] = {}
        #: codes given to a browser, and whether each was spent
        self._exposed: dict[str, bool] = {}
        #: code -> what to do once it is spent (delete the file that held it)
        self._on_redeemed: dict[str, Callable[[], None]] = {}

    def one_time_code(
        self,
        lifetime: float | None = BROWSER_CODE_LIFETIME,
        *,
        exposed: bool = True,
        on_redeemed: Callable[[], None] | None = None,
    ) -> str:
        """A code that logs in one browser, once, within `lifetime` seconds (None: until it
        is used). `exposed`: the code is given to a browser that brings it once, so a second
        use means someone may have used it first (`reused`); False for the link printed in
        the terminal, which a person may try in a second browser. `on_redeemed` is called
        once the code logged a browser in."""
        code = secrets.token_urlsafe(24)
        self._codes[code] = None if lifetime is None else self._clock() + lifetime
        if exposed:
            self._exposed[code] = False
        if on_redeemed is not None:
            self._on_redeemed[code] = on_redeemed
        return code

    def redeem(self, code: str) -> bool:
        """Whether `code` is good; it is spent either way."""
        now = self._clock()
        for known in [c for c, until in self._codes.items() if until is not None and now >= until]:
            del self._codes[known]
            self._on_redeemed.pop(known, None)
        # every code compared, in constant time: how long this takes says nothing of any
        found = [known for known in self._codes if _same(known, code)]
        for known in found:
            del self._codes[known]
            if known in self._exposed:
                self._exposed[known] = True
            done = self._on_redeemed.pop(known, None)
            if done is not None:
                done()
        return bool(code) and bool(found)

    def reused(self, code: str) -> bool:
        """Whether `code` is an exposed code that was spent already."""
        return any(spent and _same(known, code) for known, spent in self._exposed.items())

    def revoke(self) -> None:
        """Log every browser out: a new token, which no cookie holds."""
        self.token = secrets.token_urlsafe(32)

    def holds_token(self, scope: Scope) -> bool:
        """Whether the request carries this inspector's cookie."""
        return _same(_cookie(scope, cookie_name(scope)), self.token)

    def set_cookie(self, scope: Scope) -> tuple[bytes, bytes]:
        """The header that gives the browser the token: unreadable by scripts (HttpOnly),
        sent only with requests this site makes itself (SameSite=Strict), kept until the
        browser closes."""
        value = f"{cookie_name(scope)}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        return (b"set-cookie", value.encode())


def cookie_name(scope: Scope) -> str:
    """Cookies ignore ports: each inspector (one per port) names its own."""
    server = scope.get("server")
    return f"mcpkit_inspector_{server[1]}" if server else "mcpkit_inspector"


def _cookie(scope: Scope, name: str) -> str:
    for key, value in scope["headers"]:
        if key != b"cookie":
            continue
        for pair in bytes(value).decode("latin-1").split(";"):
            key_text, _, found = pair.strip().partition("=")
            if key_text == name:
                return found
    return ""


def _same(text: str, secret: str) -> bool:
    """Constant-time equality; as bytes, since a request may send any character."""
    return secrets.compare_digest(
        text.encode("utf-8", "surrogateescape"), secret.encode("utf-8", "surrogateescape")
    )
