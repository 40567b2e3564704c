"""private_key_jwt end to end over real HTTP: `GrantAuth` with `PrivateKeyJwt` against a server
protected by the development authorization server, which verifies client assertions against
the client's registered `jwks`; and what that server refuses (a wrong key, a replay, a foreign
audience, a long-lived assertion, a secret for a key client, registration without keys)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from _serving import WAIT, serving
from joserfc import jwt
from joserfc.jwk import ECKey

from mcpkit import Client, Context, Server
from mcpkit.auth.client import ClientCredentialsGrant, GrantAuth, PrivateKeyJwt
from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation
from mcpkit.errors import ConnectionClosed

KEY = ECKey.generate_key("P-256")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def dev() -> DevAuthorizationServer:
    client = ClientInformation(
        client_id="signer",
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [KEY.as_dict(private=False)]},
        grant_types=["client_credentials"],
    )
    return DevAuthorizationServer(
        DevServerSettings(scopes=("mcp",), default_scopes=("mcp",)), clients=[client]
    )


def protected(auth_server: DevAuthorizationServer) -> Server:
    server = Server("signed", auth=auth_server.protect(required_scopes=["mcp"]))

    @server.tool()
    def whoami(ctx: Context) -> list[str]:
        """The token's subject."""
        assert ctx.auth is not None
        return [ctx.auth.subject]

    return server


async def test_a_key_client_calls_a_protected_tool() -> None:
    async with serving(protected(dev()).http_app()) as base, asyncio.timeout(WAIT):
        auth = GrantAuth(ClientCredentialsGrant(), PrivateKeyJwt("signer", KEY))
        async with Client(f"{base}/mcp", auth=auth) as client:
            result = await client.call_tool("whoami", {})
        async with httpx.AsyncClient(timeout=WAIT) as http:
            found = await http.get(f"{base}/.well-known/oauth-authorization-server")
        metadata = found.json()
    assert result.structured_content == {"result": ["signer"]}
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"]


async def test_a_stranger_key_is_refused() -> None:
    async with serving(protected(dev()).http_app()) as base, asyncio.timeout(WAIT):
        stranger = PrivateKeyJwt("signer", ECKey.generate_key("P-256"))
        auth = GrantAuth(ClientCredentialsGrant(), stranger)
        with pytest.raises(ConnectionClosed, match="invalid_client"):
            async with Client(f"{base}/mcp", auth=auth):
                pass


def signed(aud: str, *, lifetime: int = 60, jti: str = "j1", **extra: Any) -> str:
    now = int(time.time())
    claims = {"iss": "signer", "sub": "signer", "aud": aud, "iat": now, "exp": now + lifetime}
    return jwt.encode({"alg": "ES256"}, {**claims, "jti": jti, **extra}, KEY)


async def test_the_server_refuses_bad_assertions() -> None:
    async with serving(dev()) as base, httpx.AsyncClient(timeout=WAIT) as http:

        async def token(assertion: str, **form: str) -> httpx.Response:
            data = {"grant_type": "client_credentials", "client_assertion": assertion}
            data.setdefault("client_assertion_type", ASSERTION_TYPE)
            return await http.post(f"{base}/token", data={**data, **form})

        ok = await token(signed(base, jti="once"))
        replayed = await token(signed(base, jti="once"))
        at_endpoint = await token(signed(f"{base}/token", jti="two"))
        answers = [
            await token(signed("https://elsewhere.example", jti="a")),
            await token(signed(base, lifetime=3600, jti="b")),
            await token(signed(base, lifetime=-120, jti="c")),
            await token(signed(base, jti="d", sub="someone-else")),
            await token(signed(base, jti="e"), client_assertion_type="urn:other"),
            await token("not.a.jwt"),
            await token(signed(base, jti="f"), client_id="unknown"),
        ]
        with_secret = await http.post(
            f"{base}/token",
            data={"grant_type": "client_credentials"},
            auth=("signer", "a-guess"),
        )
    assert ok.status_code == 200 and at_endpoint.status_code == 200
    assert replayed.status_code == 401 and "used already" in replayed.text
    assert [a.status_code for a in answers] == [401] * len(answers)
    assert {a.json()["error"] for a in answers} == {"invalid_client"}
    assert with_secret.status_code == 401


async def test_registration_of_a_key_client_needs_inline_keys() -> None:
    async with serving(dev()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        metadata = {
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["client_credentials"],
        }
        without = await http.post(f"{base}/register", json=metadata)
        keys = {"keys": [KEY.as_dict(private=False)]}
        registered = await http.post(f"{base}/register", json={**metadata, "jwks": keys})
        client_id = registered.json()["client_id"]
        auth = PrivateKeyJwt(client_id, KEY)
        answer = await http.post(
            f"{base}/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": auth.assertion(base),
            },
        )
    assert without.status_code == 400 and "jwks" in without.json()["error_description"]
    assert registered.status_code == 201 and "client_secret" not in registered.json()
    assert answer.status_code == 200, answer.text
