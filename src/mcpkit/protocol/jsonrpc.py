"""JSON-RPC 2.0 framing: one decode of the envelope (params and results stay raw), and encoders.

The envelope is decoded once into `Envelope`, whose `params`/`result` are `msgspec.Raw` so
the session can decode them straight into the typed struct the method calls for.

What makes a message, by JSON-RPC 2.0 section: a request has a method and an id (4; MCP adds
that the id is never null, basic/index); a notification has a method and no id (4.1) and is
never answered; a response has the id of its request and exactly one of result and error (5).
A batch is an array of at least one message (6). What cannot be used becomes a `Malformed`,
which says what to answer (5.1: -32700 for bytes that are not JSON, -32600 for JSON that is
not a valid message) and, where the id could be read, under which id; where it could not, the
error carries a null id (5).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, cast, final

import msgspec
from msgspec import UNSET, Raw, UnsetType

from mcpkit.protocol import codes
from mcpkit.protocol.depth import deeper_than
from mcpkit.types import Error, RequestId

__all__ = [
    "Envelope",
    "Malformed",
    "TOO_DEEP_TO_DECODE",
    "check_bytes",
    "classify",
    "decode_batch_items",
    "decode_envelope",
    "decode_message",
    "decode_part",
    "encode_error",
    "encode_notification",
    "encode_request",
    "encode_response",
    "field_of",
    "meta_of",
    "is_batch",
    "part_decoder",
    "refuse_by_head",
]


class Envelope(msgspec.Struct, omit_defaults=True):
    """Any JSON-RPC message with its payload left undecoded.

    Every field may be absent, so decoding fails only on what is not an object or a field of
    the wrong type, and `classify` can then say what was missing. `id` tells absent (UNSET: a
    notification) from null (None: refused in a request, allowed in an error response).
    """

    jsonrpc: str | UnsetType = UNSET
    id: RequestId | UnsetType | None = UNSET
    method: str | UnsetType = UNSET
    params: Raw | UnsetType = UNSET
    result: Raw | UnsetType = UNSET
    error: Error | UnsetType = UNSET


@final  # (so `type(x) is Malformed` narrows both ways, as the session tests it)
class Malformed(msgspec.Struct):
    """A message that could not be understood. `code` is the error to answer with (-32700 or
    -32600), `id` its id if one could be read, and `response` says it evidently answers a
    request (so it fails ours, and gets no reply)."""

    code: int
    message: str
    id: RequestId | None = None
    response: bool = False


# Built once: a Decoder compiles its type when it is made.
_envelope_decoder: Final = msgspec.json.Decoder(Envelope)
#: The envelope's decode alone, raising what msgspec raises (`decode_message` says why): for a
#: caller that reads the usual message without a call around it, and the rest the long way.
decode_envelope: Final = _envelope_decoder.decode
_batch_decoder: Final = msgspec.json.Decoder(list[Raw])
_any_decoder: Final = msgspec.json.Decoder()
_id_decoder: Final = msgspec.json.Decoder(RequestId)
_encoder: Final = msgspec.json.Encoder()

# The head of a message: `{"jsonrpc": "2.0", "id": <id>, "result"|"error"|"method"`, the
# order peers (and our own encoders below) write in. It names the request a message we cannot
# decode belongs to. Only the first _HEAD_BYTES are matched, so a refusal costs the same for a
# 16 MB message as for a small one. A longer id (past 18 digits, which always fit a 64-bit
# integer, or 256 string characters) is not read: the refusal then goes under a null id.
_HEAD: Final = re.compile(
    rb'\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,256}")'
    rb'\s*,\s*"(result|error|method)"'
)
_HEAD_BYTES: Final = 512


def refuse_by_head(data: bytes | Raw, code: int, message: str) -> Malformed:
    """A refusal of a message that is not decoded, under the id its head shows, if any."""
    head = _HEAD.match(bytes(memoryview(data)[:_HEAD_BYTES]))
    if head is None:
        return Malformed(code, message)
    try:
        rid: RequestId = _id_decoder.decode(head.group(1))
    except (msgspec.DecodeError, UnicodeDecodeError):
        return Malformed(code, message)  # an id that is not valid JSON: no id to answer under
    # `result` or `error` after the id: a response, which fails our request and is not answered.
    return Malformed(code, message, rid, head.group(2) != b"method")


def check_bytes(data: bytes, max_depth: int) -> Malformed | None:
    """Refuse, before anything decodes it, what msgspec must not be given: bytes that are not
    UTF-8 (it checks only the strings it decodes, not params kept raw, and raises
    UnicodeDecodeError) and nesting past `max_depth` (it recurses, and raises RecursionError)."""
    if not data.isascii():  # ASCII is valid UTF-8: most messages skip the decode
        try:
            data.decode()
        except UnicodeDecodeError as exc:
            return _not_utf8(data, exc)
    if deeper_than(data, max_depth):
        return refuse_by_head(
            data,
            codes.INVALID_REQUEST,
            f"Invalid Request: the message nests arrays and objects more than {max_depth} "
            "levels deep (max_json_depth)",
        )
    return None


def is_batch(data: bytes) -> bool:
    """Whether the message is a JSON array (a batch, JSON-RPC 2.0 section 6), judged by its
    first byte after any whitespace (RFC 8259, section 2, allows it before the value)."""
    stripped = data.lstrip()
    return stripped[:1] == b"["


def decode_batch_items(data: bytes) -> list[Raw] | Malformed:
    """Split a batch into its raw members."""
    try:
        items = _batch_decoder.decode(data)
    except _DECODE_ERRORS as exc:
        return _failure(data, exc)
    if not items:
        # JSON-RPC 2.0, section 6: an empty array is answered with one error, not an array.
        return Malformed(codes.INVALID_REQUEST, "Invalid Request: empty batch")
    return items


def decode_message(data: bytes | Raw) -> Envelope | Malformed:
    """Decode one JSON-RPC message's envelope; a failure says what was wrong.

    Params and results stay raw and unchecked: pass the message through `check_bytes` first
    (a batch member: the batch)."""
    try:
        env = _envelope_decoder.decode(data)
    except _DECODE_ERRORS as exc:
        return _failure(data, exc)
    if env.jsonrpc != "2.0":  # JSON-RPC 2.0, sections 4 and 5: exactly "2.0"
        return Malformed(
            codes.INVALID_REQUEST,
            'Invalid Request: "jsonrpc" must be "2.0"',
            _id_of(env),
            env.method is UNSET and (env.result is not UNSET or env.error is not UNSET),
        )
    return env


# What msgspec raises on bad input: UnicodeDecodeError and RecursionError only for what
# `check_bytes` refuses first, so they are a second line here.
_DECODE_ERRORS: Final = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _failure(data: bytes | Raw, exc: Exception) -> Malformed:
    """The refusal a decode failure calls for (JSON-RPC 2.0, section 5.1: -32700 for what is
    not JSON, -32600 for JSON that is not a valid message)."""
    if isinstance(exc, msgspec.ValidationError):
        return _misshapen(data, exc)
    if isinstance(exc, UnicodeDecodeError):
        return _not_utf8(data, exc)
    if isinstance(exc, RecursionError):
        return refuse_by_head(
            data,
            codes.INVALID_REQUEST,
            "Invalid Request: the message nests arrays and objects too deeply "
            "to decode (max_json_depth is above what this interpreter allows)",
        )
    return refuse_by_head(data, codes.PARSE_ERROR, f"Parse error: {exc}")


def _not_utf8(data: bytes | Raw, exc: UnicodeDecodeError) -> Malformed:
    # RFC 8259, section 8.1: JSON exchanged between systems MUST be encoded in UTF-8.
    return refuse_by_head(
        data, codes.PARSE_ERROR, f"Parse error: the message is not valid UTF-8 (byte {exc.start})"
    )


def _misshapen(data: bytes | Raw, exc: msgspec.ValidationError) -> Malformed:
    """Valid JSON of the wrong shape is -32600; JSON that is not valid (msgspec reports a
    wrong type before it reads on, so `"abc" x` lands here too) is -32700."""
    try:
        obj = _any_decoder.decode(data)
    except msgspec.ValidationError as range_exc:  # valid JSON, a number past a double (1e999)
        return refuse_by_head(data, codes.INVALID_REQUEST, f"Invalid Request: {range_exc}")
    except _DECODE_ERRORS as parse_exc:  # not a ValidationError: no way back here
        return _failure(data, parse_exc)
    if not isinstance(obj, dict):
        return Malformed(codes.INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    # The id, where it is one a request may have; else the error goes under a null id.
    rid = cast("dict[str, Any]", obj).get("id")
    if isinstance(rid, bool) or not isinstance(rid, (int, str)):  # (a bool is an int here)
        rid = None
    response = "method" not in obj and ("result" in obj or "error" in obj)
    return Malformed(codes.INVALID_REQUEST, f"Invalid Request: {exc}", rid, response)


def classify(env: Envelope) -> str | Malformed:
    """Name the kind of message: "request", "notification", "response" or "error".

    A message with a method is a request or a notification (refused, and answered, if it also
    has a result or an error); one without is a response, or nothing valid."""
    has_method = env.method is not UNSET
    has_result = env.result is not UNSET
    has_error = env.error is not UNSET
    if has_method:
        if has_result or has_error:
            return Malformed(codes.INVALID_REQUEST, "Invalid Request: method with result or error")
        if env.id is UNSET:  # JSON-RPC 2.0, section 4.1: a request without an id
            return "notification"
        if env.id is None:
            # MCP (basic/index, Requests): the id MUST NOT be null.
            return Malformed(codes.INVALID_REQUEST, "Invalid Request: request id must not be null")
        return "request"
    # JSON-RPC 2.0, section 5: exactly one of result and error.
    if has_result and has_error:
        return Malformed(
            codes.INVALID_REQUEST,
            "Invalid Request: both result and error",
            _id_of(env),
            response=True,
        )
    if has_result:
        # A result names its request; a null id is only for an error whose request's id could
        # not be read (JSON-RPC 2.0, section 5; basic/index, Error Responses).
        if env.id is UNSET or env.id is None:
            return Malformed(
                codes.INVALID_REQUEST, "Invalid Request: response without an id", response=True
            )
        return "response"
    if has_error:
        return "error"  # any id, null or none: the session matches it to a request, or not
    return Malformed(
        codes.INVALID_REQUEST, "Invalid Request: no method, result or error", _id_of(env)
    )


def _id_of(env: Envelope) -> RequestId | None:
    return env.id if isinstance(env.id, (int, str)) else None


# The shapes we write. msgspec encodes fields in the order declared: `jsonrpc`, then `id`,
# the order `_HEAD` expects of a peer. `omit_defaults` leaves out params that are None (they
# are optional, basic/index); a result and an error id are always written, null included.


class _Request(msgspec.Struct, omit_defaults=True):
    jsonrpc: str
    id: int | str
    method: str
    params: Any = None


class _Notification(msgspec.Struct, omit_defaults=True):
    jsonrpc: str
    method: str
    params: Any = None


class _Response(msgspec.Struct):
    jsonrpc: str
    id: int | str
    result: Any


class _ErrorResponse(msgspec.Struct):
    jsonrpc: str
    id: int | str | None
    error: Error


def encode_request(request_id: RequestId, method: str, params: Any) -> bytes:
    """A request's bytes; `params` None leaves them out."""
    return _encoder.encode(_Request("2.0", request_id, method, params))


