"""The checks a Streamable HTTP request passes before its body is read, as pure functions that
answer None (go on) or a `Refusal` to send as it is (spec: basic/transports, "Streamable HTTP").

Headers are what an ASGI scope holds: (lower-case name, value) pairs. Nothing here raises on
what a peer sends; a refusal's message says what was wrong and names the setting that decides.
`check_request` runs the checks every request needs; `protocol_version` and `session_id` also
return the value the app goes on with, and `client_address` who sent the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import msgspec

from mcpkit._asgi import (
    Headers,
    Scope,
    collect,
    memo_short,
    quote_header,
    values_of,
)
from mcpkit.protocol.codes import INVALID_REQUEST
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.protocol.modern import unsupported_revision
from mcpkit.transports.guards.origin import OriginPolicy, origin_problem, values_problem
from mcpkit.transports.sse import parse_event_id
from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS

__all__ = [
    "ASSUMED_REVISION",
    "BodyLimit",
    "EndpointPolicy",
    "Headers",
    "MAX_SESSION_ID_LENGTH",
    "Refusal",
    "check_accept",
    "check_content_length",
    "check_content_type",
    "check_method",
    "check_origin",
    "check_request",
    "client_address",
    "distinct",
    "expired",
    "last_event_id",
    "HeaderMemos",
    "protocol_version",
    "refuse",
    "session_id",
    "too_large",
    "unknown_session",
]

#: The revision a request without MCP-Protocol-Version speaks (spec: "Protocol Version Header").
ASSUMED_REVISION: Final = "2025-03-26"
#: The longest Mcp-Session-Id read; ours are 43 characters (`new_session_id`).
MAX_SESSION_ID_LENGTH: Final = 128

_JSON: Final = ("application", "json")
_SSE: Final = ("text", "event-stream")
_CONTENT_TYPE: Final = ((b"content-type", b"application/json"),)
_CHECKED: Final = frozenset({b"origin", b"host", b"accept", b"content-type", b"content-length"})
#: The headers whose values key `EndpointPolicy.verdicts`, in the key's order.
_KEYED: Final = (b"origin", b"host", b"accept", b"content-type")
#: The method, then the values of `_KEYED` (None: not sent).
_VerdictKey = tuple[str, bytes | None, bytes | None, bytes | None, bytes | None]
_VERDICTS: Final = 256  # verdicts remembered at most
_VERDICT_BYTES: Final = 512  # the values of one, at most (a client's are ~100 bytes)
# RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
# The spec: a session id is visible ASCII (0x21 to 0x7E); bounded before any lookup.
_REVISION: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # basic/versioning: YYYY-MM-DD
_SESSION_ID: Final = re.compile(rb"[\x21-\x7e]{1,%d}" % MAX_SESSION_ID_LENGTH)
_ENCODER: Final = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Refusal:
    """An answer that ends a request: the HTTP `status`, the `headers` to send (Content-Type,
    and Allow for 405), a JSON-RPC error `body` with no id, and its `message` for the log."""

    status: int
    message: str
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]


#: Not in `EndpointPolicy.verdicts` (compared by identity).
_UNSEEN: Final = Refusal(0, "", b"", ())


def refuse(
    status: int,
    message: str,
    *,
    code: int = INVALID_REQUEST,
    headers: Sequence[tuple[bytes, bytes]] = (),
    data: object = None,
) -> Refusal:
    """A refusal whose body is the JSON-RPC error response with no id the spec allows (basic/
    transports: "MAY comprise a JSON-RPC error response that has no id")."""
    # -32600 by default: the HTTP request as a whole is not one the endpoint takes. Clients act
    # on the status (the spec's fallback rules read 400, 404 and 405); the code is for people.
    body: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    error = {"jsonrpc": "2.0", "id": None, "error": body}
    return Refusal(status, message, _ENCODER.encode(error), (*_CONTENT_TYPE, *headers))


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """The settings the checks read; their names are those the refusals tell operators to change.

    `origin` holds `allowed_origins`, `allowed_hosts` and `dns_rebinding_protection` (see
    `OriginPolicy.for_bind`; the default protects a loopback bind on any port). `allow_get`
    and `allow_delete` offer the GET stream and client-ended sessions (else 405, as the spec
    permits). `json_only` means the server answers every POST with JSON, never SSE, so a POST
    need only accept application/json. `max_message_size` bounds a POST body (one JSON-RPC
    message). `supported_revisions` is what `protocol_version` is given.
    """

    origin: OriginPolicy = field(default_factory=lambda: OriginPolicy.for_bind("127.0.0.1"))
    allow_get: bool = True
    allow_delete: bool = True
    json_only: bool = False
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    supported_revisions: tuple[str, ...] = SUPPORTED_REVISIONS
    stateless: bool = False
    #: The modern revisions (2026-07-28); none to serve only the legacy era.
    modern_revisions: tuple[str, ...] = MODERN_REVISIONS
    #: What `check_request` decided for the values of the headers it remembers by (not an
    #: argument: a policy made with `dataclasses.replace` starts with none of the old one's).
    verdicts: dict[_VerdictKey, Refusal | None] = field(
        default_factory=dict[_VerdictKey, Refusal | None], init=False, compare=False, repr=False
    )
    #: The digits of `max_message_size`: a Content-Length with fewer is below it, known so
    #: without reading its number.
    size_digits: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        limit = self.max_message_size
        object.__setattr__(self, "size_digits", len(str(limit)) if limit > 0 else 0)


def distinct(headers: Headers) -> dict[bytes, bytes] | None:
    """The headers by name when no name comes twice (the usual case), so that each check reads
    a value with one lookup; None when one does (the checks then read every value sent)."""
    each = dict(headers)
    return each if len(each) == len(headers) else None


def check_request(
    policy: EndpointPolicy, method: str, headers: Headers, each: Mapping[bytes, bytes] | None = None
) -> Refusal | None:
    """Every check that needs no body and no session: Origin and Host first (a foreign page
    learns nothing else), then method, Accept, and for POST Content-Type and Content-Length.
    `each` is `distinct(headers)` when the caller has it already (else it is made here).

    A client sends the same Origin, Host, Accept and Content-Type on every request: what
    they decide is remembered by their values (`EndpointPolicy.verdicts`), so a request
    whose headers were seen before is judged by a lookup and its Content-Length."""
    if each is None:
        each = distinct(headers)
    if each is None:  # a name sent twice: the checks read every value
        found = collect(headers, _CHECKED)
        refusal = _judged(policy, method, found)
        if refusal is None and method == "POST":
            refusal = _content_length(found.get(b"content-length", []), policy.max_message_size)
        return refusal
    # Read by subscripts, not `get` calls (a subscript calls no method): the usual POST
    # sends each of these but Origin (a browser's only); `get` for a request
    # that does not (a GET has no Content-Type, a chunked POST no Content-Length).
    length: bytes | None
    try:
        origin = each[b"origin"] if b"origin" in each else None
        key: _VerdictKey = (method, origin, each[b"host"], each[b"accept"], each[b"content-type"])
        length = each[b"content-length"]
    except KeyError:
        get = each.get
        key = (method, get(b"origin"), get(b"host"), get(b"accept"), get(b"content-type"))
        length = get(b"content-length")
    verdicts = policy.verdicts
    refusal = verdicts.get(key, _UNSEEN)
    if refusal is _UNSEEN:
        values = zip(_KEYED, key[1:], strict=True)
        found = {name: [value] for name, value in values if value is not None}
        refusal = _judged(policy, method, found)
        # Bounded: values past the memo's size are judged each time, and a full memo is
        # emptied, so that a peer sending new values each time costs a bounded memory.
        if sum(len(values[0]) for values in found.values()) <= _VERDICT_BYTES:
            if len(verdicts) >= _VERDICTS:
                verdicts.clear()
            verdicts[key] = refusal
    if refusal is not None or method != "POST":
        return refusal
    if length is None or (len(length) < policy.size_digits and length.isdigit()):
        return None  # none, or the usual case: fewer digits than the limit, so below it
    return _content_length([length], policy.max_message_size)


def _judged(policy: EndpointPolicy, method: str, found: dict[bytes, list[bytes]]) -> Refusal | None:
    """`check_request` but for Content-Length, given each checked header's values."""
    problem = values_problem(policy.origin, found.get(b"origin", []), found.get(b"host", []))
    if problem is not None:
        return refuse(*problem)
    refusal = check_method(
        method,
        allow_get=policy.allow_get and not policy.stateless,
        allow_delete=policy.allow_delete and not policy.stateless,
        stateless=policy.stateless,
    ) or _accept(method, found.get(b"accept", []), policy.json_only)
    if refusal is None and method == "POST":
        refusal = _content_type(found.get(b"content-type", []))
    return refusal


