"""JSON-RPC 2.0 framing: one decode of the envelope (params and results stay raw), and encoders.

The envelope is decoded once into `Envelope`, whose `params`/`result` are `msgspec.Raw` so
the session can decode them straight into the typed struct the method calls for.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import msgspec
from msgspec import UNSET, Raw, UnsetType

from mcpkit.protocol import codes

__all__ = [
    "ErrorObject",
    "Envelope",
    "Malformed",
    "RequestId",
    "classify",
    "decode_batch_items",
    "decode_message",
    "encode_error",
    "encode_notification",
    "encode_request",
    "encode_response",
    "is_batch",
]

RequestId: TypeAlias = "int | str"


class ErrorObject(msgspec.Struct, omit_defaults=True):
    """The `error` member of a JSON-RPC error response."""

    code: int
    message: str
    data: Any = None


class Envelope(msgspec.Struct, omit_defaults=True):
    """Any JSON-RPC message with its payload left undecoded."""

    jsonrpc: str | UnsetType = UNSET
    id: int | str | UnsetType | None = UNSET
    method: str | UnsetType = UNSET
    params: Raw | UnsetType = UNSET
    result: Raw | UnsetType = UNSET
    error: ErrorObject | UnsetType = UNSET


class Malformed(msgspec.Struct):
    """A message that could not be understood; `id` is the request id if one could be read."""

    code: int
    message: str
    id: int | str | None = None


_envelope_decoder: Final = msgspec.json.Decoder(Envelope)
_batch_decoder: Final = msgspec.json.Decoder(list[Raw])
_any_decoder: Final = msgspec.json.Decoder()
_encoder: Final = msgspec.json.Encoder()


def is_batch(data: bytes) -> bool:
    """Whether the message is a JSON array (a batch), judged by its first non-space byte."""
    stripped = data.lstrip()
    return stripped[:1] == b"["


def decode_batch_items(data: bytes) -> list[Raw] | Malformed:
    """Split a batch into its raw members."""
    try:
        items = _batch_decoder.decode(data)
    except msgspec.DecodeError as exc:
        return _parse_failure(data, exc)
    if not items:
        return Malformed(codes.INVALID_REQUEST, "Invalid Request: empty batch")
    return items


def decode_message(data: bytes | Raw) -> Envelope | Malformed:
    """Decode one JSON-RPC message's envelope; a failure says what was wrong."""
    try:
        env = _envelope_decoder.decode(data)
    except msgspec.ValidationError as exc:
        return Malformed(codes.INVALID_REQUEST, f"Invalid Request: {exc}", _salvage_id(data))
    except msgspec.DecodeError as exc:
        return _parse_failure(data, exc)
    if env.jsonrpc != "2.0":
        return Malformed(
            codes.INVALID_REQUEST,
            'Invalid Request: "jsonrpc" must be "2.0"',
            env.id if isinstance(env.id, (int, str)) else None,
        )
    return env


def _parse_failure(data: bytes | Raw, exc: msgspec.DecodeError) -> Malformed:
    # A JSON value that is not an object (a number, a string) parses but is no message.
    try:
        _any_decoder.decode(data)
    except msgspec.DecodeError:
        return Malformed(codes.PARSE_ERROR, f"Parse error: {exc}")
    return Malformed(codes.INVALID_REQUEST, "Invalid Request: a message must be a JSON object")


def _salvage_id(data: bytes | Raw) -> int | str | None:
    try:
        obj = _any_decoder.decode(data)
    except msgspec.DecodeError:
        return None
    if isinstance(obj, dict):
        rid = obj.get("id")
        if isinstance(rid, (str, int)) and not isinstance(rid, bool):
            return rid
    return None


def classify(env: Envelope) -> str | Malformed:
    """Name the kind of message: "request", "notification", "response" or "error"."""
    has_method = env.method is not UNSET
    has_result = env.result is not UNSET
    has_error = env.error is not UNSET
    if has_method:
        if has_result or has_error:
            return Malformed(codes.INVALID_REQUEST, "Invalid Request: method with result or error")
        if env.id is UNSET:
            return "notification"
        if env.id is None:
            # MCP (basic/index, Requests): the id MUST NOT be null.
            return Malformed(codes.INVALID_REQUEST, "Invalid Request: request id must not be null")
        return "request"
    if has_result and has_error:
        return Malformed(codes.INVALID_REQUEST, "Invalid Request: both result and error")
    if has_result:
        if env.id is UNSET or env.id is None:
            return Malformed(codes.INVALID_REQUEST, "Invalid Request: response without an id")
        return "response"
    if has_error:
        return "error"
    return Malformed(
        codes.INVALID_REQUEST,
        "Invalid Request: no method, result or error",
        env.id if isinstance(env.id, (int, str)) else None,
    )


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
    error: ErrorObject


def encode_request(request_id: RequestId, method: str, params: Any) -> bytes:
    return _encoder.encode(_Request("2.0", request_id, method, params))


def encode_notification(method: str, params: Any) -> bytes:
    return _encoder.encode(_Notification("2.0", method, params))


def encode_response(request_id: RequestId, result: Any) -> bytes:
    return _encoder.encode(_Response("2.0", request_id, result))


def encode_error(request_id: RequestId | None, code: int, message: str, data: Any = None) -> bytes:
    return _encoder.encode(_ErrorResponse("2.0", request_id, ErrorObject(code, message, data)))
