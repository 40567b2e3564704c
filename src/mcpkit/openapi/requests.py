"""Calling an operation: arguments to an httpx request, the answer to an `OpenApiResult`.

Values go where their `Argument` says: path parameters URL-encoded, query parameters per
their `style`/`explode` (`form` exploded or not, `spaceDelimited`, `pipeDelimited`,
`deepObject`), headers and cookies in the `simple`/`form` styles, the body as JSON, a form,
multipart parts (files from base64) or raw text/bytes. A non-2xx answer raises
`OpenApiStatusError` with the API's decoded error body.

Arguments come from the MCP client, and the request goes out with the operator's
credentials: a path value cannot be empty or a dot segment (`..` would move the request
off its template: httpx resolves dot segments), and an object's keys cannot add query
parameters its schema does not name, nor replace the client's own (an `api_key`). Errors
name the operation by its path template, never by the URL sent (`redaction`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from mcpkit._extras import needs_extra
from mcpkit.openapi.bounded import MAX_RESPONSE_BYTES, send_bounded
from mcpkit.openapi.exceptions import (
    OpenApiArgumentError,
    OpenApiRequestError,
    OpenApiStatusError,
)
from mcpkit.openapi.operations import Argument, Operation
from mcpkit.openapi.redaction import redactor_of, without_urls
from mcpkit.openapi.schemas import as_list, as_object

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenApiResult", "call_operation"]

_DELIMITERS: Final = {"spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True)
class OpenApiResult:
    """A 2xx answer: its status, headers and decoded body (JSON value, text or bytes), and
    the structured content matching the operation's output schema where it has one."""

    status: int
    headers: Mapping[str, str]
    body: object
    content_type: str | None
    structured_content: dict[str, Any] | None = field(default=None)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _simple(value: object, explode: bool) -> str:
    """RFC 6570-like `simple` style: arrays joined by commas, objects as k,v or k=v pairs."""
    items, members = as_list(value), as_object(value)
    if items is not None:
        return ",".join(_text(v) for v in items)
    if members is not None:
        pairs = members.items()
        if explode:
            return ",".join(f"{k}={_text(v)}" for k, v in pairs)
        return ",".join(f"{k},{_text(v)}" for k, v in pairs)
    return _text(value)


def _path_value(arg: Argument, value: object) -> str:
    if arg.style == "label":
        return "." + quote(_simple(value, arg.explode), safe=",=")
    if arg.style == "matrix":
        return f";{arg.key}=" + quote(_simple(value, arg.explode), safe=",=")
    return quote(_simple(value, arg.explode), safe="")


