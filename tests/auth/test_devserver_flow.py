"""The development authorization server driven as a client drives it, over real HTTP: metadata,
registration, authorization with PKCE, tokens, refresh rotation, revocation, introspection,
client credentials (RFC 8414, 7591, 6749, 7636, 8707, 9207, 9068, 7009, 7662; SEP-1046)."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from _devserver_helpers import (
    REDIRECT,
    WAIT,
    authorize,
    pkce,
    read_jwt,
    redirect_params,
    register,
    serving,
    token,
)

from mcpkit.auth.devserver import (
    NOT_FOR_PRODUCTION,
    DevAuthorizationServer,
    DevServerSettings,
    Paths,
)
from mcpkit.auth.metadata import AuthorizationServerMetadata, ClientInformation, decode

RS = ClientInformation(
    client_id="rs", client_secret="rs-secret", grant_types=["client_credentials"]
)


async def test_metadata_names_every_endpoint_and_what_is_supported() -> None:
    async with serving(DevAuthorizationServer()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.get(base + "/.well-known/oauth-authorization-server")
        oidc = await http.get(base + "/.well-known/openid-configuration")
    assert response.status_code == 200 and oidc.json() == response.json()
    assert response.json()["mcpkit_development_server"] == NOT_FOR_PRODUCTION
    found = decode(response.content, AuthorizationServerMetadata)
    assert found.issuer == base
    assert found.authorization_endpoint == base + "/authorize"
    assert found.token_endpoint == base + "/token"
    assert found.registration_endpoint == base + "/register"
    assert found.jwks_uri == base + "/jwks"
    assert found.code_challenge_methods_supported == ["S256"]
    assert found.client_id_metadata_document_supported is True
    assert found.authorization_response_iss_parameter_supported is True
    assert found.grant_types_supported == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert found.token_endpoint_auth_methods_supported == [
        "none",
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]


async def test_issuer_follows_the_host_the_client_used() -> None:
    async with serving(DevAuthorizationServer()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        local = base.replace("127.0.0.1", "localhost")
        found = (await http.get(local + "/.well-known/oauth-authorization-server")).json()
    assert found["issuer"] == local and found["token_endpoint"] == local + "/token"


async def test_configured_issuer_with_a_path() -> None:
    server = DevAuthorizationServer(DevServerSettings(issuer="https://auth.example.com/dev"))
    assert "/.well-known/oauth-authorization-server/dev" in server.routes
    assert "/dev/token" in server.routes and server.routes["/dev/token"] is server
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        found = (await http.get(base + "/.well-known/oauth-authorization-server/dev")).json()
    assert found["issuer"] == "https://auth.example.com/dev"
    assert found["token_endpoint"] == "https://auth.example.com/dev/token"


async def test_the_whole_flow_registration_to_revoked_refresh() -> None:
    verifier, challenge = pkce()
    server = DevAuthorizationServer(clients=[RS])
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base, client_name="flow", scope="read")
        assert client["client_id"].startswith("dev-") and "client_secret" not in client
        reply = redirect_params(await authorize(http, base, client["client_id"], challenge))
        assert reply["state"] == "st-42" and reply["iss"] == base
        answer = await token(
            http,
            base,
            grant_type="authorization_code",
            code=reply["code"],
            redirect_uri=REDIRECT,
            code_verifier=verifier,
            client_id=client["client_id"],
            resource=base + "/mcp",
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        tokens = answer.json()
        assert tokens["token_type"] == "Bearer" and tokens["scope"] == "read"
        claims = (await read_jwt(http, base, tokens["access_token"])).claims
        rotated = await token(
            http,
            base,
            grant_type="refresh_token",
            refresh_token=tokens["refresh_token"],
            client_id=client["client_id"],
        )
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()
        assert fresh["refresh_token"] != tokens["refresh_token"]
        revoked = await http.post(
            base + "/revoke",
            data={"token": fresh["refresh_token"], "client_id": client["client_id"]},
        )
        assert revoked.status_code == 200
        again = await token(
            http,
            base,
            grant_type="refresh_token",
            refresh_token=fresh["refresh_token"],
            client_id=client["client_id"],
        )
        introspected = await http.post(
            base + "/introspect", data={"token": fresh["access_token"]}, auth=("rs", "rs-secret")
        )
    assert claims["iss"] == base and claims["aud"] == base + "/mcp"
    assert claims["sub"] == "dev-user" and claims["client_id"] == client["client_id"]
    assert claims["scope"] == "read" and claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] == claims["iat"] and len(claims["jti"]) > 16
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert introspected.json() == {"active": False}


@pytest.fixture
def server() -> DevAuthorizationServer:
    return DevAuthorizationServer(clients=[RS])


async def test_jwt_header_has_kid_and_type(server: DevAuthorizationServer) -> None:
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        answer = await token(
            http, base, grant_type="client_credentials", client_id="rs", client_secret="rs-secret"
        )
        decoded = await read_jwt(http, base, answer.json()["access_token"])
        jwks = (await http.get(base + "/jwks")).json()
    assert decoded.header == {"alg": "ES256", "typ": "at+jwt", "kid": server.key.kid}
    (key,) = jwks["keys"]
    assert key["kid"] == server.key.kid and "d" not in key  # public half only


async def test_client_credentials_with_basic_and_post(server: DevAuthorizationServer) -> None:
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        basic = await http.post(
            base + "/token",
            data={"grant_type": "client_credentials", "scope": "admin"},
            auth=("rs", "rs-secret"),
        )
        post = await token(
            http, base, grant_type="client_credentials", client_id="rs", client_secret="rs-secret"
        )
        claims = (await read_jwt(http, base, basic.json()["access_token"])).claims
        introspected = await http.post(
            base + "/introspect",
            data={"token": basic.json()["access_token"]},
            auth=("rs", "rs-secret"),
        )
    assert basic.status_code == 200 and post.status_code == 200
    assert "refresh_token" not in basic.json()
    assert claims["sub"] == "rs" and claims["client_id"] == "rs" and claims["scope"] == "admin"
    assert claims["aud"] == base + "/mcp"  # no resource asked: the default
    found = introspected.json()
    assert found["active"] is True and found["sub"] == "rs" and found["scope"] == "admin"
    assert found["aud"] == base + "/mcp" and found["iss"] == base


async def test_login_hint_picks_the_subject(server: DevAuthorizationServer) -> None:
    verifier, challenge = pkce()
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base)
        reply = redirect_params(
            await authorize(http, base, client["client_id"], challenge, login_hint="alice")
        )
        answer = await token(
            http,
            base,
            grant_type="authorization_code",
            code=reply["code"],
            redirect_uri=REDIRECT,
            code_verifier=verifier,
            client_id=client["client_id"],
        )
        claims = (await read_jwt(http, base, answer.json()["access_token"])).claims
    assert claims["sub"] == "alice"


async def test_loopback_redirect_may_use_another_port(server: DevAuthorizationServer) -> None:
    _, challenge = pkce()
    other = REDIRECT.replace(":9999", ":51234")
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base)
        response = await authorize(http, base, client["client_id"], challenge, redirect_uri=other)
    assert response.headers["location"].startswith(other + "?code=")


async def test_confidential_registration_and_basic_auth(server: DevAuthorizationServer) -> None:
    verifier, challenge = pkce()
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base, token_endpoint_auth_method="client_secret_basic")
        assert client["client_secret_expires_at"] == 0
        reply = redirect_params(await authorize(http, base, client["client_id"], challenge))
        answer = await http.post(
            base + "/token",
            data={
                "grant_type": "authorization_code",
                "code": reply["code"],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(client["client_id"], client["client_secret"]),
        )
    assert answer.status_code == 200, answer.text


async def test_refresh_may_narrow_scopes(server: DevAuthorizationServer) -> None:
    verifier, challenge = pkce()
    async with serving(server) as base, httpx.AsyncClient(timeout=WAIT) as http:
        client = await register(http, base)
        reply = redirect_params(
            await authorize(http, base, client["client_id"], challenge, scope="a b")
        )
        first = await token(
            http,
            base,
            grant_type="authorization_code",
            code=reply["code"],
            code_verifier=verifier,
            redirect_uri=REDIRECT,
            client_id=client["client_id"],
        )
        narrowed = await token(
            http,
            base,
            grant_type="refresh_token",
            refresh_token=first.json()["refresh_token"],
            scope="b",
            client_id=client["client_id"],
        )
    assert narrowed.json()["scope"] == "b"


async def test_startup_says_it_is_not_for_production(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mcpkit.auth.devserver"):
        async with serving(DevAuthorizationServer()):
            pass
    assert NOT_FOR_PRODUCTION in caplog.text


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"issuer": "auth.example.com"}, "http(s) URL"),
        ({"issuer": "https://auth.example.com/#x"}, "http(s) URL"),
        ({"paths": Paths(token="token")}, "must start with /"),
        ({"code_ttl": 0}, "code_ttl must be positive"),
        ({"algorithm": "none"}, "ES256"),
        ({"algorithm": "HS256"}, "ES256"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_once(settings: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        DevAuthorizationServer(DevServerSettings(**settings))


async def test_approvals_are_logged_with_the_redirect_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, challenge = pkce()
    with caplog.at_level(logging.INFO, logger="mcpkit.auth.devserver"):
        async with (
            serving(DevAuthorizationServer()) as base,
            httpx.AsyncClient(timeout=WAIT) as http,
        ):
            client = await register(http, base)
            await authorize(http, base, client["client_id"], challenge)
    assert (
        f"approved client {client['client_id']} for dev-user (redirect to 127.0.0.1:9999"
        in caplog.text
    )