def encode_notification(method: str, params: Any) -> bytes:
    """A notification's bytes (no id: JSON-RPC 2.0, section 4.1); `params` None leaves them out."""
    return _encoder.encode(_Notification("2.0", method, params))


def encode_response(request_id: RequestId, result: Any) -> bytes:
    """A result response's bytes."""
    return _encoder.encode(_Response("2.0", request_id, result))


def encode_error(request_id: RequestId | None, code: int, message: str, data: Any = None) -> bytes:
    """An error response's bytes; `request_id` None when the request's id could not be read."""
    return _encoder.encode(
        _ErrorResponse("2.0", request_id, Error(code=code, message=message, data=data))
    )


# type -> its Decoder, one for each type ever asked for: the methods' params and results (and
# the few `param_types`/`result_types` a caller adds), a fixed set in practice.
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
#: What absent params decode from: `{}`, so a method whose params are all optional gets them.
EMPTY_PARAMS: Final = b"{}"


#: Why `decode_part` fails on a part its decoder cannot recurse through: only when
#: max_json_depth is set above what this interpreter's stack allows.
TOO_DEEP_TO_DECODE: Final = (
    "nested too deeply to decode (max_json_depth is set above what this interpreter allows)"
)


def decode_part(tp: Any, raw: bytes | Raw | UnsetType) -> Any:
    """Decode params or a result (a raw part of a message that passed `check_bytes`) into
    `tp`; absent params decode as `{}`. One cached decoder per type: building one costs
    more than most decodes."""
    if raw is UNSET:
        raw = EMPTY_PARAMS
    dec = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp)
    try:
        return dec.decode(raw)
    except RecursionError:
        raise msgspec.ValidationError(TOO_DEEP_TO_DECODE) from None


