"""AWS Lambda HTTP events as ASGI requests, and ASGI answers as the result Lambda expects.

Three integrations hand a function an HTTP request, in two shapes: API Gateway HTTP APIs
with payload format 2.0 and Lambda function URLs send `version: "2.0"` events (`rawPath`,
`rawQueryString`, repeated headers joined with commas, cookies in a list of their own);
API Gateway REST APIs (and HTTP APIs set to payload format 1.0) send `httpMethod`, `path`
and `multiValueHeaders`. Each wants its answer in its own shape: 2.0 takes `cookies` and
one value per header, 1.0 takes `multiValueHeaders`. Nothing here runs the request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, cast
from urllib.parse import quote, urlencode

from mcpkit.protocol.codes import INVALID_REQUEST, PARSE_ERROR

__all__ = ["EventError", "LambdaRequest", "lambda_response", "read_event"]

Shape = Literal["2.0", "1.0"]

# Sent as text; anything else is base64 in the result, as API Gateway asks for binary.
_TEXT_TYPES: Final = (b"application/json", b"text/", b"application/problem+json")


class EventError(ValueError):
    """The event is not an HTTP request of a shape this module reads (a test event from the
    console, an SQS batch sent to the wrong function, a field of the wrong type), or its body
    cannot be read (marked base64 but not). `code` is the JSON-RPC error the HTTP transport
    answers the like with (-32700 for a body it cannot read, -32600 for a request it does not
    take), `shape` the shape to answer in."""

    def __init__(self, message: str, *, code: int = INVALID_REQUEST, shape: Shape = "2.0") -> None:
        super().__init__(message)
        self.code = code
        self.shape: Shape = shape


@dataclasses.dataclass(frozen=True, slots=True)
class LambdaRequest:
    """The HTTP request an event carries, as ASGI wants it, and the shape to answer in."""

    shape: Shape
    method: str
    path: str
    root_path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    client: tuple[str, int] | None
    server: tuple[str, int] | None
    scheme: str

    def scope(self) -> dict[str, Any]:
        """The ASGI HTTP scope of this request."""
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": self.scheme,
            "path": self.path,
            "raw_path": quote(self.path, errors="surrogatepass").encode(),
            "root_path": self.root_path,
            "query_string": self.query,
            "headers": self.headers,
            "client": self.client,
            "server": self.server,
        }


def read_event(event: object) -> LambdaRequest:
    """The request in `event` (any of the three integrations); `EventError` when there is
    none, or when a field of it is not of the type the integrations send."""
    if isinstance(event, Mapping):
        found = cast("Mapping[str, Any]", event)
        if found.get("version") == "2.0" and isinstance(found.get("requestContext"), Mapping):
            return _read_v2(found)
        if isinstance(found.get("httpMethod"), str):
            try:
                return _read_v1(found)
            except EventError as exc:
                exc.shape = "1.0"
                raise
    raise EventError(
        "not an HTTP event: the handler takes API Gateway HTTP API (payload format 2.0 or "
        "1.0), REST API proxy and Lambda function URL events"
    )


def _read_v2(event: Mapping[str, Any]) -> LambdaRequest:
    context: Mapping[str, Any] = event["requestContext"]
    http = _object(context.get("http"), "requestContext.http")
    headers = _pairs(_object(event.get("headers"), "headers"), "headers")
    cookies = _texts(event.get("cookies"), "cookies")
    if cookies:
        # The cookies came out of the Cookie header; put them back the way a browser sends.
        headers.append((b"cookie", _latin1("; ".join(cookies))))
    _add_host(headers, context.get("domainName"))
    path = _text(event.get("rawPath"), "rawPath") or _text(http.get("path"), "http.path") or "/"
    stage = context.get("stage")
    # An HTTP API stage other than $default is the first segment of rawPath: the app is
    # below it, as if mounted there.
    root = f"/{stage}" if stage and stage != "$default" else ""
    if root and not (path == root or path.startswith(root + "/")):
        root = ""
    return LambdaRequest(
        shape="2.0",
        method=str(http.get("method") or "GET").upper(),
        path=path,
        root_path=root,
        query=_latin1(_text(event.get("rawQueryString"), "rawQueryString")),
        headers=headers,
        body=_body(event),
        client=_client(http.get("sourceIp")),
        server=_server(headers, context.get("domainName")),
        scheme=_scheme(headers),
    )


def _read_v1(event: Mapping[str, Any]) -> LambdaRequest:
    context = _object(event.get("requestContext"), "requestContext")
    multi = _object(event.get("multiValueHeaders"), "multiValueHeaders")
    if multi:
        headers = _pairs(_multi(multi, "multiValueHeaders"), "multiValueHeaders")
    else:
        headers = _pairs(_object(event.get("headers"), "headers"), "headers")
    _add_host(headers, context.get("domainName"))
    queries = _object(
        event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters"
    )
    if queries:
        query = urlencode(_multi(queries, "multiValueQueryStringParameters"))
    else:
        single = _object(event.get("queryStringParameters"), "queryStringParameters")
        query = urlencode([(k, _text(v, f"queryStringParameters.{k}")) for k, v in single.items()])
    identity = _object(context.get("identity"), "requestContext.identity")
    return LambdaRequest(
        shape="1.0",
        method=str(event["httpMethod"]).upper(),
        # `path` is the resource's path without the stage (on the execute-api host).
        path=_text(event.get("path"), "path") or "/",
        root_path="",
        query=_latin1(query),
        headers=headers,
        body=_body(event),
        client=_client(identity.get("sourceIp")),
        server=_server(headers, context.get("domainName")),
        scheme=_scheme(headers),
    )


# ----------------------------------------------------------- the event's fields, checked
# An event is JSON the integration wrote, or anything a caller invoked the function with: a
# field of another type is the caller's mistake, answered 400, never an exception that the
# integration turns into a 502.


def _object(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventError(f"the event's {where} is a {type(value).__name__}, not an object")
    return cast("Mapping[str, Any]", value)


def _text(value: object, where: str) -> str:
    """A string field ("" when absent); a number is taken as its text, as a hand-made test
    event may write one."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise EventError(f"the event's {where} is a {type(value).__name__}, not a string")


