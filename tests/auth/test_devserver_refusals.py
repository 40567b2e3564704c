"""Every refusal of the development authorization server, as a broken or hostile client meets
it: an RFC 6749 section 5.2 error body with the right status, never a token; and the errors of
the authorization endpoint redirected only to a registered redirect URI (section 4.1.2.1)."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _devserver_helpers import (
    REDIRECT,
    WAIT,
    Clock,
    authorize,
    pkce,
    redirect_params,
    register,
    serving,
    token,
)

from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation

CONFIDENTIAL = ClientInformation(
    client_id="conf", client_secret="s3cret", redirect_uris=[REDIRECT], scope="read"
)
RS = ClientInformation(client_id="rs", client_secret="rs-secret")


@dataclass
class Peer:
    http: httpx.AsyncClient
    base: str
    clock: Clock
    client_id: str

    async def code(self, **extra: str) -> tuple[str, str]:
        """A fresh authorization code and its verifier."""
        verifier, challenge = pkce()
        reply = redirect_params(
            await authorize(self.http, self.base, self.client_id, challenge, **extra)
        )
        return reply["code"], verifier

    async def redeem(self, code: str, verifier: str, **extra: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": self.client_id,
        } | extra
        return await token(self.http, self.base, **form)


@contextlib.asynccontextmanager
async def started() -> AsyncIterator[Peer]:
    clock = Clock()
    server = DevAuthorizationServer(
        DevServerSettings(scopes=("read", "write")), clients=[CONFIDENTIAL, RS], clock=clock
    )
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base)
        yield Peer(http, base, clock, client["client_id"])


def with_peer(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Runs `test` with a fresh server and client as its first argument (no async fixtures
    here: mcpkit's plugin runs each test in a fresh loop)."""

    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> None:
        async with started() as peer:
            await test(peer, *args, **kwargs)

    signature = inspect.signature(test)
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]  # pytest reads it
        parameters=list(signature.parameters.values())[1:]
    )
    return run


def error_of(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error_description"]
    error: str = body["error"]
    return error


@with_peer
async def test_wrong_verifier(peer: Peer) -> None:
    code, _ = await peer.code()
    other, _ = pkce()
    assert error_of(await peer.redeem(code, other)) == "invalid_grant"


@with_peer
async def test_missing_or_short_verifier(peer: Peer) -> None:
    code, verifier = await peer.code()
    assert error_of(await peer.redeem(code, verifier[:42])) == "invalid_grant"
    form = {"grant_type": "authorization_code", "code": code, "client_id": peer.client_id}
    assert error_of(await token(peer.http, peer.base, **form)) == "invalid_grant"


@with_peer
async def test_reused_code_revokes_what_it_issued(peer: Peer) -> None:
    code, verifier = await peer.code()
    first = await peer.redeem(code, verifier)
    assert first.status_code == 200
    assert error_of(await peer.redeem(code, verifier)) == "invalid_grant"
    refresh = await token(
        peer.http,
        peer.base,
        grant_type="refresh_token",
        refresh_token=first.json()["refresh_token"],
        client_id=peer.client_id,
    )
    assert error_of(refresh) == "invalid_grant"
    found = await peer.http.post(
        peer.base + "/introspect",
        data={"token": first.json()["access_token"]},
        auth=("rs", "rs-secret"),
    )
    assert found.json() == {"active": False}


@with_peer
async def test_expired_code(peer: Peer) -> None:
    code, verifier = await peer.code()
    peer.clock.now += 61
    assert error_of(await peer.redeem(code, verifier)) == "invalid_grant"


@with_peer
async def test_code_of_another_client(peer: Peer) -> None:
    code, verifier = await peer.code()
    other = await register(peer.http, peer.base)
    assert (
        error_of(await peer.redeem(code, verifier, client_id=other["client_id"])) == "invalid_grant"
    )


@with_peer
async def test_redirect_uri_differs_at_the_token_endpoint(peer: Peer) -> None:
    code, verifier = await peer.code()
    response = await peer.redeem(code, verifier, redirect_uri="http://127.0.0.1:9999/other")
    assert error_of(response) == "invalid_grant"


@with_peer
async def test_unregistered_redirect_uri_is_never_redirected_to(peer: Peer) -> None:
    _, challenge = pkce()
    for uri in (
        "https://evil.example/cb",
        "http://127.0.0.1:9999/callback/x",
        "http://10.0.0.1:9999/callback",
    ):
        response = await authorize(
            peer.http, peer.base, peer.client_id, challenge, redirect_uri=uri
        )
        assert error_of(response) == "invalid_request"
        assert "location" not in response.headers


@with_peer
async def test_unknown_client_at_authorize_and_token(peer: Peer) -> None:
    _, challenge = pkce()
    assert error_of(await authorize(peer.http, peer.base, "nobody", challenge)) == "invalid_client"
    response = await token(
        peer.http, peer.base, grant_type="authorization_code", code="x", client_id="nobody"
    )
    assert error_of(response, 401) == "invalid_client"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read admin"}, "invalid_scope"),
        ({"scope": "bad\x01scope"}, "invalid_scope"),
        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
        ({"resource": "/mcp"}, "invalid_target"),
        ({"login_hint": "x" * 200}, "invalid_request"),
    ],
)
@with_peer
async def test_authorization_errors_go_back_to_the_client(
    peer: Peer, params: dict[str, str], error: str
) -> None:
    _, challenge = pkce()
    reply = redirect_params(
        await authorize(peer.http, peer.base, peer.client_id, challenge, **params)
    )
    assert reply["error"] == error and "code" not in reply
    assert reply["state"] == "st-42" and reply["iss"] == peer.base


