"""What the Streamable HTTP client reads of the messages it carries, without I/O: the head of
each message it sends, whether a received message is the answer a stream waits for, the
negotiated version in the initialize answer, the headers of each request, and the error
messages it hands the runtime when HTTP fails a request (spec: basic/transports)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import msgspec

from mcpkit.protocol import codes
from mcpkit.types import RequestId

__all__ = [
    "ACCEPT_ANY",
    "ACCEPT_SSE",
    "FALLBACK_STATUSES",
    "MAX_SESSION_ID_LENGTH",
    "REFUSAL_LIMIT",
    "Head",
    "describe_page",
    "error_reply",
    "falls_back_to_legacy",
    "is_answer",
    "negotiated_version",
    "read_head",
    "read_params",
    "read_refusal",
    "refusal_data",
    "valid_session_id",
]

#: A POST lists both answer forms (basic/transports, "Sending Messages to the Server" 2).
ACCEPT_ANY: Final = "application/json, text/event-stream"
#: The GET stream is SSE only ("Listening for Messages from the Server" 2).
ACCEPT_SSE: Final = "text/event-stream"
#: The statuses of a refused initialize POST that mean an HTTP+SSE (2024-11-05) server
#: (basic/transports, "Backwards Compatibility").
FALLBACK_STATUSES: Final = frozenset({400, 404, 405})
#: The longest Mcp-Session-Id kept; the spec only says visible ASCII, so a bound is ours.
MAX_SESSION_ID_LENGTH: Final = 1024
#: Bytes of an error body read for its message: a refusal is a short JSON-RPC error or a
#: web page, and a hostile server must not make us read an endless body to learn why.
REFUSAL_LIMIT: Final = 64 * 1024
#: Visible ASCII, what the spec allows in a session id: no spaces or control characters,
#: which could split or forge a header when the id is sent back.
_SESSION_ID: Final = re.compile(r"[\x21-\x7e]+")
# Encoders and decoders are made once: each message sent or received goes through them.
_ENCODER: Final = msgspec.json.Encoder()


class Head(msgspec.Struct, frozen=True):
    """The parts of one of our messages the transport routes by: a request has `id` and
    `method`, a notification only `method`, a response only `id`. `cancels` is the request
    a `notifications/cancelled` names."""

    id: RequestId | None = None
    method: str | None = None
    cancels: RequestId | None = None

    @property
    def is_request(self) -> bool:
        """Whether the message is a request: the only kind whose answer the POST's response
        (or a stream) is read for; a notification or response gets a 202 and nothing more."""
        return self.id is not None and self.method is not None


class _Envelope(msgspec.Struct):
    """The members routing needs; params, result and error are kept raw (undecoded), since
    only their presence matters here and decoding a large result twice would cost."""

    # An absent member stays an empty Raw (`null` is a Raw of 4 bytes): Raw takes no union.
    id: RequestId | None = None
    method: str | None = None
    params: msgspec.Raw = msgspec.Raw()
    result: msgspec.Raw = msgspec.Raw()
    error: msgspec.Raw = msgspec.Raw()


class _CancelParams(msgspec.Struct, rename="camel"):
    """The id a notifications/cancelled names; a malformed one is read as none."""

    request_id: RequestId | None = None


class _VersionResult(msgspec.Struct, rename="camel"):
    """The one member of an initialize result the transport needs."""

    protocol_version: str | None = None


_HEAD_DECODER: Final = msgspec.json.Decoder(_Envelope)
_CANCEL_DECODER: Final = msgspec.json.Decoder(_CancelParams)
_VERSION_DECODER: Final = msgspec.json.Decoder(_VersionResult)
#: Everything decoding untrusted bytes may raise; RecursionError for a deeply nested body.
_BAD_JSON: Final = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def _envelope(data: bytes) -> _Envelope | None:
    """The routing members of one message, or None: never raises on what a server sends."""
    try:
        return _HEAD_DECODER.decode(data)
    except _BAD_JSON:
        return None  # an array (a batch), or not JSON-RPC: nothing to route by


def read_head(data: bytes) -> Head:
    """The head of a message our session is sending (anything unreadable: an empty head).

    Called for every message sent. An empty head routes the message as a notification: it
    is POSTed as it is, and no answer is waited for, since none could be told apart.
    """
    env = _envelope(data)
    if env is None:
        return Head()
    # A cancellation's stream is the cancelled request's: the transport needs its id to
    # stop following that request's stream (2025-11-25 basic/utilities/cancellation).
    cancels = None
    if env.method == "notifications/cancelled" and env.params:
        try:
            cancels = _CANCEL_DECODER.decode(env.params).request_id
        except _BAD_JSON:
            cancels = None
    return Head(env.id, env.method, cancels)


class _Call(msgspec.Struct):
    """A message's params decoded, for the few a modern request repeats as headers."""

    method: str | None = None
    params: dict[str, object] | None = None


_CALL_DECODER: Final = msgspec.json.Decoder(_Call)


def read_params(data: bytes) -> dict[str, object]:
    """The params of one of our messages as a dict ({} if it has none or is unreadable): a
    modern request mirrors some of them into headers."""
    try:
        return _CALL_DECODER.decode(data).params or {}
    except _BAD_JSON:
        return {}