def _texts(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventError(f"the event's {where} is a {type(value).__name__}, not a list")
    return [_text(item, f"{where}[{i}]") for i, item in enumerate(cast("list[object]", value))]


def _multi(values: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a REST API's multiValue* object (a list per name)."""
    return [
        (name, value)
        for name, listed in values.items()
        for value in _texts(listed, f"{where}.{name}")
    ]


def _latin1(text: str) -> bytes:
    """Text as the bytes it came from: HTTP's header bytes as ISO-8859-1 when they fit, else
    as UTF-8 (the integration decoded a client's non-ASCII bytes as one or the other)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _pairs(
    headers: Mapping[str, Any] | list[tuple[str, str]], where: str
) -> list[tuple[bytes, bytes]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (_latin1(str(name).lower()), _latin1(_text(value, f"{where}.{name}")))
        for name, value in items
    ]


def _add_host(headers: list[tuple[bytes, bytes]], domain: object) -> None:
    # Real events carry the Host the client sent; a hand-made test event may not, and the
    # endpoint under auth names itself by it: the domain the request came to is that name.
    if isinstance(domain, str) and domain and all(k != b"host" for k, _ in headers):
        headers.append((b"host", domain.encode("latin-1")))


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):  # (a console test event may give the JSON itself)
        raise EventError(
            f"the event's body is a {type(body).__name__}: an integration sends the HTTP "
            "body as a string (of JSON text here)"
        )
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            # The HTTP transport's answer to a body it cannot read as JSON.
            raise EventError(
                f"Parse error: the event's body is marked base64 but is not: {exc}",
                code=PARSE_ERROR,
            ) from None
    # A lone surrogate (JSON may escape one) stays what it is: bytes the app refuses as
    # not UTF-8, as it would the same body over HTTP.
    return body.encode("utf-8", "surrogatepass")


def _client(ip: object) -> tuple[str, int] | None:
    return (ip, 0) if isinstance(ip, str) and ip else None


def _server(headers: list[tuple[bytes, bytes]], domain: object) -> tuple[str, int] | None:
    host = next((v.decode("latin-1") for k, v in headers if k == b"host"), None)
    name = host or (domain if isinstance(domain, str) else None)
    if not name:  # (no Host and no domainName: a hand-made event)
        return None
    bare, _, port = name.partition(":")
    # (the client's Host: `isdigit` alone takes "²", and int() refuses thousands of digits)
    return (
        (bare, int(port)) if port.isascii() and port.isdigit() and len(port) <= 5 else (bare, 443)
    )


def _scheme(headers: list[tuple[bytes, bytes]]) -> str:
    proto = next((v for k, v in headers if k == b"x-forwarded-proto"), b"https")
    return "http" if proto == b"http" else "https"


def lambda_response(
    shape: Shape, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> dict[str, Any]:
    """The result a function returns for an answer of `status`, `headers` and `body`, in the
    shape the event came in (2.0 for HTTP APIs and function URLs, 1.0 for REST APIs)."""
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    text = not body or kind.startswith(_TEXT_TYPES)
    result: dict[str, Any] = {
        "statusCode": status,
        "body": body.decode() if text else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": not text,
    }
    if shape == "1.0":
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            multi.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        result["multiValueHeaders"] = multi
        return result
    single: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key, text_value = name.decode("latin-1").lower(), value.decode("latin-1")
        if key == "set-cookie":
            cookies.append(text_value)  # one per cookie: a comma may be inside one
        elif key in single:
            single[key] += ", " + text_value  # RFC 9110 section 5.3
        else:
            single[key] = text_value
    result["headers"] = single
    if cookies:
        result["cookies"] = cookies
    return result
