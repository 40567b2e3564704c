"""DPoP state that must hold across the processes of one deployment (RFC 9449 sections 9 and
11.1): a proof's jti spent at one app is refused at another sharing its SQLite store, a
server nonce handed out by one is accepted by the other, and behind a proxy `htu` is the
public URI (`resource`), not the address the process sees. Also the `cnf` member of an
introspection answer binds a token as a JWT's claim does."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from _dpop_world import CLIENT_KEY, dpop_headers, dpop_server, proof, thumbprint, token
from _serving import INITIALIZE, WAIT, serving

from mcpkit import Server
from mcpkit.auth.server.introspection import IntrospectionVerifier
from mcpkit.auth.server.resource import ProtectedResource

PUBLIC = "https://mcp.example.com/mcp"  # what a proxy in front of both processes serves


def _nonce_challenge(response: httpx.Response) -> str:
    (dpop,) = [v for v in response.headers.get_list("www-authenticate") if v.startswith("DPoP")]
    return dpop


async def test_a_proof_spent_at_one_app_is_refused_at_another_sharing_the_store(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path}/state.db"
    first, second = (dpop_server(resource=PUBLIC, store=store) for _ in range(2))
    async with AsyncExitStack() as stack, asyncio.timeout(WAIT):
        bases = [await stack.enter_async_context(serving(s.http_app())) for s in (first, second)]
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=WAIT))
        tok = token(PUBLIC)
        once = proof("POST", PUBLIC, tok)
        accepted = await http.post(
            bases[0] + "/mcp", json=INITIALIZE, headers=dpop_headers(tok, once)
        )
        replayed = await http.post(
            bases[1] + "/mcp", json=INITIALIZE, headers=dpop_headers(tok, once)
        )
        # The address the process sees is not what the client addressed behind the proxy.
        local = bases[1] + "/mcp"
        wrong = await http.post(
            local, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", local, tok))
        )
        fresh = await http.post(
            local, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", PUBLIC, tok))
        )
    assert accepted.status_code == 200, accepted.text
    assert replayed.status_code == 401 and "used already" in _nonce_challenge(replayed)
    assert wrong.status_code == 401 and "htu" in _nonce_challenge(wrong)
    assert fresh.status_code == 200, fresh.text


async def test_the_nonce_flow_across_two_apps_sharing_the_store(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/state.db"
    apps = [dpop_server(resource=PUBLIC, store=store, dpop_nonce=True) for _ in range(2)]
    async with AsyncExitStack() as stack, asyncio.timeout(WAIT):
        bases = [await stack.enter_async_context(serving(s.http_app())) for s in apps]
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=WAIT))
        tok = token(PUBLIC)
        url = bases[0] + "/mcp"
        asked = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", PUBLIC, tok))
        )
        nonce = asked.headers["dpop-nonce"]
        made_up = proof("POST", PUBLIC, tok, nonce="made-up")
        refused = await http.post(url, json=INITIALIZE, headers=dpop_headers(tok, made_up))
        # The nonce one app handed out works at the other: it derives from the store's secret.
        with_nonce = proof("POST", PUBLIC, tok, nonce=nonce)
        other = bases[1] + "/mcp"
        accepted = await http.post(other, json=INITIALIZE, headers=dpop_headers(tok, with_nonce))
        anonymous = await http.post(other, json=INITIALIZE, headers=dpop_headers(None))
    assert asked.status_code == 401
    assert _nonce_challenge(asked).startswith('DPoP error="use_dpop_nonce"')
    assert asked.json()["error"] == "use_dpop_nonce"
    assert refused.status_code == 401 and refused.headers["dpop-nonce"] == nonce
    assert accepted.status_code == 200, accepted.text
    # A client learns the nonce before it has a token, so its first proof can carry it.
    assert anonymous.status_code == 401 and anonymous.headers["dpop-nonce"] == nonce


def _introspection(bound_to: str | None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        found: dict[str, Any] = {"active": True, "sub": "alice", "scope": "mcp", "aud": PUBLIC}
        if bound_to is not None:
            found["cnf"] = {"jkt": bound_to}
        return httpx.Response(200, json=found)

    return httpx.MockTransport(answer)


async def test_the_cnf_of_an_introspection_answer_binds_the_token() -> None:
    verifier = IntrospectionVerifier(
        "https://auth.example.com/introspect",
        client_id="rs",
        client_secret="s3cret",
        http_client=httpx.AsyncClient(transport=_introspection(thumbprint(CLIENT_KEY))),
    )
    server = Server("introspected", auth=ProtectedResource(verifier=verifier, resource=PUBLIC))
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        opaque = "opaque-token-1"
        as_bearer = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(opaque, scheme="Bearer")
        )
        with_proof = dpop_headers(opaque, proof("POST", PUBLIC, opaque))
        accepted = await http.post(url, json=INITIALIZE, headers=with_proof)
    assert as_bearer.status_code == 401
    assert 'DPoP error="invalid_token"' in as_bearer.headers["www-authenticate"]
    assert accepted.status_code == 200, accepted.text


async def test_behind_a_proxy_prefix_the_legacy_endpoints_are_named_by_their_public_uri() -> None:
    public = "https://example.com/api/mcp"  # the proxy serves the app below /api
    async with (
        asyncio.timeout(WAIT),
        serving(dpop_server(resource=public).http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        tok = token(public)
        sse = {"accept": "text/event-stream", "authorization": f"DPoP {tok}"}
        good = proof("GET", "https://example.com/api/sse", tok)
        async with http.stream("GET", base + "/sse", headers={**sse, "dpop": good}) as stream:
            opened = stream.status_code
        unprefixed = proof("GET", "https://example.com/sse", tok)
        refused = await http.get(base + "/sse", headers={**sse, "dpop": unprefixed})
    assert opened == 200
    assert refused.status_code == 401 and "htu" in _nonce_challenge(refused)


def test_the_public_uri_of_a_request_keeps_the_proxy_s_origin_and_prefix() -> None:
    url = ProtectedResource.request_url
    assert url("https://example.com/api/mcp", "/mcp", "/mcp") == "https://example.com/api/mcp"
    assert url("https://example.com/api/mcp", "/mcp", "/messages") == (
        "https://example.com/api/messages"
    )
    assert url("https://example.com/mcp", "/mcp", "/sse") == "https://example.com/sse"
    # A proxy that renames the endpoint: the other paths keep the public origin only.
    assert url("https://example.com/tools", "/mcp", "/sse") == "https://example.com/sse"
    assert url("http://127.0.0.1:8000/mcp", "/mcp/", "/mcp") == "http://127.0.0.1:8000/mcp"
