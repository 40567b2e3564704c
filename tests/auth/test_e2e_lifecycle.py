"""A token's life end to end, over real uvicorn with the development authorization server and
one clock shared by it, the resource server's verifier and the client: refresh before expiry
and on 401, revocation (what it means with a JWT verifier, and with introspection), and a
session id replayed by another identity."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from _devserver_helpers import Clock
from _e2e_helpers import (
    WAIT,
    LateVerifier,
    LoginAs,
    Recorder,
    protected_server,
    serving,
    stored_tokens,
)
from _resource_helpers import bearer, call
from _serving import INITIALIZE, headers, messages_of

from mcpkit import Client
from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation
from mcpkit.auth.server.introspection import IntrospectionVerifier

TTL = 120  # seconds an access token lives here; the client refreshes 60 s before that
SETTINGS = DevServerSettings(scopes=("mcp", "admin"), default_scopes=("mcp",), access_token_ttl=TTL)
RESOURCE_SERVER = ClientInformation(
    client_id="mcp-server", client_secret="introspect-secret", grant_types=["client_credentials"]
)


def jwt_protected(clock: Clock) -> tuple[DevAuthorizationServer, Recorder]:
    auth_server = DevAuthorizationServer(SETTINGS, clock=clock)
    server = protected_server(auth_server, auth_server.verifier(clock=clock))
    return auth_server, Recorder(server.http_app())


async def whoami(client: Client) -> str:
    result = await client.call_tool("whoami")
    assert not result.is_error, result
    return str(result.content[0].text)


async def test_the_client_refreshes_before_the_token_expires() -> None:
    clock = Clock()
    _, app = jwt_protected(clock)
    auth = OAuth(HeadlessRedirect(), clock=clock)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            first = await stored_tokens(auth)
            clock.now += TTL - 30  # inside the refresh margin, not yet expired
            assert await whoami(client) == "dev-user mcp"
            second = await stored_tokens(auth)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token  # rotated
    assert app.count("/authorize") == 1 and app.count("/token") == 2
    # The refresh went out before the request: only the very first request met a 401.
    assert app.answered("/mcp").count(401) == 1


async def test_the_client_refreshes_on_401_when_its_clock_disagrees() -> None:
    server_clock, client_clock = Clock(), Clock()
    _, app = jwt_protected(server_clock)
    auth = OAuth(HeadlessRedirect(), clock=client_clock)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            first = await stored_tokens(auth)
            server_clock.now += TTL + 61  # past exp and the verifier's 60 s leeway
            assert await whoami(client) == "dev-user mcp"
            second = await stored_tokens(auth)
    assert second.access_token != first.access_token
    assert app.count("/authorize") == 1 and app.count("/token") == 2
    assert app.answered("/mcp").count(401) == 2  # the first request, and the expired token


async def test_with_a_jwt_verifier_a_revoked_token_lives_until_it_expires() -> None:
    """A JWT is checked with the issuer's key alone: revocation at the authorization server
    does not reach the resource server. A revoked access token works until `exp`; a revoked
    refresh token makes the client authorize again once the access token has expired."""
    clock = Clock()
    _, app = jwt_protected(clock)
    auth = OAuth(HeadlessRedirect(), clock=clock)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            first = await stored_tokens(auth)
            async with httpx.AsyncClient(timeout=WAIT) as http:
                await _revoke(http, base, auth, first.access_token)
                await _revoke(http, base, auth, first.refresh_token)
            assert await whoami(client) == "dev-user mcp"  # still accepted
            assert (await stored_tokens(auth)).access_token == first.access_token
            clock.now += TTL + 61
            assert await whoami(client) == "dev-user mcp"
            renewed = await stored_tokens(auth)
    assert renewed.access_token != first.access_token
    # The refresh was refused (revoked), so the client went through /authorize again, once.
    assert app.count("/authorize") == 2 and app.count("/token") == 3
    assert (await stored_tokens(auth)).scope == "mcp"  # what the 401 asked for, not admin too


async def test_with_introspection_a_revoked_access_token_is_refused_at_once() -> None:
    clock = Clock()
    auth_server = DevAuthorizationServer(SETTINGS, clients=[RESOURCE_SERVER], clock=clock)
    late = LateVerifier()
    app = Recorder(protected_server(auth_server, late).http_app())
    auth = OAuth(HeadlessRedirect(), clock=clock)
    async with asyncio.timeout(WAIT), serving(app) as base, _introspecting(base, clock) as checker:
        late.target = checker
        url = base + "/mcp"
        async with Client(url, auth=auth) as client:
            first = await stored_tokens(auth)
            async with httpx.AsyncClient(timeout=WAIT) as http:
                assert await _post(http, url, first.access_token) == 200
                await _revoke(http, base, auth, first.access_token)
                refused = await http.post(url, json=INITIALIZE, headers=bearer(first.access_token))
                # A refresh token is not an access token, though introspection knows it.
                as_bearer = await http.post(
                    url, json=INITIALIZE, headers=bearer(first.refresh_token)
                )
            # The client sees a 401, refreshes (its refresh token is still good) and goes on.
            assert await whoami(client) == "dev-user mcp"
            second = await stored_tokens(auth)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert as_bearer.status_code == 401
    assert second.access_token != first.access_token
    assert app.count("/authorize") == 1
    assert app.count("/introspect") >= 3


async def test_with_introspection_revoking_the_refresh_token_ends_its_access_tokens() -> None:
    clock = Clock()
    auth_server = DevAuthorizationServer(SETTINGS, clients=[RESOURCE_SERVER], clock=clock)
    late = LateVerifier()
    app = Recorder(protected_server(auth_server, late).http_app())
    auth = OAuth(HeadlessRedirect(), clock=clock)
    async with asyncio.timeout(WAIT), serving(app) as base, _introspecting(base, clock) as checker:
        late.target = checker
        url = base + "/mcp"
        async with Client(url, auth=auth) as client:
            first = await stored_tokens(auth)
            async with httpx.AsyncClient(timeout=WAIT) as http:
                await _revoke(http, base, auth, first.refresh_token)
                refused = await _post(http, url, first.access_token)
            # Refresh refused too: the client must authorize again, and does.
            assert await whoami(client) == "dev-user mcp"
    assert refused == 401
    assert app.count("/authorize") == 2
    assert (await stored_tokens(auth)).scope == "mcp"


async def test_a_session_replayed_by_another_identity_is_refused_with_404() -> None:
    clock = Clock()
    _, app = jwt_protected(clock)
    alice = httpx.AsyncClient(auth=OAuth(LoginAs("alice"), clock=clock), timeout=WAIT)
    bob = httpx.AsyncClient(auth=OAuth(LoginAs("bob"), clock=clock), timeout=WAIT)
    async with asyncio.timeout(WAIT), serving(app) as base, alice, bob:
        url = base + "/mcp"
        opened = await alice.post(url, json=INITIALIZE, headers=headers())
        assert opened.status_code == 200
        sid = opened.headers["mcp-session-id"]
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await alice.post(url, json=initialized, headers=headers(sid))).status_code == 202
        who = call(2, "tools/call", name="whoami", arguments={})
        stolen = [
            await bob.post(url, json=who, headers=headers(sid)),
            await bob.get(url, headers=headers(sid, accept="text/event-stream")),
            await bob.delete(url, headers=headers(sid)),
        ]
        still = await alice.post(url, json=who, headers=headers(sid))
        own = await bob.post(url, json=INITIALIZE, headers=headers())
    assert [answer.status_code for answer in stolen] == [404, 404, 404]
    assert still.status_code == 200  # bob's attempts neither ended nor reached alice's session
    assert messages_of(still)[0]["result"]["content"][0]["text"] == "alice mcp"
    assert own.status_code == 200 and own.headers["mcp-session-id"] != sid


def _introspecting(base: str, clock: Clock) -> IntrospectionVerifier:
    # cache_ttl=0: every request asks the authorization server, so revocation is seen at once
    # (the default 30 s cache would accept a revoked token until its entry expires).
    return IntrospectionVerifier(
        base + "/introspect",
        client_id=RESOURCE_SERVER.client_id,
        client_secret="introspect-secret",
        issuer=base,
        cache_ttl=0,
        clock=clock,
    )


async def _post(http: httpx.AsyncClient, url: str, token: str) -> int:
    return (await http.post(url, json=INITIALIZE, headers=bearer(token))).status_code


async def _revoke(http: httpx.AsyncClient, base: str, auth: OAuth, token: Any) -> None:
    """RFC 7009 revocation, as the (public) client that holds the token."""
    assert auth.server is not None
    tokens = await auth.storage.load_tokens(auth.server)
    assert tokens is not None
    stored = await auth.storage.load_client(tokens.issuer)  # registrations are kept per issuer
    assert stored is not None
    form = {"token": str(token), "client_id": stored.information.client_id}
    answer = await http.post(base + "/revoke", data=form)
    assert answer.status_code == 200, answer.text