def check_origin(policy: OriginPolicy, headers: Headers) -> Refusal | None:
    """403 for a foreign Origin (spec: "Security Warning"); 421 or 400 for a foreign or bad Host."""
    problem = origin_problem(policy, headers)
    return None if problem is None else refuse(*problem)


def check_method(
    method: str, *, allow_get: bool = True, allow_delete: bool = True, stateless: bool = False
) -> Refusal | None:
    """405 with Allow for a method the endpoint does not offer (RFC 9110 section 15.5.6)."""
    if method == "POST" or (method == "GET" and allow_get) or (method == "DELETE" and allow_delete):
        return None
    allowed = ["POST", *(["GET"] if allow_get else []), *(["DELETE"] if allow_delete else [])]
    if stateless and method in ("GET", "DELETE"):
        message = (
            f"{method} is not offered: this server is stateless (stateless=True) and keeps no "
            "session to stream to or end"
        )
    elif method == "GET":
        message = "GET is not offered: this server opens no stream for its own messages (allow_get)"
    elif method == "DELETE":
        message = (
            "DELETE is not offered: this server does not let clients end sessions (allow_delete)"
        )
    else:
        message = f"method {method[:20]!r} is not offered: use {', '.join(allowed)}"
    return refuse(405, message, headers=((b"allow", ", ".join(allowed).encode()),))


