"""What the operator configured for an API (its client's default query parameters, headers and
credentials, the `user:password` of a base URL), kept out of what a call's errors tell the
MCP client: an error names the operation by its path template, never by the URL sent, and
an error body or message that echoes one of these values shows `[redacted]` in its place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote, urlsplit

from mcpkit._extras import needs_extra

if TYPE_CHECKING:
    import httpx

__all__ = ["Redactor", "redactor_of", "without_urls"]

#: Headers every client sends that carry nothing of the operator's (their values are common
#: words that redacting would only garble).
_PLAIN_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "connection", "user-agent", "content-type", "host"}
)
#: Values shorter than this are left alone: too short to be a secret, and common enough
#: ("1", "en", "json") that redacting them would garble every message.
_SHORTEST: Final = 4
#: A URL in an exception's message (httpx names the URL it could not reach in some).
_URL: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_REDACTED: Final = "[redacted]"


class Redactor:
    """Replaces each configured value found in a text with `[redacted]`."""

    __slots__ = ("_pattern",)

    def __init__(self, values: Iterable[str]) -> None:
        kept = sorted({v for v in values if len(v) >= _SHORTEST}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, kept))) if kept else None

    def text(self, text: str) -> str:
        """`text` with every configured value in it redacted."""
        return text if self._pattern is None else self._pattern.sub(_REDACTED, text)

    def body(self, body: object) -> object:
        """An error body (text, decoded JSON or bytes) with the configured values redacted: a
        JSON value that held one comes back as its compact text, redacted."""
        if self._pattern is None or body is None:
            return body
        if isinstance(body, str):
            return self.text(body)
        if isinstance(body, bytes):
            shown = body.decode("utf-8", errors="replace")
            return self.text(shown) if self._pattern.search(shown) else body
        text = json.dumps(body, separators=(",", ":"), default=repr)
        return self.text(text) if self._pattern.search(text) else body


def redactor_of(client: httpx.AsyncClient, server_url: str | None) -> Redactor:
    """The `Redactor` of what `client` (and the document's `server_url`) was configured with."""
    with needs_extra("openapi"):
        import httpx

    values: list[str] = []
    for url in (str(client.base_url), server_url or ""):
        parts = urlsplit(url)
        for part in (parts.username, parts.password):
            if part:
                values += [part, unquote(part)]
    values += [str(v) for _, v in client.params.multi_items()]
    values += [v for k, v in client.headers.items() if k.lower() not in _PLAIN_HEADERS]
    if isinstance(client.auth, httpx.BasicAuth):  # (its flow only sets one header)
        signed = next(client.auth.sync_auth_flow(httpx.Request("GET", "http://api.invalid")))
        values.append(signed.headers["authorization"])
    return Redactor(values)


def without_urls(text: str) -> str:
    """`text` with every URL in it replaced by `<url>` (an httpx error can name the URL it
    sent, configured query and credentials included)."""
    return _URL.sub("<url>", text)