@with_peer
async def test_resource_with_a_fragment(peer: Peer) -> None:
    _, challenge = pkce()
    reply = redirect_params(
        await authorize(
            peer.http, peer.base, peer.client_id, challenge, resource=peer.base + "/mcp#x"
        )
    )
    assert reply["error"] == "invalid_target"


@with_peer
async def test_token_request_for_another_resource(peer: Peer) -> None:
    code, verifier = await peer.code()
    response = await peer.redeem(code, verifier, resource=peer.base + "/other")
    assert error_of(response) == "invalid_target"


@with_peer
async def test_bad_secret_basic_gets_a_challenge(peer: Peer) -> None:
    response = await peer.http.post(
        peer.base + "/token", data={"grant_type": "client_credentials"}, auth=("conf", "wrong")
    )
    assert error_of(response, 401) == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


@with_peer
async def test_bad_secret_post_and_missing_secret(peer: Peer) -> None:
    wrong = await token(
        peer.http, peer.base, grant_type="client_credentials", client_id="conf", client_secret="no"
    )
    missing = await token(peer.http, peer.base, grant_type="client_credentials", client_id="conf")
    assert error_of(wrong, 401) == "invalid_client" and error_of(missing, 401) == "invalid_client"


@with_peer
async def test_two_authentication_methods_at_once(peer: Peer) -> None:
    response = await peer.http.post(
        peer.base + "/token",
        data={"grant_type": "client_credentials", "client_secret": "s3cret"},
        auth=("conf", "s3cret"),
    )
    assert error_of(response) == "invalid_request"


@with_peer
async def test_malformed_basic_header(peer: Peer) -> None:
    response = await peer.http.post(
        peer.base + "/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": "Basic !!!"},
    )
    assert error_of(response, 401) == "invalid_client"


@with_peer
async def test_public_client_may_not_use_client_credentials(peer: Peer) -> None:
    response = await token(
        peer.http, peer.base, grant_type="client_credentials", client_id=peer.client_id
    )
    assert error_of(response) == "unauthorized_client"


@with_peer
async def test_unsupported_grant_type(peer: Peer) -> None:
    response = await token(peer.http, peer.base, grant_type="password", client_id=peer.client_id)
    assert error_of(response) == "unsupported_grant_type"


