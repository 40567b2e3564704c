"""The health routes (`transports.deployment.health`): `/healthz` while the process serves,
`/readyz` until a shutdown begins (then 503 with Retry-After, while running calls go on),
reachable by a probe that sends its own Host and no token, and nothing else on those paths."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from _inprocess import asgi_request
from _serving import WAIT, serving, small_server

from mcpkit.transports.deployment.app import McpHttpApp


async def get(app: McpHttpApp, path: str, method: str = "GET", **headers: str) -> list[Any]:
    return await asgi_request(app, method, {"host": "127.0.0.1:8000", **headers}, path=path)


def status(sent: list[Any]) -> int:
    return int(sent[0]["status"])


def body(sent: list[Any]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent[1:])


async def test_live_and_ready_then_draining_once_a_shutdown_begins() -> None:
    app = small_server("health").http_app()
    assert (status(live := await get(app, "/healthz")), body(live)) == (200, b'{"status":"ok"}')
    ready = await get(app, "/readyz")
    assert (status(ready), body(ready)) == (200, b'{"status":"ready"}')
    app.close_streams()  # what `mcpkit run` does when SIGTERM comes
    draining = await get(app, "/readyz")
    assert status(draining) == 503 and body(draining) == b'{"status":"draining"}'
    assert dict(draining[0]["headers"])[b"retry-after"] == b"5"
    assert status(await get(app, "/healthz")) == 200  # still alive: its calls finish


async def test_a_probe_needs_no_token_and_may_send_any_host() -> None:
    """A kubelet or balancer probes with the address it reached and no credentials: the Host
    and Origin checks and authorization guard the MCP endpoint, not these two paths."""
    app = small_server("health").http_app()
    assert status(await get(app, "/readyz", host="10.1.2.3:8000")) == 200
    assert status(await get(app, "/healthz", origin="https://evil.example")) == 200
    # The endpoint itself still refuses that Host.
    refused = await asgi_request(app, "POST", {"host": "10.1.2.3:8000"}, b"{}")
    assert status(refused) == 421


async def test_head_other_methods_and_turning_them_off() -> None:
    app = small_server("health").http_app()
    head = await get(app, "/healthz", "HEAD")
    assert status(head) == 200 and body(head) == b""
    assert dict(head[0]["headers"])[b"content-length"] == b"15"
    posted = await get(app, "/readyz", "POST")
    assert status(posted) == 405 and dict(posted[0]["headers"])[b"allow"] == b"GET, HEAD"
    off = small_server("health").http_app(health_path=None, ready_path="/ready")
    assert status(await get(off, "/healthz")) == 404
    assert status(await get(off, "/ready")) == 200
    with pytest.raises(ValueError, match="also a health route"):
        small_server("health").http_app(path="/healthz")
    with pytest.raises(ValueError, match="must start with"):
        small_server("health").http_app(ready_path="readyz")


async def test_over_a_real_server_ready_turns_503_when_it_stops() -> None:
    app = small_server("health").http_app()
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        app.close_streams()
        response = await client.get("/readyz")
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
