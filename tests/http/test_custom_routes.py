"""`@server.custom_route(path, methods=[...])`: Starlette handlers served beside the MCP endpoint
by every HTTP app of the server (in process through httpx's ASGI transport, with a real uvicorn,
`server.run(transport="http")` and `mcpkit run --transport http`), after the lifespan started,
behind the endpoint's Host checks and, when asked, its bearer token; and every path the app
serves itself refused, naming both."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _running import WAIT, mcpkit, running
from _serving import INITIALIZE, headers, serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount

from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

TOKEN = "tok-route-4c1d"


class OneToken:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if token != TOKEN:
            raise InvalidToken("the token is unknown")
        return AccessToken(subject="alice", client_id="app", scopes=frozenset({"mcp"}))


def routed_server(**options: Any) -> Server:
    """A server whose lifespan yields its state, with a health route reading it, a route with a
    path parameter taking POST, and a webhook."""

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, str]]:
        yield {"db": "open"}

    server = Server("routed", lifespan=lifespan, **options)

    @server.custom_route("/health", methods=["GET"])
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "db": server.lifespan_state["db"]})

    @server.custom_route("/items/{item_id}", methods=["POST"])
    async def item(request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"id": request.path_params["item_id"], "body": body})

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return server


async def test_routes_beside_the_endpoint_in_process() -> None:
    app = routed_server().http_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        health = await client.get("/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "db": "open"})
        item = await client.post("/items/42", json={"n": 1})
        assert item.json() == {"id": "42", "body": {"n": 1}}
        wrong = await client.get("/items/42")  # Starlette's answer for another method
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
        assert (await client.get("/nothing")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200  # the app's own still there
        mcp = await client.post("/mcp", json=INITIALIZE, headers=headers())
        assert mcp.status_code == 200 and "mcp-session-id" in mcp.headers


async def test_a_route_passes_the_endpoints_host_check() -> None:
    """DNS rebinding protection covers the routes too: a page in a browser must not reach a
    loopback server's webhook through a name it controls."""
    app = routed_server().http_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://evil.example:8000") as client,
    ):
        assert (await client.get("/health")).status_code == 421


