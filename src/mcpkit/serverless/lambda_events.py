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
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode

__all__ = ["EventError", "LambdaRequest", "lambda_response", "read_event"]

Shape = Literal["2.0", "1.0"]

# Sent as text; anything else is base64 in the result, as API Gateway asks for binary.
_TEXT_TYPES: Final = (b"application/json", b"text/", b"application/problem+json")


class EventError(ValueError):
    """The event is not an HTTP request of a shape this module reads (a test event from the
    console, an SQS batch sent to the wrong function, a body that is not valid base64)."""


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
            "raw_path": quote(self.path).encode(),
            "root_path": self.root_path,
            "query_string": self.query,
            "headers": self.headers,
            "client": self.client,
            "server": self.server,
        }


def read_event(event: Mapping[str, Any]) -> LambdaRequest:
    """The request in `event` (any of the three integrations); `EventError` when there is
    none."""
    if event.get("version") == "2.0" and isinstance(event.get("requestContext"), Mapping):
        return _read_v2(event)
    if isinstance(event.get("httpMethod"), str):
        return _read_v1(event)
    raise EventError(
        "not an HTTP event: the handler takes API Gateway HTTP API (payload format 2.0 or "
        "1.0), REST API proxy and Lambda function URL events"
    )


def _read_v2(event: Mapping[str, Any]) -> LambdaRequest:
    context: Mapping[str, Any] = event["requestContext"]
    http: Mapping[str, Any] = context.get("http") or {}
    headers = _pairs(event.get("headers") or {})
    cookies: Sequence[str] = event.get("cookies") or ()
    if cookies:
        # The cookies came out of the Cookie header; put them back the way a browser sends.
        headers.append((b"cookie", "; ".join(cookies).encode("latin-1")))
    _add_host(headers, context.get("domainName"))
    path: str = event.get("rawPath") or http.get("path") or "/"
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
        query=str(event.get("rawQueryString") or "").encode("latin-1"),
        headers=headers,
        body=_body(event),
        client=_client(http.get("sourceIp")),
        server=_server(headers, context.get("domainName")),
        scheme=_scheme(headers),
    )


def _read_v1(event: Mapping[str, Any]) -> LambdaRequest:
    context: Mapping[str, Any] = event.get("requestContext") or {}
    multi: Mapping[str, Sequence[str]] | None = event.get("multiValueHeaders")
    if multi:
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, values in multi.items()
            for value in values or ()
        ]
    else:
        headers = _pairs(event.get("headers") or {})
    _add_host(headers, context.get("domainName"))
    queries: Mapping[str, Sequence[str]] | None = event.get("multiValueQueryStringParameters")
    if queries:
        query = urlencode([(k, v) for k, vs in queries.items() for v in vs or ()])
    else:
        single: Mapping[str, str] = event.get("queryStringParameters") or {}
        query = urlencode(list(single.items()))
    identity: Mapping[str, Any] = context.get("identity") or {}
    return LambdaRequest(
        shape="1.0",
        method=str(event["httpMethod"]).upper(),
        # `path` is the resource's path without the stage (on the execute-api host).
        path=str(event.get("path") or "/"),
        root_path="",
        query=query.encode("latin-1"),
        headers=headers,
        body=_body(event),
        client=_client(identity.get("sourceIp")),
        server=_server(headers, context.get("domainName")),
        scheme=_scheme(headers),
    )


def _pairs(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in headers.items()
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
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EventError(f"the event's body is marked base64 but is not: {exc}") from None
    return str(body).encode()


def _client(ip: object) -> tuple[str, int] | None:
    return (ip, 0) if isinstance(ip, str) and ip else None


def _server(headers: list[tuple[bytes, bytes]], domain: object) -> tuple[str, int] | None:
    host = next((v.decode("latin-1") for k, v in headers if k == b"host"), None)
    name = host or (domain if isinstance(domain, str) else None)
    if not name:  # (no Host and no domainName: a hand-made event)
        return None
    bare, _, port = name.partition(":")
    return (bare, int(port)) if port.isdigit() else (bare, 443)


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
