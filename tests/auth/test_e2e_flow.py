"""examples/protected.py over real uvicorn on 127.0.0.1: the mcpkit client completes the whole
flow (discovery, registration, PKCE, token, call, step-up), and raw HTTP sees every status and
header the spec names (basic/authorization; RFC 9728, RFC 8414, RFC 6750, RFC 9207)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from _devserver_helpers import REDIRECT, pkce, read_jwt
from _e2e_helpers import WAIT, Recorder, load_protected, serving, stored_tokens
from _resource_helpers import bearer, call, open_as
from _serving import messages_of

from mcpkit import Client, Context, Server
from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.metadata import ClientMetadata

PRM = "/.well-known/oauth-protected-resource"


async def test_the_mcpkit_client_completes_the_whole_flow() -> None:
    example = load_protected()
    app = Recorder(example.server.http_app())
    auth = OAuth(HeadlessRedirect(), client_metadata=ClientMetadata(client_name="e2e"))
    async with asyncio.timeout(WAIT), serving(app) as base:
        url = base + "/mcp"
        async with Client(url, auth=auth) as client:
            assert [tool.name for tool in await client.list_tools()] == ["whoami"]
            answer = (await client.call_tool("whoami")).content[0].text
        async with httpx.AsyncClient(timeout=WAIT) as http:
            tokens = await stored_tokens(auth)
            token = await read_jwt(http, base, tokens.access_token)
    assert '"subject":"dev-user"' in answer and '"scopes":["mcp"]' in answer
    assert token.claims["iss"] == base and token.claims["aud"] == url
    assert token.claims["scope"] == "mcp" and token.header["typ"] == "at+jwt"
    paths = [path for _, path in app.seen]
    # The spec's order: 401, resource metadata, AS metadata, registration, authorize, token.
    first = [paths.index(p) for p in (PRM + "/mcp", "/.well-known/oauth-authorization-server")]
    flow = [paths.index(p) for p in ("/register", "/authorize", "/token")]
    assert paths[0] == "/mcp" and first == sorted(first) and flow == sorted(flow)
    assert first[-1] < flow[0]
    assert app.count("/authorize") == 1  # one authorization served the whole session


async def test_the_flow_on_localhost_uses_that_origin_throughout() -> None:
    example = load_protected()
    auth = OAuth(HeadlessRedirect())
    async with asyncio.timeout(WAIT), serving(example.server.http_app()) as base:
        local = base.replace("127.0.0.1", "localhost")
        async with Client(local + "/mcp", auth=auth) as client:
            await client.call_tool("whoami")
        async with httpx.AsyncClient(timeout=WAIT) as http:
            token = await read_jwt(http, base, (await stored_tokens(auth)).access_token)
    assert (token.claims["iss"], token.claims["aud"]) == (local, local + "/mcp")


async def test_the_client_steps_up_to_admin_when_a_tool_needs_it() -> None:
    example = load_protected()
    app = Recorder(example.server.http_app())
    auth = OAuth(HeadlessRedirect())
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            assert [tool.name for tool in await client.list_tools()] == ["whoami"]
            stepped = await client.call_tool("rotate_secrets")
            after = [tool.name for tool in await client.list_tools()]
        held = (await stored_tokens(auth)).scope
    assert stepped.content[0].text == "secrets rotated" and not stepped.is_error
    assert after == ["whoami", "rotate_secrets"]
    assert held.split() == ["mcp", "admin"]  # what it had, plus what the 403 asked for
    assert app.count("/authorize") == 2
    assert ("POST", "/mcp") in app.seen


async def test_the_resource_server_answers_with_the_statuses_and_headers_the_spec_names() -> None:
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        url = base + "/mcp"
        metadata_url = f"{base}{PRM}/mcp"
        for method in ("POST", "GET", "DELETE"):
            refused = await http.request(method, url, headers=bearer(None), json={})
            assert refused.status_code == 401, method
            assert refused.headers.get_list("www-authenticate")[0] == (
                f'Bearer scope="mcp", resource_metadata="{metadata_url}"'
            )
        for path in (PRM + "/mcp", PRM):
            document = (await http.get(base + path)).json()
            assert document["resource"] == url
            assert document["authorization_servers"] == [base]
            assert document["scopes_supported"] == ["mcp", "admin"]
            assert document["bearer_methods_supported"] == ["header"]

        garbage = await http.post(url, json={}, headers=bearer("not-a-jwt"))
        assert garbage.status_code == 401
        challenge = garbage.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="invalid_token", error_description="')
        assert f'scope="mcp", resource_metadata="{metadata_url}"' in challenge

        token = await _authorize(http, base, url)
        sid = await open_as(http, url, token)
        listed = await http.post(url, json=call(2, "tools/list"), headers=bearer(token, sid))
        assert listed.status_code == 200
        rotate = call(3, "tools/call", name="rotate_secrets", arguments={})
        step_up = await http.post(url, json=rotate, headers=bearer(token, sid))
        assert step_up.status_code == 403
        assert step_up.headers.get_list("www-authenticate")[0] == (
            'Bearer error="insufficient_scope", error_description="this needs scope admin", '
            f'scope="mcp admin", resource_metadata="{metadata_url}"'
        )
        admin = await _authorize(http, base, url, scope="mcp admin")
        rotated = await http.post(url, json=rotate, headers=bearer(admin, sid))
        assert rotated.status_code == 200  # the same user with more scope keeps the session


async def test_the_authorization_server_answers_as_rfc_8414_and_9207_say() -> None:
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        for path in (
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ):
            document = (await http.get(base + path)).json()
            assert document["issuer"] == base
            assert document["code_challenge_methods_supported"] == ["S256"]
            assert document["authorization_endpoint"] == base + "/authorize"
            assert "mcpkit_development_server" in document
        registered = await http.post(
            base + "/register",
            json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"},
        )
        assert registered.status_code == 201
        approved = await _approve(http, base, registered.json()["client_id"], pkce()[1])
        assert approved.status_code == 302
        reply = parse_qs(urlsplit(approved.headers["location"]).query)
        assert reply["state"] == ["s-1"] and reply["iss"] == [base] and reply["code"]
        keys = (await http.get(base + "/jwks")).json()["keys"]
        assert [key["kid"] for key in keys] == [example.auth_server.key.kid]
        assert all("d" not in key for key in keys)  # the public half only


async def _approve(
    http: httpx.AsyncClient, base: str, client_id: str, challenge: str, **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s-1",
        "resource": base + "/mcp",
        **extra,
    }
    return await http.get(base + "/authorize", params=params)


async def _authorize(
    http: httpx.AsyncClient, base: str, resource: str, *, scope: str = "mcp", **extra: str
) -> str:
    """An access token for `resource` from the example's authorization server, by hand."""
    registered = await http.post(
        base + "/register",
        json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"},
    )
    client_id = registered.json()["client_id"]
    verifier, challenge = pkce()
    approved = await _approve(http, base, client_id, challenge, scope=scope, **extra)
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    answer = await http.post(
        base + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": client_id,
            "resource": resource,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found: dict[str, Any] = answer.json()
    return str(found["access_token"])


async def test_a_service_with_client_credentials_calls_the_example() -> None:
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        url = base + "/mcp"
        registered = await http.post(
            base + "/register",
            json={
                "client_name": "nightly-job",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
        assert registered.status_code == 201, registered.text
        client = registered.json()
        answer = await http.post(
            base + "/token",
            data={"grant_type": "client_credentials", "scope": "mcp", "resource": url},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        sid = await open_as(http, url, token)
        who = call(2, "tools/call", name="whoami", arguments={})
        called = await http.post(url, json=who, headers=bearer(token, sid))
    assert called.status_code == 200
    text = messages_of(called)[0]["result"]["content"][0]["text"]
    assert f'"subject":"{client["client_id"]}"' in text  # the client is its own subject


async def test_a_server_configured_with_a_trailing_slash_accepts_its_clients_tokens() -> None:
    """`resource="http://127.0.0.1:PORT/mcp/"` once named the server in its metadata with the
    slash, the development server issued `aud` without it, and the server refused the token:
    the three now share one canonical form (mcpkit.auth.uris)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    example = load_protected()
    configured = f"HTTP://127.0.0.1:{port}/mcp/"
    server = Server(
        "slash",
        auth=example.auth_server.protect(required_scopes=["mcp"], resource=configured),
    )

    @server.tool()
    def whoami(ctx: Context) -> str:
        assert ctx.auth is not None
        return ctx.auth.subject or ""

    auth = OAuth(HeadlessRedirect())
    async with asyncio.timeout(WAIT), serving(server.http_app(), port=port) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            answer = (await client.call_tool("whoami")).content[0].text
        async with httpx.AsyncClient(timeout=WAIT) as http:
            token = await read_jwt(http, base, (await stored_tokens(auth)).access_token)
            metadata = (await http.get(base + PRM + "/mcp")).json()
    assert answer == "dev-user"
    assert metadata["resource"] == token.claims["aud"] == base + "/mcp"
