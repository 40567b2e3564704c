"""The HTTP side of the development authorization server: its body limit, parsing a form and
Basic credentials, and the answers it sends (JSON, RFC 6749 section 5.2 errors, redirects).
The ASGI plumbing under them (types, a header, reading a body, a whole answer) is
`mcpkit._asgi`, shared with the HTTP transports and the inspector."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

import msgspec

from mcpkit._asgi import Receive, Scope, Send, first_header, send_whole
from mcpkit._asgi import read_body as read_whole_body
from mcpkit.auth.metadata import OAuthErrorResponse, encode

__all__ = [
    "PREFLIGHT",
    "Form",
    "Refused",
    "answer_lifespan",
    "basic_credentials",
    "parse_form",
    "read_body",
    "request_origin",
    "require_content_type",
    "require_method",
    "send_json",
    "send_redirect",
    "send_refused",
]

#: A parsed form or query: every value of every name, in order.
Form = dict[str, list[str]]

_JSON: Final = (b"content-type", b"application/json")
# RFC 6749 section 5.1: token answers must not be cached.
_NO_STORE: Final = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))
# Browser-based clients (the MCP Inspector) call the metadata and token endpoints cross-origin.
_CORS: Final = (b"access-control-allow-origin", b"*")
# RFC 3986 section 3.2.2 host (reg-name or IP literal) and an optional port, lower-cased first.
_HOST: Final = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(:[0-9]{1,5})?")
_MAX_FIELDS: Final = 64
#: The answer to a CORS preflight: browser-based clients call these endpoints cross-origin.
PREFLIGHT: Final = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, content-type, mcp-protocol-version"),
)


class Refused(Exception):
    """A request the server refuses: an OAuth error code, what was wrong, the HTTP status
    (400 unless said) and any headers (WWW-Authenticate for a 401)."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = tuple(headers)


def request_origin(scope: Scope) -> str:
    """`scheme://host[:port]` as the client addressed this server (its Host header), so that
    metadata, endpoint URLs and the `iss` of tokens use the origin the client used."""
    scheme = str(scope.get("scheme", "http"))
    raw = first_header(scope, b"host")
    if raw is None:
        server = scope.get("server")
        if not server:
            raise Refused("invalid_request", "the request has no Host header")
        raw = f"{server[0]}:{server[1]}".encode()
    host = raw.decode("latin-1").strip().lower() if len(raw) <= 260 and raw.isascii() else ""
    if _HOST.fullmatch(host) is None:
        raise Refused("invalid_request", "the Host header is not a host[:port]")
    return f"{scheme}://{host}"


async def read_body(receive: Receive, max_size: int) -> bytes:
    """The request body; refused with 413 once it passes `max_size` bytes."""
    size = 0

    def check(chunk: int) -> Refused | None:
        nonlocal size
        size += chunk
        if size <= max_size:
            return None
        return Refused(
            "invalid_request", f"the body is over {max_size} bytes (max_body_size)", status=413
        )

    body = await read_whole_body(receive, check)
    if body is None:
        raise Refused("invalid_request", "the client went away", status=400)
    if isinstance(body, Refused):
        raise body
    return body


def parse_form(text: bytes | str) -> Form:
    """An application/x-www-form-urlencoded body or a query string; refused when it is not
    UTF-8 or has more fields than any OAuth request needs."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        pairs = parse_qsl(
            decoded, keep_blank_values=True, strict_parsing=False, max_num_fields=_MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise Refused("invalid_request", "the form is not UTF-8 or has too many fields") from None
    form: Form = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def basic_credentials(scope: Scope) -> tuple[str, str] | None:
    """The client id and secret of an `Authorization: Basic` header (RFC 6749 section 2.3.1:
    each form-url-encoded, then joined by a colon), or None when there is none."""
    raw = first_header(scope, b"authorization")
    if raw is None or not raw[:6].lower() == b"basic ":
        return None
    try:
        joined = base64.b64decode(raw[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _bad_basic() from None
    client_id, sep, secret = joined.partition(":")
    if not sep or not client_id:
        raise _bad_basic()
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _bad_basic() -> Refused:
    return Refused(
        "invalid_client",
        "the Authorization header is not Basic base64(client_id:client_secret)",
        status=401,
        headers=[(b"www-authenticate", b'Basic realm="mcpkit-dev"')],
    )


async def send_json(
    send: Send, document: msgspec.Struct | dict[str, Any], *, status: int = 200, store: bool = True
) -> None:
    """A JSON answer; `store=False` for answers holding tokens or secrets."""
    body = (
        encode(document) if isinstance(document, msgspec.Struct) else msgspec.json.encode(document)
    )
    headers = [_JSON, _CORS] if store else [_JSON, _CORS, *_NO_STORE]
    await send_whole(send, status, body, headers)


async def send_refused(send: Send, refused: Refused) -> None:
    """The RFC 6749 section 5.2 error body for `refused`, with its status and headers."""
    body = encode(OAuthErrorResponse(error=refused.error, error_description=refused.description))
    await send_whole(send, refused.status, body, [_JSON, _CORS, *_NO_STORE, *refused.headers])


async def send_redirect(send: Send, location: str) -> None:
    """302 to `location` (the authorization response, RFC 6749 section 4.1.2)."""
    headers = [(b"location", location.encode("utf-8")), *_NO_STORE]
    await send_whole(send, 302, b"", headers)


def require_method(scope: Scope, allowed: str) -> None:
    """Refused with 405 unless the request's method is `allowed`."""
    if scope["method"] != allowed:
        raise Refused(
            "invalid_request",
            f"use {allowed} here",
            status=405,
            headers=[(b"allow", allowed.encode())],
        )


def require_content_type(scope: Scope, expected: bytes) -> None:
    """Refused with 415 unless the body is of media type `expected`."""
    value = first_header(scope, b"content-type")
    if value is None or value.split(b";")[0].strip().lower() != expected:
        raise Refused("invalid_request", f"the body must be {expected.decode()}", status=415)


async def answer_lifespan(receive: Receive, send: Send, started: Callable[[], None]) -> None:
    """Answer an ASGI lifespan scope, calling `started` at startup (an app mounted alone)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            started()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