def _media_ranges(value: bytes) -> list[tuple[str, str, float]]:
    """Accept's media ranges as (type, subtype, q), lower-cased; malformed ranges are skipped."""
    ranges: list[tuple[str, str, float]] = []
    for item in value.decode("latin-1").lower().split(","):
        media, *params = item.split(";")
        kind, slash, subtype = media.partition("/")
        kind, subtype = kind.strip(" \t"), subtype.strip(" \t")
        if not (slash and kind and subtype):
            continue
        q = 1.0
        for param in params:
            key, _, text = param.partition("=")
            if key.strip(" \t") == "q":
                text = text.strip(" \t")
                q = float(text) if _QVALUE.fullmatch(text) else -1.0
        if q >= 0:
            ranges.append((kind, subtype, q))
    return ranges


@memo_short
def _accepts(value: bytes) -> tuple[bool, bool]:
    """Whether an Accept value accepts application/json, and text/event-stream."""
    ranges = _media_ranges(value)
    return _acceptable(ranges, *_JSON), _acceptable(ranges, *_SSE)


def _acceptable(ranges: list[tuple[str, str, float]], kind: str, subtype: str) -> bool:
    """Whether the most specific range matching kind/subtype has q > 0 (RFC 9110 section 12.5.1)."""
    best, best_q = -1, 0.0
    for range_kind, range_subtype, q in ranges:
        if range_kind == kind and range_subtype == subtype:
            rank = 2
        elif range_kind == kind and range_subtype == "*":
            rank = 1
        elif range_kind == "*" and range_subtype == "*":
            rank = 0
        else:
            continue
        if rank > best or (rank == best and q > best_q):
            best, best_q = rank, q
    return best_q > 0


