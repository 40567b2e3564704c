"""The documented event of each Lambda HTTP integration (events/*.json, AWS's examples), made
to carry one MCP request: a 2026-07-28 POST to /mcp with the headers a client sends."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"
REVISION = "2026-07-28"
#: The three integrations: API Gateway HTTP API (payload 2.0), function URL, REST API (1.0).
KINDS = ("http_api_v2", "function_url", "rest_api_v1")
META = {
    "io.modelcontextprotocol/protocolVersion": REVISION,
    "io.modelcontextprotocol/clientCapabilities": {},
}


class FakeContext:
    """The part of Lambda's context object the handler reads."""

    aws_request_id = "c0ffee"

    def __init__(self, millis: int = 60_000) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def request(method: str, params: dict[str, Any] | None = None, rid: Any = 1) -> dict[str, Any]:
    params = {**(params or {}), "_meta": META}
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def mcp_headers(method: str, name: str | None = None) -> dict[str, str]:
    found = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": REVISION,
        "mcp-method": method,
    }
    if name is not None:
        found["mcp-name"] = name
    return found


def event(
    kind: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    path: str = "/mcp",
    base64_body: bool = False,
) -> dict[str, Any]:
    """The documented `kind` event, sent `method` to `path` with `headers` and `body` (JSON,
    or raw bytes; base64 as the integration encodes binary bodies when asked)."""
    found: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{kind}.json").read_text()))
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    found["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode() or None
    found["isBase64Encoded"] = base64_body
    hdrs = {**(headers or {})}
    context = found["requestContext"]
    if kind == "rest_api_v1":
        found.update(httpMethod=method, path=path, resource="/{proxy+}")
        context.update(httpMethod=method, path=path)
        found["headers"] = {**found["headers"], **hdrs}
        multi = {name: [value] for name, value in hdrs.items()}
        found["multiValueHeaders"] = {**found["multiValueHeaders"], **multi}
    else:
        found["rawPath"] = path
        context["http"].update(method=method, path=path)
        found["headers"] = {**found["headers"], **hdrs}
    return found


def answer(result: dict[str, Any]) -> Any:
    """The JSON-RPC message a handler's result carries."""
    body = result["body"]
    if result["isBase64Encoded"]:
        body = base64.b64decode(body).decode()
    return json.loads(body)


def header(result: dict[str, Any], name: str) -> str | None:
    """A response header's value, in either result shape."""
    if "multiValueHeaders" in result:
        values = result["multiValueHeaders"].get(name)
        return None if not values else ", ".join(values)
    value: str | None = result["headers"].get(name)
    return value
