"""OAuth 2.1 across implementations (issue 9): the official Python SDK's and the TypeScript
SDK's OAuth clients complete the whole flow against examples/protected.py (discovery,
dynamic registration, PKCE, the token, listing tools, calling `whoami`, and a step-up for an
`admin` tool), and mcpkit's client completes it against servers protected by the official
Python SDK and by the TypeScript SDK whose tokens come from mcpkit's development authorization
server on another port, checked there by introspection (RFC 7662).

Redirects are followed headlessly (the development server approves at once); every server
listens on 127.0.0.1 only; every wait is bounded and every subprocess killed at the end."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _processes import finished
from interop_harness import SUBPROCESS_TIMEOUT, peer_env, require_node, require_python_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from _running import mcpkit, running
from _serving import serving
from official_auth_client import (
    REDIRECT_URI,
    HeadlessBrowser,
    SdkMemoryStorage,
    json_text,
    official_summary,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROTECTED = REPO / "examples" / "protected.py"
WAIT = 10.0  # seconds: a bound on one HTTP exchange, not a measurement


def check(summary: dict[str, Any], client: str, origin: str) -> None:
    """What every OAuth client must have seen against examples/protected.py."""
    assert summary["client"] == client
    if client == "ts":  # its first connection fails as the SDK documents, then it finishes
        assert summary["first_attempt"] == "unauthorized"
        # SDK 1.32 refreshes rather than steps up while it holds a refresh token
        # (typescript-sdk issue #2255); the peer then drops it and steps up (see the peer).
        assert summary["step_up_with_refresh_token"] in {
            "stepped up",
            "Streamable HTTP error: Server returned 403 after trying upscoping",
        }
    assert summary["server_name"] == "protected"
    # The admin-scoped tool is hidden from a token with `mcp` only.
    assert summary["tools"] == ["whoami"]
    whoami = summary["whoami"]
    assert whoami["subject"] == "dev-user"
    assert whoami["scopes"] == ["mcp"]
    assert whoami["client_id"] == summary["client_id"]  # the client it registered
    assert summary["token_type"].lower() == "bearer"
    assert summary["refresh_token"] is True
    # Discovery led the client to the authorization server on the MCP server's own origin.
    first, again = summary["authorization_urls"]
    assert first.startswith(origin + "/authorize?")
    query = parse_qs(urlsplit(first).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["resource"] == [origin + "/mcp"]  # RFC 8707
    assert query["scope"] == ["mcp"]  # the scope of the 401's challenge
    assert query["state"] and query["client_id"] == [summary["client_id"]]
    assert summary["iss"] == origin  # RFC 9207: the code came from the issuer it discovered
    # Step-up (spec: "Scope Challenge Handling"): the 403 named `mcp admin`; the client
    # authorized again with them, under the same registration, and the call went through.
    more = parse_qs(urlsplit(again).query)
    assert set(more["scope"][0].split()) == {"mcp", "admin"}
    assert more["client_id"] == query["client_id"] and more["resource"] == query["resource"]
    step_up = summary["step_up"]
    assert step_up["result"] == "secrets rotated"
    assert step_up["tools"] == ["rotate_secrets", "whoami"]
    assert step_up["whoami"] == {**whoami, "scopes": ["admin", "mcp"]}


# ----------------------------------------------------------- the TypeScript SDK


async def ts_summary(url: str, auth_method: str = "none") -> dict[str, Any]:
    """The TypeScript peer (peers/ts_auth_client.mjs) against `url`, awaited as a subprocess
    (this loop may be the one serving `url`), registering with `auth_method`."""
    proc = await asyncio.create_subprocess_exec(
        require_node(),
        str(HERE / "peers" / "ts_auth_client.mjs"),
        url,
        REDIRECT_URI,
        auth_method,
        cwd=HERE,
        env=peer_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        out, err = await finished(proc)
    assert proc.returncode == 0, f"TypeScript client failed:\n{err.decode()}"
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


async def official(url: str, auth_method: str = "none") -> dict[str, Any]:
    """The official peer (peers/official_auth_client.py), in this process and loop."""
    require_python_sdk()
    return await official_summary(url, auth_method)


CLIENTS = {"official": official, "ts": ts_summary}


@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_sdk_oauth_clients_use_mcpkit_run_protected(name: str) -> None:
    """`mcpkit run examples/protected.py` serves each SDK's client the whole flow."""
    argv = mcpkit("run", str(PROTECTED), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        origin = url.removesuffix("/mcp")
        check(await CLIENTS[name](url), name, origin)
        assert await server.stop() == 0
    assert "Traceback" not in server.text


def load_protected(name: str) -> Any:
    """A fresh copy of examples/protected.py (its own authorization server, keys and
    clients) as module `name`."""
    spec = importlib.util.spec_from_file_location(name, PROTECTED)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_sdk_oauth_clients_use_the_example_in_process_on_localhost(name: str) -> None:
    """The example served in this process, reached as `localhost`: the issuer, the endpoints
    and the token's audience all follow the origin the client used."""
    app = load_protected(f"protected_for_{name}").server.http_app()
    async with serving(app) as base:
        origin = base.replace("127.0.0.1", "localhost")
        check(await CLIENTS[name](origin + "/mcp"), name, origin)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_sdk_oauth_clients_register_as_confidential_clients(name: str, method: str) -> None:
    """A client that registers for a secret gets one, and the token endpoint takes it the way
    the client sends it (RFC 6749 section 2.3.1)."""
    app = load_protected(f"protected_for_{name}_{method}").server.http_app()
    async with serving(app) as base:
        summary = await CLIENTS[name](base + "/mcp", method)
    check(summary, name, base)
    assert summary["auth_method"] == method and summary["has_secret"] is True


async def test_the_official_legacy_sse_client_carries_its_token() -> None:
    """The official SDK's HTTP+SSE client (`sse_client`) with its OAuth provider, against the
    example's legacy endpoint: the token is for the server's canonical URI (`/mcp`), so the
    provider is given that URI; given `/sse` it refuses our metadata, whose `resource` is
    `/mcp` (RFC 9728 section 3.3; see tests/interop/README.md)."""
    require_python_sdk()
    from mcp import ClientSession
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.sse import sse_client
    from mcp.shared.auth import OAuthClientMetadata

    app = load_protected("protected_for_legacy_sse").server.http_app()
    browser = HeadlessBrowser()
    metadata = OAuthClientMetadata(
        redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]  # pydantic converts
        client_name="official-legacy",
        token_endpoint_auth_method="none",
    )
    async with serving(app) as base:
        provider = OAuthClientProvider(
            base + "/mcp", metadata, SdkMemoryStorage(), browser.redirect, browser.callback
        )
        async with (
            asyncio.timeout(SUBPROCESS_TIMEOUT),
            sse_client(base + "/sse", auth=provider, timeout=WAIT) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            whoami = json_text(await session.call_tool("whoami", {}))
    assert whoami["subject"] == "dev-user"
    assert len(browser.urls) == 1 and browser.answer["iss"] == [base]


# ------------------------------------- mcpkit's client, the official SDK's server


class Later:
    """An ASGI app given after its port is known (the authorization server must list the MCP
    server's URI as a resource it serves, and that server must name its own URI): uvicorn's
    lifespan, and anything else, waits (bounded) until `set` gives the app, then goes to it."""

    def __init__(self) -> None:
        self.app: Any = None
        self._given = asyncio.Event()

    def set(self, app: Any) -> None:
        self.app = app
        self._given.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async with asyncio.timeout(WAIT):
            await self._given.wait()
        await self.app(scope, receive, send)


class Ahead:
    """The development server's clock: real time plus `ahead` seconds, so its tokens expire
    when the test says (the client and the official server read the real clock)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


async def test_the_mcpkit_client_uses_a_server_the_official_sdk_protects() -> None:
    """Discovery across two origins: the official server's RFC 9728 document names mcpkit's
    development authorization server on another port; the mcpkit client registers there,
    authorizes with PKCE for the official server's URI, and calls it with the token, which
    the official server introspects at the development server. When the token expires, the
    official server's 401 makes the client refresh it, without a new authorization."""
    require_python_sdk()
    from official_auth_server import IntrospectingVerifier, make_app

    from mcpkit import Client
    from mcpkit.auth.client import HeadlessRedirect, MemoryTokenStorage, OAuth
    from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
    from mcpkit.auth.metadata import ClientInformation, ClientMetadata

    secret = "interop-introspection-secret"
    later = Later()
    clock = Ahead()
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), serving(later) as issuer:
        verifier = IntrospectingVerifier(issuer + "/introspect", "official-rs", secret)
        holder = Later()
        async with serving(holder) as base:
            resource = base + "/mcp"
            later.set(
                DevAuthorizationServer(
                    DevServerSettings(resources=(resource,), scopes=("mcp",)),
                    clients=[ClientInformation(client_id="official-rs", client_secret=secret)],
                    clock=clock,
                )
            )
            holder.set(make_app(issuer, resource, verifier))
            storage = MemoryTokenStorage()
            visited: list[httpx.URL] = []

            async def visit(request: httpx.Request) -> None:
                visited.append(request.url)

            browser = httpx.AsyncClient(timeout=WAIT, event_hooks={"request": [visit]})
            auth = OAuth(
                HeadlessRedirect(REDIRECT_URI, http_client=browser),
                client_metadata=ClientMetadata(client_name="mcpkit-interop"),
                storage=storage,
            )
            async with browser, Client(resource, auth=auth) as client:
                tools = [tool.name for tool in await client.list_tools()]
                whoami = await client.call_tool("whoami")
                first = await storage.load_tokens(resource)
                clock.ahead = 2 * 3600.0  # past the access token's hour, within the refresh's day
                again = await client.call_tool("whoami")
    assert tools == ["whoami"]
    assert again.structured_content == whoami.structured_content  # the same session and user
    assert {"active": False} in verifier.asked  # the expired token, refused
    assert first is not None and first.refresh_token is not None
    assert whoami.structured_content is not None
    found = whoami.structured_content
    assert found["subject"] == "dev-user" and found["scopes"] == ["mcp"]
    assert found["audience"] == resource  # RFC 8707: the token is for the official server
    live = [answer for answer in verifier.asked if answer["active"]]
    assert live and all(answer["iss"] == issuer for answer in live)
    tokens = await storage.load_tokens(resource)
    registered = await storage.load_client(issuer)  # registrations are kept per issuer
    assert tokens is not None and tokens.issuer == issuer and tokens.resource == resource
    assert tokens.access_token != first.access_token  # refreshed, and rotated:
    assert tokens.refresh_token not in (None, first.refresh_token)
    assert registered is not None and registered.issuer == issuer
    assert found["client_id"] == registered.information.client_id  # registered dynamically
    # The official server's 401 names no scope: the client asked for its scopes_supported.
    (authorization,) = visited
    assert str(authorization).startswith(issuer + "/authorize?")
    query = parse_qs(authorization.query.decode())
    assert query["scope"] == ["mcp"] and query["resource"] == [resource]
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [REDIRECT_URI]