async def test_a_routes_body_is_held_to_the_servers_max_message_size() -> None:
    """A route reads what a message to the endpoint may be, no more: 413 for a body said
    (Content-Length) or sent (chunked) past `max_message_size`, over a real uvicorn."""
    app = routed_server(max_message_size=1024).http_app()

    async def chunks(total: int) -> AsyncIterator[bytes]:
        for _ in range(total // 256):
            yield b"[" * 256

    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        fits = await client.post("/items/1", json={"n": "x" * 900})
        assert fits.status_code == 200
        declared = await client.post("/items/1", content=b"[" * 5000)
        assert declared.status_code == 413
        assert "max_message_size (1024 bytes)" in declared.json()["error"]["message"]
        streamed = await client.post("/items/1", content=chunks(64 * 1024))
        assert streamed.status_code == 413
        assert (await client.get("/health")).status_code == 200  # and it serves on


async def test_with_a_real_uvicorn_the_lifespan_has_run() -> None:
    app = routed_server().http_app()
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        assert (await client.get("/health")).json() == {"status": "ok", "db": "open"}


async def test_mounted_in_starlette_below_a_prefix() -> None:
    app = routed_server().http_app()
    outer = Starlette(routes=[Mount("/api", app=app)], lifespan=lambda _: app.lifespan())
    async with serving(outer) as base, httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        assert (await client.get("/api/health")).json()["db"] == "open"
        assert (await client.post("/api/items/7", json=[])).json() == {"id": "7", "body": []}


async def test_auth_true_needs_the_servers_token_and_others_stay_open() -> None:
    server = Server("guarded", auth=ProtectedResource(verifier=OneToken()))

    @server.custom_route("/me", methods=["GET"], auth=True)
    async def me(request: Request) -> Response:
        token: AccessToken = request.auth
        return PlainTextResponse(token.subject or "")

    @server.custom_route("/callback", methods=["GET"])
    def callback(request: Request) -> Response:  # a plain def runs in a thread, as Starlette's
        return PlainTextResponse(request.query_params["code"])

    app = server.http_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        refused = await client.get("/me")
        assert refused.status_code == 401
        assert "resource_metadata=" in refused.headers["www-authenticate"]
        assert (
            await client.get("/me", headers={"authorization": "Bearer nope"})
        ).status_code == 401
        me_ok = await client.get("/me", headers={"authorization": f"Bearer {TOKEN}"})
        assert (me_ok.status_code, me_ok.text) == (200, "alice")
        assert (await client.get("/callback?code=xyz")).text == "xyz"


def test_paths_the_app_serves_itself_are_refused_naming_both() -> None:
    server = Server("clash")

    @server.custom_route("/mcp", methods=["GET"])
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("")

    with pytest.raises(ValueError, match=r"custom route '/mcp' \(.*endpoint\).*the MCP endpoint"):
        server.http_app()
    server.http_app(path="/api/mcp")  # elsewhere, the route is served

    healthz = Server("healthz")
    healthz.custom_route("/healthz", methods=["GET"])(endpoint)
    with pytest.raises(ValueError, match=r"'/healthz'.*health route \(health_path\)"):
        healthz.http_app()
    healthz.http_app(health_path=None)

    legacy = Server("legacy")
    legacy.custom_route("/{anything}", methods=["GET"])(endpoint)  # a parameter matches too
    with pytest.raises(ValueError, match=r"'/\{anything\}'.*would answer '/mcp'"):
        legacy.http_app()

    with pytest.raises(ValueError, match="oauth-protected-resource is where the protected"):
        server.custom_route("/.well-known/oauth-protected-resource/mcp", methods=["GET"])
    protected = Server("protected", auth=ProtectedResource(verifier=OneToken()))
    protected.custom_route("/.well-known/{name}", methods=["GET"])(endpoint)
    with pytest.raises(ValueError, match=r"protected resource metadata \(auth\)"):
        protected.http_app()


def test_mistakes_in_a_route_are_refused_where_written() -> None:
    server = Server("mistakes")

    async def handler(request: Request) -> Response:
        return PlainTextResponse("")

    with pytest.raises(ValueError, match="GTE is not an HTTP method"):
        server.custom_route("/a", methods=["GTE"])
    with pytest.raises(TypeError, match=r"methods is a list, such as methods=\['GET'\]"):
        server.custom_route("/a", methods="GET")
    with pytest.raises(ValueError, match="starts with '/'"):
        server.custom_route("health", methods=["GET"])
    server.custom_route("/a", methods=["GET", "POST"])(handler)
    with pytest.raises(ValueError, match=r"takes POST, which .*handler already serves there"):
        server.custom_route("/a", methods=["post", "PUT"])(handler)
    server.custom_route("/a", methods=["PUT"])(handler)  # another method of the same path
    with pytest.raises(ValueError, match="asks for auth=True, but this app serves without"):
        server.custom_route("/b", methods=["GET"], auth=True)(handler)
        server.http_app()
    assert [route.path for route in server.custom_routes] == ["/a", "/a", "/b"]


async def test_a_mounted_servers_routes_are_served_and_a_clash_refused() -> None:
    parent = Server("parent")
    child = routed_server()
    parent.mount(child, namespace="child")
    app = parent.http_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        assert (await client.get("/health")).json() == {"status": "ok", "db": "open"}

    @parent.custom_route("/health", methods=["GET"])
    async def mine(request: Request) -> Response:
        return PlainTextResponse("")

    with pytest.raises(ValueError, match=r"takes GET, which .*mine already serves there"):
        parent.http_app()


ROUTED_FILE = """
import sys
from starlette.responses import JSONResponse
from mcpkit import Server

server = Server("routed-file")

@server.custom_route("/health", methods=["GET"])
async def health(request):
    return JSONResponse({"status": "ok", "server": server.name})

if __name__ == "__main__":
    server.run(transport="http", port=0)
"""


@pytest.mark.parametrize("how", ["mcpkit run", "server.run"])
async def test_served_by_mcpkit_run_and_server_run(tmp_path: Path, how: str) -> None:
    path = tmp_path / "routed.py"
    path.write_text(ROUTED_FILE)

    if how == "mcpkit run":
        argv = mcpkit("run", str(path), "--transport", "http", "--port", "0")
    else:
        argv = [sys.executable, str(path)]
    async with running(argv) as proc:
        base = (await proc.started()).removesuffix("/mcp")
        async with httpx.AsyncClient(timeout=WAIT) as client:
            answer = await client.get(base + "/health")
        assert json.loads(answer.text) == {"status": "ok", "server": "routed-file"}


def test_without_starlette_the_message_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "starlette.routing", None)  # as if it were not installed
    server = Server("bare")
    with pytest.raises(ImportError, match=r"needs Starlette.*pip install starlette"):
        server.custom_route("/health", methods=["GET"])(lambda request: PlainTextResponse(""))


async def test_url_for_finds_a_route_by_its_name_below_a_mount() -> None:
    server = Server("named")

    @server.custom_route("/callback/{provider}", methods=["GET"], name="oauth-callback")
    async def callback(request: Request) -> Response:
        return PlainTextResponse("")

    @server.custom_route("/login", methods=["GET"])
    async def login(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("oauth-callback", provider="github")))

    app = server.http_app()
    outer = Starlette(routes=[Mount("/api", app=app)], lifespan=lambda _: app.lifespan())
    async with serving(outer) as base, httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        assert (await client.get("/api/login")).text == base + "/api/callback/github"


async def test_a_route_served_without_the_lifespan_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = routed_server().http_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        assert (await client.post("/items/1", json=1)).status_code == 200
        assert (await client.post("/items/2", json=2)).status_code == 200
    warned = [r for r in caplog.records if "serving without the ASGI lifespan" in r.message]
    assert len(warned) == 1 and "app.lifespan()" in warned[0].message
