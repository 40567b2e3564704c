"""Grants without a browser through `GrantAuth`, checked as the conformance scenarios check them:
client credentials with client_secret_basic, client_secret_post and private_key_jwt (SEP-1046),
workload identity JWT bearer (SEP-1933: errors surface, no retry), enterprise-managed
authorization (token exchange for an ID-JAG, then the JWT bearer grant)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _grants_world import (
    CLIENT_ID,
    IDP,
    ISSUER,
    JWT_BEARER,
    MCP,
    SECRET,
    GrantsWorld,
    form_of,
    header_of,
    mock_http,
)
from joserfc import jwt
from joserfc.jwk import ECKey

from mcpkit.auth.client import (
    ClientCredentialsGrant,
    ClientSecretBasic,
    ClientSecretPost,
    EnterpriseGrant,
    GrantAuth,
    JwtBearerGrant,
    NoClientAuthentication,
    PrivateKeyJwt,
    assertion_from_env,
    assertion_from_file,
)
from mcpkit.auth.client.assertions import load_private_key
from mcpkit.auth.client.token import TokenRequest
from mcpkit.errors import AuthorizationFailed

TOKEN = f"{ISSUER}/token"


def auth_for(world: GrantsWorld, *args: Any, **kwargs: Any) -> GrantAuth:
    """A GrantAuth whose calls to the authorization servers also go to the fakes."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    return GrantAuth(*args, http_client=http, **kwargs)


async def get(world: GrantsWorld, auth: httpx.Auth, times: int = 1) -> list[httpx.Response]:
    async with mock_http(world, auth) as http:
        return [await http.get(MCP) for _ in range(times)]


async def test_client_credentials_with_client_secret_basic() -> None:
    world = GrantsWorld(client_auth="basic")
    auth = auth_for(world, ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET))
    first, second = await get(world, auth, times=2)
    assert first.status_code == second.status_code == 200
    (token_request,) = world.requests_to(TOKEN)  # the second request reuses the token
    assert form_of(token_request) == {
        "grant_type": "client_credentials",
        "resource": MCP,
        "scope": "mcp",  # scopes_supported, as no challenge named a scope
    }
    assert first.json()["scope"] == "mcp"


async def test_client_credentials_with_client_secret_post_and_a_chosen_scope() -> None:
    world = GrantsWorld(client_auth="post")
    auth = auth_for(
        world, ClientCredentialsGrant(), ClientSecretPost(CLIENT_ID, SECRET), scope="x y"
    )
    (response,) = await get(world, auth)
    assert response.status_code == 200
    form = form_of(world.requests_to(TOKEN)[0])
    assert form["client_secret"] == SECRET and form["scope"] == "x y"


async def test_client_credentials_with_private_key_jwt() -> None:
    key = ECKey.generate_key("P-256")
    world = GrantsWorld(client_auth="private_key_jwt", client_key=key)
    pem = key.as_pem(private=True).decode()  # what the conformance context hands the client
    auth = auth_for(world, ClientCredentialsGrant(), PrivateKeyJwt(CLIENT_ID, pem, key_id="k1"))
    (response,) = await get(world, auth)
    assert response.status_code == 200
    form = form_of(world.requests_to(TOKEN)[0])
    assert form["client_id"] == CLIENT_ID and "client_secret" not in form
    header = header_of(form["client_assertion"])
    assert header == {"alg": "ES256", "typ": "JWT", "kid": "k1"}
    claims = jwt.decode(form["client_assertion"], key, algorithms=["ES256"]).claims
    # RFC 7523bis: the audience is the issuer identifier, not the token endpoint.
    assert claims["aud"] == ISSUER and claims["exp"] - claims["iat"] == 60


async def test_private_key_jwt_audience_falls_back_to_the_token_endpoint() -> None:
    key = ECKey.generate_key("P-256")
    request = TokenRequest(TOKEN, {})
    await PrivateKeyJwt("c", key).apply(request)
    claims = jwt.decode(request.form["client_assertion"], key, algorithms=["ES256"]).claims
    assert claims["aud"] == TOKEN
    other = TokenRequest(TOKEN, {})
    await PrivateKeyJwt("c", key).apply(other)
    assert other.form["client_assertion"] != request.form["client_assertion"]  # a new jti