def check_accept(method: str, headers: Headers, *, json_only: bool = False) -> Refusal | None:
    """406 unless a POST accepts application/json and text/event-stream (only the first for a
    `json_only` server, which never streams) and a GET accepts text/event-stream. A missing
    Accept is refused too: the spec says clients MUST list them (basic/transports)."""
    return _accept(method, values_of(headers, b"accept"), json_only)


def _accept(method: str, values: list[bytes], json_only: bool) -> Refusal | None:
    if method not in ("POST", "GET"):
        return None
    # A list-based field may come as several lines; they mean the same joined by commas.
    json, sse = _accepts(values[0] if len(values) == 1 else b",".join(values))
    missing: list[str] = []
    if method == "POST" and not json:
        missing.append("application/json")
    if not sse and not (method == "POST" and json_only):
        missing.append("text/event-stream")
    if not missing:
        return None
    got = quote_header(b",".join(values)) if values else "none"
    message = f"{method} needs an Accept header listing {' and '.join(missing)} (got {got})"
    if method == "POST" and missing == ["text/event-stream"]:
        message += "; a server with json_only=True needs only application/json"
    return refuse(406, message)


def check_content_type(headers: Headers) -> Refusal | None:
    """415 unless a POST body is declared application/json, in UTF-8 if a charset is named
    (spec: basic/transports, "JSON-RPC messages MUST be UTF-8 encoded")."""
    return _content_type(values_of(headers, b"content-type"))


def _content_type(values: list[bytes]) -> Refusal | None:
    if len(values) == 1 and _is_json_in_utf8(values[0]):
        return None
    got = " and ".join(quote_header(value) for value in values[:2]) if values else "none"
    return refuse(
        415,
        f"a POST body must be one JSON-RPC message sent as Content-Type: "
        f"application/json in UTF-8 (got {got})",
    )


@memo_short
def _is_json_in_utf8(value: bytes) -> bool:
    media, *params = value.decode("latin-1").lower().split(";")
    for param in params:
        key, _, charset = param.partition("=")
        if key.strip(" \t") == "charset" and charset.strip(' \t"') not in ("utf-8", "utf8"):
            return False
    return media.strip(" \t") == "application/json"


def check_content_length(headers: Headers, max_message_size: int) -> Refusal | None:
    """413 at once when Content-Length says the body is over `max_message_size`; 400 when it is
    not a number or several differ (RFC 9110 section 8.6). Without one, `BodyLimit` counts."""
    return _content_length(values_of(headers, b"content-length"), max_message_size)


def _content_length(values: list[bytes], max_message_size: int) -> Refusal | None:
    if not values:
        return None
    if len(values) == 1 and len(values[0]) < 16 and values[0].isdigit():  # the usual case
        return None if int(values[0]) <= max_message_size else too_large(max_message_size)
    if len(values) == 1 and values[0].isdigit():
        length = values[0]  # the usual case, without the splitting below
    elif len(items := {i.strip(b" \t") for v in values for i in v.split(b",")}) == 1:
        length = items.pop()
    else:
        length = b""
    if not length.isdigit():
        got = quote_header(b", ".join(values))
        return refuse(400, f"Content-Length must be one number of bytes (got {got})")
    # Compare digit counts first: int() of thousands of digits is slow, then refused by Python.
    digits = length.lstrip(b"0") or b"0"
    if len(digits) > len(str(max_message_size)) or int(digits) > max_message_size:
        return too_large(max_message_size)
    return None


def too_large(limit: int) -> Refusal:
    """413 for a request body over `limit` (max_message_size) bytes."""
    return refuse(
        413,
        f"the request body is over max_message_size ({limit} bytes): send a smaller message, "
        "or raise the server's max_message_size setting",
    )