async def test_the_mcpkit_client_uses_a_server_the_typescript_sdk_protects() -> None:
    """The same against the TypeScript SDK's `requireBearerAuth` and `mcpAuthMetadataRouter`
    (peers/ts_auth_server.mjs), introspecting at our development server."""
    from mcpkit import Client
    from mcpkit.auth.client import HeadlessRedirect, MemoryTokenStorage, OAuth
    from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
    from mcpkit.auth.metadata import ClientInformation

    secret = "interop-introspection-secret"
    later = Later()
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), serving(later) as issuer:
        proc = await asyncio.create_subprocess_exec(
            require_node(),
            str(HERE / "peers" / "ts_auth_server.mjs"),
            issuer,
            "ts-rs",
            secret,
            cwd=HERE,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            started = await proc.stdout.readline()
            assert started, (await proc.stderr.read()).decode()
            resource = f"http://127.0.0.1:{json.loads(started)['port']}/mcp"
            later.set(
                DevAuthorizationServer(
                    DevServerSettings(resources=(resource,), scopes=("mcp",)),
                    clients=[ClientInformation(client_id="ts-rs", client_secret=secret)],
                )
            )
            assert json.loads(await proc.stdout.readline()) == {"ready": True}
            storage = MemoryTokenStorage()
            async with Client(resource, auth=OAuth(HeadlessRedirect(), storage=storage)) as client:
                tools = [tool.name for tool in await client.list_tools()]
                whoami = await client.call_tool("whoami")
        finally:
            if proc.returncode is None:
                proc.terminate()
            async with asyncio.timeout(WAIT):
                _, err = await proc.communicate()
    assert tools == ["whoami"]
    found = json.loads(whoami.content[0].text)  # type: ignore[union-attr]
    registered = await storage.load_client(issuer)
    assert registered is not None and registered.issuer == issuer
    assert found == {
        "subject": "dev-user",
        "client_id": registered.information.client_id,
        "scopes": ["mcp"],
        "audience": resource,
    }
    assert b"introspected" in err