async def test_a_wrong_private_key_is_refused_by_the_server() -> None:
    world = GrantsWorld(client_auth="private_key_jwt", client_key=ECKey.generate_key("P-256"))
    stranger = ECKey.generate_key("P-256")
    auth = auth_for(world, ClientCredentialsGrant(), PrivateKeyJwt(CLIENT_ID, stranger))
    with pytest.raises(AuthorizationFailed) as caught:
        await get(world, auth)
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize(
    ("key", "algorithm", "message"),
    [
        ("not a pem", "ES256", "cannot be read"),
        (ECKey.generate_key("P-256"), "RS256", "private RSA key"),
        (ECKey.generate_key("P-256").as_dict(private=False), "ES256", "not a public one"),
        (ECKey.generate_key("P-256"), "HS256", "cannot sign"),
    ],
)
def test_unusable_signing_keys_say_why(key: object, algorithm: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_private_key(key, algorithm)  # type: ignore[arg-type]


async def test_a_token_is_fetched_again_before_it_expires() -> None:
    now = [time.time()]
    world = GrantsWorld(client_auth="basic", expires_in=120)
    auth = auth_for(
        world, ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET), clock=lambda: now[0]
    )
    async with mock_http(world, auth) as http:
        assert (await http.get(MCP)).status_code == 200
        now[0] += 61  # within refresh_margin (60 s) of expiry
        assert (await http.get(MCP)).status_code == 200
    assert len(world.requests_to(TOKEN)) == 2
    assert len(world.requests_to(MCP)) == 3  # 401, 200, then 200 at once with the new token


async def test_no_token_goes_to_another_origin() -> None:
    world = GrantsWorld()
    auth = auth_for(world, ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET))
    async with mock_http(world, auth) as http:
        await http.get(MCP)
        await http.get("https://elsewhere.example.com/x")
    assert "authorization" not in world.seen[-1].headers


# ---------------------------------------------------------------- workload identity


async def test_workload_identity_jwt_bearer() -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)
    assertion = world.assertion()
    auth = auth_for(world, JwtBearerGrant(assertion), NoClientAuthentication(CLIENT_ID))
    (response,) = await get(world, auth)
    assert response.status_code == 200
    assert form_of(world.requests_to(TOKEN)[0]) == {
        "grant_type": JWT_BEARER,
        "assertion": assertion,
        "resource": MCP,
        "scope": "mcp",
        "client_id": CLIENT_ID,
    }


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_scope", "unauthorized_client"])
async def test_a_refused_jwt_bearer_grant_surfaces_without_retry(error: str) -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER, token_error=error)
    auth = auth_for(world, JwtBearerGrant(world.assertion()), NoClientAuthentication(CLIENT_ID))
    with pytest.raises(AuthorizationFailed) as caught:
        await get(world, auth)
    assert caught.value.error == error
    assert len(world.requests_to(TOKEN)) == 1  # conformance: wif-no-retry, wif-grant-fallback


async def test_an_expired_workload_token_is_invalid_grant() -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)
    auth = auth_for(
        world, JwtBearerGrant(world.assertion(exp=-60)), NoClientAuthentication(CLIENT_ID)
    )
    with pytest.raises(AuthorizationFailed, match="ExpiredToken") as caught:
        await get(world, auth)
    assert caught.value.error == "invalid_grant"


async def test_workload_tokens_are_read_afresh_from_a_file(tmp_path: Path) -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER, expires_in=1)
    path = tmp_path / "token"
    path.write_text(world.assertion() + "\n")
    auth = auth_for(
        world, JwtBearerGrant(assertion_from_file(path)), NoClientAuthentication(CLIENT_ID)
    )
    await get(world, auth)
    path.write_text(rotated := world.assertion())
    await get(world, auth)  # expires_in=1 is within the refresh margin: a new token
    assert form_of(world.requests_to(TOKEN)[-1])["assertion"] == rotated