def part_decoder(tp: Any) -> Callable[[bytes | Raw], Any]:
    """The decode of `tp` `decode_part` uses (which a caller that decodes many parts may
    keep, and call with no call of `decode_part`'s around it): RecursionError where the
    part is nested beyond the stack, which `decode_part` says as `TOO_DEEP_TO_DECODE`."""
    dec = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp)
    return dec.decode


def field_of(params: Any, key: str) -> Any:
    """`key` of a message's params, whether they are a dict (as given by a caller, or left
    undecoded) or a decoded struct (by its Python name); None when absent."""
    if isinstance(params, dict):
        return cast("dict[str, Any]", params).get(key)
    return getattr(params, key, None)


#: Per class of a message part: whether it is a struct that declares `_meta` (as `meta`),
#: told once per class (classes are few: the schema's, and their twins).
_DECLARES_META: Final[dict[type[object], bool]] = {}


#: What a `_meta` is (its type named so, for type checkers to know what `meta_of` gives).
_META: Final[type[dict[str, Any]]] = dict


def _declares_meta(tp: type[object]) -> bool:
    found = _DECLARES_META[tp] = issubclass(tp, msgspec.Struct) and "meta" in tp.__struct_fields__
    return found


def meta_of(part: Any) -> dict[str, Any] | None:
    """The `_meta` of a message's params or result, whether a dict (its `"_meta"`) or a
    decoded struct that declares one (its `meta`: most params and every result type of the
    schema; a few params, such as tasks/get's, declare none); None when it has none, or is
    neither (None, a list)."""
    meta: Any
    tp: type[object] = type(part)  # pyright: ignore[reportUnknownVariableType]
    declares = _DECLARES_META.get(tp)
    if declares is None:
        declares = _declares_meta(tp)
    if declares:
        meta = part.meta
    elif isinstance(part, dict):
        meta = cast("dict[str, Any]", part).get("_meta")
    else:
        return None
    return meta if type(meta) is _META else None