class BodyLimit:
    """Counts a body's bytes as they arrive: `add` answers 413 once they pass `limit`, so a
    body without Content-Length (or one that lies) never costs more than `limit` bytes."""

    __slots__ = ("held", "limit", "received")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0
        self.held = 0  # of them, counted against the app's BodyBudget

    def add(self, size: int) -> Refusal | None:
        self.received += size
        return too_large(self.limit) if self.received > self.limit else None


def protocol_version(
    headers: Headers,
    supported: Sequence[str] = SUPPORTED_REVISIONS,
    each: Mapping[bytes, bytes] | None = None,
    memos: HeaderMemos | None = None,
) -> str | Refusal:
    """The revision MCP-Protocol-Version names, ASSUMED_REVISION when absent (spec: "Protocol
    Version Header"); 400 for an unsupported, malformed or repeated one. `each` is
    `distinct(headers)` when the caller has it; `memos`, the app's, what it remembers."""
    if each is not None:  # (one lookup in `each`, then the memo's)
        value = each.get(b"mcp-protocol-version")
        if value is not None:
            # A client sends its revision on every request: its text is remembered (`memos`),
            # not stripped and decoded each time.
            if memos is None:
                text = _stripped_revision(value)
            else:
                try:
                    text = memos.revisions[value]
                except KeyError:
                    text = memos.revision_of(value)
            if text in supported:
                return text
        values: Sequence[bytes] = () if value is None else (value,)
    else:
        values = values_of(headers, b"mcp-protocol-version")
    if not values:
        if ASSUMED_REVISION in supported:
            return ASSUMED_REVISION
        message = f"no MCP-Protocol-Version header: send one of {', '.join(supported)}"
        return refuse(400, message)
    text = _stripped_revision(values[0])
    if len(values) == 1 and text in supported:
        return text
    if len(values) == 1 and _REVISION.fullmatch(text):
        # A revision we do not speak (a 2026-07-28 client's first request): the answer that
        # revision defines (streamable-http: 400 with UnsupportedProtocolVersionError).
        error = unsupported_revision(text, supported)
        message = f"MCP-Protocol-Version: {error.message}"
        return refuse(400, message, code=error.code, data=error.data)
    got = " and ".join(quote_header(value) for value in values[:2])
    return refuse(
        400,
        f"MCP-Protocol-Version {got} is not supported: send one of {', '.join(supported)} "
        "(the revision initialize negotiated), once",
    )


def session_id(
    headers: Headers,
    *,
    required: bool,
    each: Mapping[bytes, bytes] | None = None,
    memos: HeaderMemos | None = None,
) -> str | Refusal | None:
    """The Mcp-Session-Id a client sent, checked before any lookup: visible ASCII, at most
    MAX_SESSION_ID_LENGTH characters, sent once. 400 when malformed, or missing where
    `required` (every request but initialize, on a server that keeps sessions). `each` is
    `distinct(headers)` when the caller has it; `memos`, the app's, what it remembers."""
    if each is not None:  # (one lookup in `each`, then the memo's)
        value = each.get(b"mcp-session-id")
        if value is not None:
            # A client sends its session's id on every request: what it was found to be is
            # remembered (`memos`), not matched and decoded each time.
            if memos is None:
                text = _well_formed_id(value)
            else:
                try:
                    text = memos.session_ids[value]
                except KeyError:
                    text = memos.session_id_of(value)
            if text is not None:
                return text
        values: Sequence[bytes] = () if value is None else (value,)
    else:
        values = values_of(headers, b"mcp-session-id")
    if not values:
        if not required:
            return None
        return refuse(
            400,
            "no Mcp-Session-Id header: send the id the initialize response gave, or initialize "
            "first (a server with stateless=True needs none)",
        )
    if len(values) == 1 and _SESSION_ID.fullmatch(values[0]):
        return values[0].decode("ascii")
    got = quote_header(values[0]) if len(values) == 1 else f"{len(values)} headers"
    return refuse(
        400,
        f"Mcp-Session-Id {got} is malformed: send the id the initialize response gave, once, "
        f"as it came (visible ASCII, at most {MAX_SESSION_ID_LENGTH} characters)",
    )