def _query_pairs(
    arg: Argument, value: object, reserved: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    key = str(arg.key)
    items, members = as_list(value), as_object(value)
    if members is not None:
        _check_keys(arg, members, reserved)
        if arg.style == "deepObject":
            return [(f"{key}[{k}]", _text(v)) for k, v in members.items()]
        if arg.explode:
            return [(k, _text(v)) for k, v in members.items()]
        return [(key, _simple(value, False))]
    if items is not None:
        if arg.explode and arg.style == "form":
            return [(key, _text(v)) for v in items]
        return [(key, _DELIMITERS.get(arg.style, ",").join(_text(v) for v in items))]
    return [(key, _text(value))]


def _check_keys(arg: Argument, members: Mapping[str, object], reserved: frozenset[str]) -> None:
    """An object query argument's keys: those its schema names (any, where it allows more
    properties), and, exploded into parameters of their own, none that another parameter
    of the request or the operator's client already sends."""
    schema = as_object(arg.schema) or {}
    named = as_object(schema.get("properties")) or {}
    # (a schema that names no property takes any, as JSON Schema's `additionalProperties`
    # default says; one that names some takes others only where it says so)
    more = schema.get("additionalProperties", not named)
    unknown = sorted(k for k in members if k not in named) if more in (False, None) else []
    if unknown:
        raise OpenApiArgumentError(
            f"argument {arg.name!r} has no properties named {unknown}: it takes {sorted(named)}"
        )
    clash = sorted(set(members) & reserved) if arg.style != "deepObject" and arg.explode else []
    if clash:
        raise OpenApiArgumentError(
            f"argument {arg.name!r} cannot set the query parameters {clash}: the request "
            "sends them already"
        )


def _decode_base64(arg: Argument, value: object) -> bytes:
    if not isinstance(value, str):
        raise OpenApiArgumentError(f"argument {arg.name!r} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise OpenApiArgumentError(f"argument {arg.name!r} is not valid base64: {exc}") from None


@dataclass
class _Request:
    path: str
    #: query names an object argument cannot take: the other parameters', the client's own
    reserved: frozenset[str] = frozenset()
    params: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    headers: dict[str, str] = field(default_factory=dict[str, str])
    cookies: list[str] = field(default_factory=list[str])
    body: dict[str, Any] = field(default_factory=dict[str, Any])
    whole: list[object] = field(default_factory=list[object])


def _place(request: _Request, arg: Argument, value: object) -> None:
    key = str(arg.key)
    if value is None and arg.location == "path":
        raise OpenApiArgumentError(f"the path parameter {arg.name!r} cannot be null")
    if value is None and arg.location != "body":
        return  # a parameter given as null is one not given: HTTP has no null to send
    if arg.location == "path":
        placed = _path_value(arg, value)
        if placed in ("", ".", ".."):
            raise OpenApiArgumentError(
                f"the path parameter {arg.name!r} cannot be {value!r}: an empty or dot "
                "segment would move the request off its path"
            )
        request.path = request.path.replace("{" + key + "}", placed)
    elif arg.location == "query":
        request.params.extend(_query_pairs(arg, value, request.reserved))
    elif arg.location == "header":
        request.headers[key] = _simple(value, arg.explode)
    elif arg.location == "cookie":
        request.cookies.append(f"{key}={quote(_simple(value, arg.explode), safe=',')}")
    elif arg.key is None:
        request.whole.append(value)
    else:
        request.body[key] = value


def _arrange(
    op: Operation, arguments: Mapping[str, object], configured: Iterable[str] = ()
) -> _Request:
    by_name = {a.name: a for a in op.arguments}
    unknown = sorted(set(arguments) - set(by_name))
    if unknown:
        raise OpenApiArgumentError(f"{op.method} {op.path} takes no argument named {unknown}")
    missing = [a.name for a in op.arguments if a.required and a.name not in arguments]
    if missing:
        raise OpenApiArgumentError(f"{op.method} {op.path} needs the arguments {missing}")
    others = {str(a.key) for a in op.arguments if a.location == "query"}
    own = set(configured)
    # (httpx lets a request's parameter replace the client's of the same name)
    shadowing = sorted(
        name
        for name in arguments
        if by_name[name].location == "query" and str(by_name[name].key) in own
    )
    if shadowing:
        raise OpenApiArgumentError(
            f"{op.method} {op.path}: the arguments {shadowing} would replace query parameters "
            "the server sends itself"
        )
    request = _Request(op.path, frozenset(others | own))
    for name, value in arguments.items():
        _place(request, by_name[name], value)
    if any(part in (".", "..") for part in request.path.split("/")):
        # (values that are no dot segment alone can make one together: `{a}{b}`)
        raise OpenApiArgumentError(f"the arguments of {op.method} {op.path} make a dot segment")
    return request


def _body_options(op: Operation, request: _Request) -> dict[str, Any]:
    """httpx's keyword arguments for the body (none when no body argument was given)."""
    body = op.body
    if body is None or (not request.body and not request.whole):
        return {}
    value: Any = request.whole[0] if request.whole else request.body
    if body.kind == "json":
        return {"json": value}
    if body.kind in ("text", "bytes"):
        whole = next(a for a in op.arguments if a.location == "body")
        content = _decode_base64(whole, value) if whole.binary else str(value)
        return {"content": content, "headers": {"content-type": body.media_type}}
    fields = as_object(value)
    if fields is None:
        raise OpenApiArgumentError(f"the {body.kind} body of {op.path} must be an object")
    if body.kind == "form":
        return {"data": {k: _form_value(v) for k, v in fields.items()}}
    args = {a.key: a for a in op.arguments if a.location == "body"}
    # every part in `files`, plain fields with no file name: a multipart body even when it
    # carries no file
    parts: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = []
    for key, item in fields.items():
        part = args.get(key)
        for one in as_list(item) or [item]:
            if part is not None and part.binary:
                media = part.media_type or "application/octet-stream"
                parts.append((key, (key, _decode_base64(part, one), media)))
            else:
                parts.append((key, (None, _text(one), None)))
    return {"files": parts}


def _form_value(value: object) -> str | list[str]:
    items = as_list(value)
    return [_text(v) for v in items] if items is not None else _text(value)


def _decode(response: httpx.Response, data: bytes) -> object:
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not data:
        return None
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested past what we decode
            return _as_text(response, data)
    if kind.startswith("text/") or kind.endswith(("xml", "javascript", "yaml")) or not kind:
        return _as_text(response, data)
    return data


def _as_text(response: httpx.Response, data: bytes) -> str:
    try:
        return data.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


def _url(client: httpx.AsyncClient, path: str, server_url: str | None) -> str:
    if str(client.base_url) or server_url is None:
        return path
    return server_url.rstrip("/") + path


async def call_operation(
    op: Operation,
    client: httpx.AsyncClient,
    arguments: Mapping[str, object],
    *,
    server_url: str | None = None,
    forward_headers: Mapping[str, str] | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> OpenApiResult:
    """Send `op` with `arguments` on `client` (its base URL, or `server_url` when it has
    none); `forward_headers` are added to the request (a parameter of the same name wins).
    An answer longer than `max_response_bytes` is refused (`OpenApiRequestError`)."""
    with needs_extra("openapi"):
        import httpx

    request = _arrange(op, arguments, client.params.keys())
    # httpx.Headers: a parameter replaces a forwarded header whatever the case of its name
    headers = httpx.Headers(forward_headers or {})
    headers.update(request.headers)
    if request.cookies:
        # one Cookie header: httpx deprecates per-request cookies
        headers["cookie"] = "; ".join(request.cookies)
    options = _body_options(op, request)
    headers.update(options.pop("headers", {}))
    url = _url(client, request.path, server_url)
    label = f"{op.method} {op.path}"
    try:
        sent = client.build_request(
            op.method, url, params=tuple(request.params), headers=headers, **options
        )
        response, data = await send_bounded(
            client, sent, max_response_bytes, "max_response_bytes", label
        )
    except httpx.HTTPError as exc:
        shown = redactor_of(client, server_url).text(without_urls(str(exc)))
        raise OpenApiRequestError(f"{label} failed: {type(exc).__name__}: {shown}") from exc
    body = _decode(response, data)
    if not 200 <= response.status_code < 300:
        raise OpenApiStatusError(
            op.method,
            op.path,
            response.status_code,
            response.headers,
            redactor_of(client, server_url).body(body),
            url=str(response.request.url),
        )
    return OpenApiResult(
        status=response.status_code,
        headers=dict(response.headers),
        body=body,
        content_type=response.headers.get("content-type"),
        structured_content=_structured(op, body),
    )


def _structured(op: Operation, body: object) -> dict[str, Any] | None:
    if op.response.schema is None or isinstance(body, bytes):
        return None
    if op.response.wrapped:
        return {"result": body}
    found = as_object(body)
    return dict(found) if found is not None else None