async def test_assertion_sources_refuse_what_is_not_a_jwt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"a" * 70_000)
    missing = tmp_path / "missing"
    monkeypatch.setenv("WIF_TOKEN", "not a jwt")
    monkeypatch.delenv("WIF_ABSENT", raising=False)
    cases = [
        (assertion_from_file(big), "more than"),
        (assertion_from_file(missing), "cannot read"),
        (assertion_from_env("WIF_TOKEN"), "not a JWT"),
        (assertion_from_env("WIF_ABSENT"), "is not set"),
    ]
    for source, message in cases:
        world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)
        auth = auth_for(world, JwtBearerGrant(source), NoClientAuthentication(CLIENT_ID))
        with pytest.raises(AuthorizationFailed, match=message):
            await get(world, auth)
        assert world.requests_to(TOKEN) == []


async def test_an_async_assertion_source() -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)

    async def fetch() -> str:
        return world.assertion()

    auth = auth_for(world, JwtBearerGrant(fetch), NoClientAuthentication(CLIENT_ID))
    assert (await get(world, auth))[0].status_code == 200


# ---------------------------------------------------------------- enterprise-managed


def enterprise(world: GrantsWorld) -> GrantAuth:
    id_token = world.assertion(aud="idp-client", iss=IDP, sub="alice@example.com")
    grant = EnterpriseGrant(f"{IDP}/token", id_token, NoClientAuthentication("idp-client"))
    return auth_for(world, grant, ClientSecretBasic(CLIENT_ID, SECRET))


async def test_enterprise_managed_authorization() -> None:
    world = GrantsWorld(client_auth="basic", grant_type=JWT_BEARER)
    (response,) = await get(world, enterprise(world))
    assert response.status_code == 200
    (exchange,) = world.requests_to(f"{IDP}/token")
    assert form_of(exchange)["scope"] == "mcp"
    assert "authorization" not in exchange.headers  # the MCP client's secret stays with the AS
    form = form_of(world.requests_to(TOKEN)[0])
    assert form["grant_type"] == JWT_BEARER
    assert header_of(form["assertion"])["typ"] == "oauth-id-jag+jwt"
    assert jwt.decode(form["assertion"], world.assertion_key).claims["client_id"] == CLIENT_ID


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"access_token": "x.y.z", "token_type": "N_A"}, "not an ID-JAG"),
        ({"access_token": "x.y.z", "token_type": "N_A", "issued_token_type": "at"}, "'at'"),
        ({"error": "invalid_grant"}, "refused"),
    ],
)
async def test_a_broken_idp_answer_is_refused(answer: dict[str, str], message: str) -> None:
    status = 200 if "access_token" in answer else 400
    world = GrantsWorld(client_auth="basic", grant_type=JWT_BEARER, idp_answer=(status, answer))
    with pytest.raises(AuthorizationFailed, match=message):
        await get(world, enterprise(world))
    assert world.requests_to(TOKEN) == []


async def test_a_workload_token_for_another_audience_is_refused() -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)
    wrong = world.assertion(aud="https://wrong.example")
    auth = auth_for(world, JwtBearerGrant(wrong), NoClientAuthentication(CLIENT_ID))
    with pytest.raises(AuthorizationFailed) as caught:
        await get(world, auth)
    assert caught.value.error == "invalid_grant" and len(world.requests_to(TOKEN)) == 1


async def test_a_scope_challenge_gets_a_token_with_the_scopes_held_and_asked() -> None:
    world = GrantsWorld(client_auth="basic", required_scope="admin")
    auth = auth_for(world, ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET))
    (response,) = await get(world, auth)
    assert response.status_code == 200 and response.json()["scope"] == "mcp admin"
    assert [form_of(r)["scope"] for r in world.requests_to(TOKEN)] == ["mcp", "mcp admin"]


async def test_a_server_that_keeps_wanting_scope_gets_one_new_token_per_request() -> None:
    # The authorization server never grants admin, the MCP server always wants it.
    world = GrantsWorld(client_auth="basic", required_scope="admin", granted_scope="mcp")
    auth = auth_for(world, ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET))
    (response,) = await get(world, auth)
    assert response.status_code == 403 and len(world.requests_to(TOKEN)) == 2