def client_address(scope: Scope) -> tuple[str, int] | None:
    """The client's (host, port), when the server says it: the one reader of the address every
    per-address budget counts (the app's session, request and listen caps, the connection
    limits of `uvicorn_protocol`) and every `RequestInfo` carries. Behind a trusted proxy the
    app has already put the forwarded client there (`transports.deployment.forwarded`)."""
    # (Typed by its annotation, not `cast`: a call, on every request.)
    client: tuple[str, int] | None = scope.get("client")
    if client is None:
        return None
    host, port = client
    if type(client) is tuple and type(host) is str and type(port) is int:
        return client  # (uvicorn's: as it is)
    return str(host), int(port)


def _stripped_revision(value: bytes) -> str:
    """An MCP-Protocol-Version value as the text `protocol_version` compares."""
    return value.strip(b" \t").decode("latin-1")


def _well_formed_id(value: bytes) -> str | None:
    """An Mcp-Session-Id value decoded, when well-formed (`_SESSION_ID`); else None."""
    return value.decode("ascii") if _SESSION_ID.fullmatch(value) else None


class HeaderMemos:
    """What one app's clients sent that `protocol_version` and `session_id` remember: a client
    sends its revision and its session's id on every request. The app's (its `AppSessions`
    holds one), not the process's: one app's clients would push another's values out, and an
    app's ended sessions leave nothing behind in another. Each memo is read by subscript
    first, and bounded as `mcpkit._asgi.memo_short` bounds one (which finds and keeps a value
    not there yet), so a peer sending new values each time costs a bounded memory."""

    __slots__ = ("revision_of", "revisions", "session_id_of", "session_ids")

    def __init__(self) -> None:
        #: MCP-Protocol-Version values -> their text (`_stripped_revision`).
        self.revisions: dict[bytes, str] = {}
        self.revision_of = memo_short(_stripped_revision, self.revisions)
        #: Mcp-Session-Id values -> the id, when well-formed (`_well_formed_id`: else None).
        self.session_ids: dict[bytes, str | None] = {}
        self.session_id_of = memo_short(_well_formed_id, self.session_ids)

    def forget_session_id(self, sid: str) -> None:
        """Drop the id of a session that ended from what `session_id` remembers."""
        self.session_ids.pop(sid.encode(), None)


def last_event_id(last: list[bytes]) -> tuple[str, int] | Refusal:
    """The (stream id, event number) of the Last-Event-ID values `last`, sent once as an event
    id of this server's form (`mcpkit.transports.sse.make_event_id`); else the 400 to send."""
    parsed = parse_event_id(last[0].decode("latin-1")) if len(last) == 1 else None
    if parsed is None:
        got = quote_header(last[0]) if len(last) == 1 else f"{len(last)} headers"
        return refuse(
            400,
            f"Last-Event-ID {got} is not an event id this server sent: send the id of the "
            "last event received, once, or open a new stream without it",
        )
    return parsed


def expired(last: bytes) -> Refusal:
    """410 for a Last-Event-ID whose stream cannot be resumed. Not 404: a client must take a
    404 for the end of its session (basic/transports, "Session Management")."""
    return refuse(
        410,
        f"the stream of Last-Event-ID {quote_header(last)} cannot be resumed: it belongs to "
        "no stream of this session, or its events are past the replay window "
        "(replay_window, replay_retention); open a new stream with GET without Last-Event-ID",
    )


def unknown_session(session_id: str) -> Refusal:
    """404 for a well-formed id no live session has (spec: "Session Management": a client that
    gets 404 MUST initialize a new session)."""
    return refuse(
        404,
        f"session {quote_header(session_id.encode())} is unknown, expired or ended: initialize "
        "a new session, without Mcp-Session-Id",
    )