@with_peer
async def test_refresh_reuse_revokes_the_family(peer: Peer) -> None:
    code, verifier = await peer.code()
    first = (await peer.redeem(code, verifier)).json()
    form = {"grant_type": "refresh_token", "client_id": peer.client_id}
    second = (
        await token(peer.http, peer.base, refresh_token=first["refresh_token"], **form)
    ).json()
    reused = await token(peer.http, peer.base, refresh_token=first["refresh_token"], **form)
    assert error_of(reused) == "invalid_grant"
    latest = await token(peer.http, peer.base, refresh_token=second["refresh_token"], **form)
    assert error_of(latest) == "invalid_grant"  # the thief's copy and the owner's both end


@with_peer
async def test_refresh_may_not_widen_scopes_or_expire(peer: Peer) -> None:
    code, verifier = await peer.code(scope="read")
    first = (await peer.redeem(code, verifier)).json()
    form = {"grant_type": "refresh_token", "client_id": peer.client_id}
    widened = await token(
        peer.http, peer.base, refresh_token=first["refresh_token"], scope="write", **form
    )
    assert error_of(widened) == "invalid_scope"
    peer.clock.now += 86401
    expired = await token(peer.http, peer.base, refresh_token=first["refresh_token"], **form)
    assert error_of(expired) == "invalid_grant"


@with_peer
async def test_duplicate_parameters(peer: Peer) -> None:
    response = await peer.http.post(
        peer.base + "/token",
        content=b"grant_type=a&grant_type=b&client_id=" + peer.client_id.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response) == "invalid_request"


@with_peer
async def test_introspection_needs_a_confidential_client(peer: Peer) -> None:
    public = await peer.http.post(
        peer.base + "/introspect", data={"token": "x", "client_id": peer.client_id}
    )
    anonymous = await peer.http.post(peer.base + "/introspect", data={"token": "x"})
    assert (
        error_of(public, 401) == "invalid_client" and error_of(anonymous, 401) == "invalid_client"
    )


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        # Issue 19: taken as private-use schemes, which RFC 8252 makes reverse domain names.
        ({"redirect_uris": ["ftp://files.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["ws://app.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["blob:https://app.example/x"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["myapp:/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "not a list"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ],
)
@with_peer
async def test_registration_refusals(peer: Peer, metadata: dict[str, Any], error: str) -> None:
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"} | metadata
    assert error_of(await peer.http.post(peer.base + "/register", json=body)) == error


@with_peer
async def test_a_private_use_scheme_in_reverse_domain_form_is_registered(peer: Peer) -> None:
    body = {"redirect_uris": ["com.example.app:/oauth/cb"], "token_endpoint_auth_method": "none"}
    response = await peer.http.post(peer.base + "/register", json=body)
    assert response.status_code == 201, response.text


@with_peer
async def test_http_level_refusals(peer: Peer) -> None:
    big = await peer.http.post(peer.base + "/token", data={"grant_type": "x" * 70_000})
    assert error_of(big, 413) == "invalid_request"
    json_body = await peer.http.post(
        peer.base + "/token", json={"grant_type": "client_credentials"}
    )
    assert error_of(json_body, 415) == "invalid_request"
    get = await peer.http.get(peer.base + "/token")
    assert error_of(get, 405) == "invalid_request" and get.headers["allow"] == "POST"
    assert error_of(await peer.http.get(peer.base + "/nothing"), 404) == "invalid_request"
    not_json = await peer.http.post(
        peer.base + "/register", content=b"{", headers={"content-type": "application/json"}
    )
    assert error_of(not_json) == "invalid_client_metadata"
    bad_host = await peer.http.get(
        peer.base + "/.well-known/oauth-authorization-server", headers={"host": "evil/path"}
    )
    assert error_of(bad_host) == "invalid_request"
    bad_utf8 = await peer.http.post(
        peer.base + "/token",
        content=b"grant_type=%ff%fe\xff",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert error_of(bad_utf8) == "invalid_request"
