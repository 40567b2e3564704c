"""mcpkit's own DPoP client (`GrantAuth(dpop=DPoPKey())`) end to end with an mcpkit server over
real uvicorn on 127.0.0.1: a small authorization server on the same origin issues tokens
bound to the client's key (`cnf.jkt`), the resource server checks each request's proof, and
with server nonces on, the client retries once with the nonce it is given (RFC 9449 section
9) and then keeps sending it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from _dpop_world import ISSUER_KEY
from _e2e_helpers import Recorder
from _serving import WAIT, serving
from joserfc import jwt
from joserfc.jwk import JWKRegistry

from mcpkit import Client, Context, Server
from mcpkit.auth.client import ClientCredentialsGrant, ClientSecretBasic, DPoPKey, GrantAuth
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.types import TextContent

CLIENT_ID, SECRET = "robot", "robot-secret"
AS_METADATA = "/.well-known/oauth-authorization-server"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class TokenIssuer:
    """An authorization server for the client credentials grant on the MCP server's origin:
    each token is bound to the key of the DPoP proof on the token request."""

    def __init__(self) -> None:
        self.bound_to: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        origin = f"http://{dict(scope['headers'])[b'host'].decode()}"
        if scope["path"] == AS_METADATA:
            await _json(send, 200, self._metadata(origin))
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status, answer = self._token(
            origin, headers, {k: v[0] for k, v in parse_qs(body.decode()).items()}
        )
        await _json(send, status, answer)

    @staticmethod
    def _metadata(origin: str) -> dict[str, Any]:
        return {
            "issuer": origin,
            "token_endpoint": origin + "/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "dpop_signing_alg_values_supported": ["ES256"],
        }

    def _token(
        self, origin: str, headers: dict[str, str], form: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        if headers.get("authorization") != f"Basic {basic}":
            return 401, {"error": "invalid_client"}
        proof = headers["dpop"]
        head = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
        key = JWKRegistry.import_key(head["jwk"])
        claims = jwt.decode(proof, key, algorithms=["ES256"]).claims
        assert (claims["htm"], claims["htu"]) == ("POST", origin + "/token")
        jkt = str(key.thumbprint())
        self.bound_to.append(jkt)
        now = int(time.time())
        access = {
            "iss": origin,
            "sub": CLIENT_ID,
            "client_id": CLIENT_ID,
            "aud": form["resource"],
            "scope": "mcp",
            "iat": now,
            "exp": now + 300,
            "cnf": {"jkt": jkt},
        }
        header = {"alg": "ES256", "kid": "as-1", "typ": "at+jwt"}
        signed = jwt.encode(header, access, ISSUER_KEY, algorithms=["ES256"])
        return 200, {
            "access_token": signed,
            "token_type": "DPoP",
            "expires_in": 300,
            "scope": "mcp",
        }


async def _json(send: Any, status: int, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _whoami(client: Client) -> str:
    content = (await client.call_tool("whoami")).content[0]
    assert isinstance(content, TextContent)
    return content.text


def _server(issuer: TokenIssuer, **auth: Any) -> Server:
    verifier = JwtVerifier(issuer=_origin, jwks={"keys": [ISSUER_KEY.as_dict(private=False)]})
    routes = {AS_METADATA: issuer, "/token": issuer}
    protected = ProtectedResource(verifier=verifier, required_scopes=["mcp"], routes=routes, **auth)
    server = Server("dpop-e2e", auth=protected)

    @server.tool()
    def whoami(ctx: Context) -> str:
        """The caller and the key its token is bound to."""
        assert ctx.auth is not None
        return f"{ctx.auth.subject} {ctx.auth.claims['cnf']['jkt']}"

    return server


async def test_the_mcpkit_client_talks_dpop_to_an_mcpkit_server() -> None:
    issuer = TokenIssuer()
    app = Recorder(_server(issuer, dpop="required").http_app())
    key = DPoPKey()
    auth = GrantAuth(ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET), dpop=key)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", auth=auth) as client:
            first = await _whoami(client)
            second = await _whoami(client)
    assert first == second == f"{CLIENT_ID} {key.thumbprint}"
    assert issuer.bound_to == [key.thumbprint]  # one token, bound to the client's key
    # One 401 (no token yet), then every request served: each carried a fresh proof.
    answered = app.answered("/mcp")
    assert answered[0] == 401 and 401 not in answered[1:], answered


async def test_the_client_retries_once_with_the_nonce_the_server_asks_for() -> None:
    issuer = TokenIssuer()
    app = Recorder(_server(issuer, dpop_nonce=True).http_app())
    key = DPoPKey()
    auth = GrantAuth(ClientCredentialsGrant(), ClientSecretBasic(CLIENT_ID, SECRET), dpop=key)
    async with asyncio.timeout(WAIT), serving(app) as base:
        url = base + "/mcp"
        async with Client(url, auth=auth) as client:
            first = await _whoami(client)
            served = len(app.answered("/mcp"))
            # The nonce the client holds goes stale (as after a rotation): the server asks
            # for its current one with use_dpop_nonce, and the client sends the call again.
            key.remember_nonce(url, httpx.Response(200, headers={"dpop-nonce": "stale"}))
            second = await _whoami(client)
    assert first == second == f"{CLIENT_ID} {key.thumbprint}"
    # The first 401 had no token and named the nonce, so the first proofs carried it.
    assert app.answered("/mcp")[:served].count(401) == 1
    assert app.answered("/mcp")[served:] == [401, 200]