def is_answer(data: bytes, request_id: RequestId) -> bool:
    """Whether `data` is the response (result or error) to our request `request_id`: the
    message after which its stream has nothing more to say (the server's own requests carry
    ids from another numbering, and a method)."""
    env = _envelope(data)
    # The id's type must match too: JSON-RPC tells 1 and "1" apart, and a server that
    # echoes the wrong one has not answered our request.
    return (
        env is not None
        and env.method is None
        and env.id == request_id
        and type(env.id) is type(request_id)
        and bool(env.result or env.error)
    )


def negotiated_version(data: bytes) -> str | None:
    """The `protocolVersion` of an initialize result, or None if `data` has none."""
    env = _envelope(data)
    if env is None or not env.result:
        return None
    try:
        version = _VERSION_DECODER.decode(env.result).protocol_version
    except _BAD_JSON:
        return None
    # It goes into every later request's headers: only visible ASCII, and short, is kept.
    return version if version is not None and len(version) <= 64 and _visible(version) else None


def valid_session_id(value: str) -> bool:
    """The spec: an Mcp-Session-Id is visible ASCII (0x21 to 0x7E); and ours is bounded."""
    return len(value) <= MAX_SESSION_ID_LENGTH and _visible(value)


def _visible(value: str) -> bool:
    """Whether `value` is non-empty visible ASCII, safe to send back in a header."""
    return _SESSION_ID.fullmatch(value) is not None


def falls_back_to_legacy(status: int) -> bool:
    """Whether a refused initialize POST means the server speaks the old HTTP+SSE transport.

    The spec lists these statuses for the client's try-then-fall-back; any other refusal
    (401, 406, a 5xx) is about this server's Streamable HTTP endpoint and is reported as
    it is, not hidden behind a second attempt on another transport.
    """
    return status in FALLBACK_STATUSES


class _ErrorBody(msgspec.Struct):
    """A JSON-RPC error object, every member optional: a refusal may be malformed."""

    message: str | None = None
    code: int | None = None
    data: dict[str, object] | None = None


class _ErrorEnvelope(msgspec.Struct):
    """A refusal's body as a JSON-RPC response; the other members do not matter here."""

    error: _ErrorBody | None = None


_ERROR_DECODER: Final = msgspec.json.Decoder(_ErrorEnvelope)


def read_refusal(
    body: bytes, limit: int = 500, *, content_type: str = "", status: int = 0
) -> tuple[str, int | None]:
    """What a refusal's body says, on one line: its JSON-RPC error message and code (the
    body the spec allows), what the page is when it is a web page (`describe_page`), or the
    start of the body as text and None; at most `limit` characters."""
    # Whitespace is folded and the text cut, so a multi-line body cannot forge extra lines
    # in a log or error message, nor flood it.
    try:
        error = _ERROR_DECODER.decode(body).error
    except _BAD_JSON:
        error = None
    text = error.message if error is not None and error.message else None
    code = error.code if error is not None else None
    if text is None:
        text = describe_page(body, content_type, status)
    if text is None:
        text = " ".join(body[: limit * 4].decode("utf-8", "replace").split()) or "(no body)"
    return (text if len(text) <= limit else text[:limit] + "..."), code


# Found by a regular expression, not an HTML parser: only the title is wanted, from at most
# REFUSAL_LIMIT bytes, and a page need not be well-formed for its title to be useful.
_TITLE: Final = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
# A page sent without its content type (or as text/plain) is still recognised by its start.
_HTML_START: Final = (b"<!doctype html", b"<html", b"<head", b"<body")


def describe_page(body: bytes, content_type: str, status: int = 0) -> str | None:
    """One line for a body that is a web page (an HTML 404, a login page) rather than an MCP
    answer: that it is one, its <title>, and what to check; None when it is not HTML. The
    page itself, dozens of lines of markup, says nothing a person needs."""
    kind = content_type.partition(";")[0].strip().lower()
    start = body.lstrip()[:14].lower()
    if kind not in ("text/html", "application/xhtml+xml") and not start.startswith(_HTML_START):
        return None
    found = _TITLE.search(body[:REFUSAL_LIMIT])
    title = " ".join(found.group(1).decode("utf-8", "replace").split())[:120] if found else ""
    page = f"an HTML page titled {title!r}" if title else "an HTML page"
    if status >= 500:  # a proxy's or a framework's error page: the URL may well be right
        return f"{page} (an error page, not an MCP answer)"
    check = "check the URL's path" if status == 404 else "check the URL"
    return f"{page} (not an MCP endpoint: {check})"


def refusal_data(body: bytes) -> dict[str, object] | None:
    """The `data` of a refusal's JSON-RPC error, if it has an object there (the `supported`
    revisions of an UnsupportedProtocolVersionError, say: 2026-07-28 basic/versioning)."""
    try:
        error = _ERROR_DECODER.decode(body).error
    except _BAD_JSON:
        return None
    return None if error is None else error.data


def error_reply(
    request_id: RequestId,
    message: str,
    *,
    code: int = codes.INTERNAL_ERROR,
    data: Mapping[str, object] | None = None,
) -> bytes:
    """A JSON-RPC error response to our own request, made by the transport when HTTP failed
    it, so the request's caller gets an McpError instead of waiting for an answer that cannot
    come."""
    # Built here, not by the protocol layer: the transport is the only one that knows the
    # request failed, and the session treats this reply like any answer from the server.
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = dict(data)
    return _ENCODER.encode({"jsonrpc": "2.0", "id": request_id, "error": error})
