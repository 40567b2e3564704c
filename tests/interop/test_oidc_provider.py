"""`JwtVerifier.from_issuer` against a real OpenID provider, npm `oidc-provider` (issue 43;
peers/oidc_provider.mjs): its client-credentials JWT access tokens verified and mapped, used
through mcpkit's `Client` against a protected server in both eras, a token for another
resource refused with the right challenge, its keys rotated at runtime, an expired token
refused. One provider per module, on 127.0.0.1; every wait bounded, the process killed at the
end."""

from __future__ import annotations

import asyncio
import base64
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from interop_harness import require_node

from mcpkit import Client, Context, Server
from mcpkit.auth.client import ClientCredentialsGrant, ClientSecretBasic, GrantAuth
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.errors import InsufficientScope, InvalidToken

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

HERE = Path(__file__).resolve().parent
WAIT = 10.0  # seconds: a bound on one exchange with the provider, not a measurement
RESOURCE = "https://mcp.example.com/mcp"  # a resource the provider issues tokens for
SERVICE = ("mcp-service", "mcp-service-secret")  # scopes `mcp admin`, tokens for 300 s
SHORT_LIVED = ("short-lived", "short-lived-secret")  # scope `mcp`, tokens for 5 s


def _pump(stream: IO[str], into: queue.Queue[str] | list[str]) -> None:
    put = into.put if isinstance(into, queue.Queue) else into.append
    for line in stream:
        put(line)


class OidcProvider:
    """The peer process: its issuer, tokens from its token endpoint, and key rotation."""

    def __init__(self) -> None:
        node = require_node()
        if not (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
            pytest.fail(
                "tests/interop/node_modules lacks oidc-provider (tests/interop/package.json "
                "names it): run scripts/test, which runs `npm ci` there when a package is "
                "missing, or `(cd tests/interop && npm ci)`"
            )
        self.proc = subprocess.Popen(
            [node, str(HERE / "peers" / "oidc_provider.mjs")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []  # drained, so the pipe never fills
        self._pumps = [
            threading.Thread(target=_pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self._lines), (self.proc.stderr, self.errors))
        ]
        for pump in self._pumps:
            pump.start()
        started = self._answer()
        self.issuer: str = started["issuer"]
        self.kids: list[str] = started["kids"]

    def _answer(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"oidc-provider said nothing within {WAIT} s:\n{''.join(self.errors)}")
        found: dict[str, Any] = json.loads(line)
        return found

    def command(self, name: str) -> list[str]:
        """`rotate` or `retire` (see the peer); the kids it then publishes, signing one first."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        self.kids = self._answer()["kids"]
        return self.kids

    async def token(
        self, resource: str, scope: str = "mcp admin", client: tuple[str, str] = SERVICE
    ) -> str:
        """An access token for `resource` by the client credentials grant (RFC 6749 4.4)."""
        async with httpx.AsyncClient(timeout=WAIT) as http:
            found = await http.get(self.issuer + "/.well-known/openid-configuration")
            answer = await http.post(
                found.json()["token_endpoint"],
                data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
                auth=client,
            )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["scope"] == scope
        token: str = body["access_token"]
        return token

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the peer exits when its stdin closes
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pump in self._pumps:  # they end at the pipes' end, which the exit brought
            pump.join(timeout=WAIT)
        for stream in (self.proc.stdout, self.proc.stderr):
            assert stream is not None
            stream.close()


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    peer = OidcProvider()
    try:
        yield peer
    finally:
        peer.close()


def unverified(part: str) -> dict[str, Any]:
    """A JWT part (header or payload) decoded without any check: what the provider put there."""
    found: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return found


class Clock:
    """The verifier's clock, set by the test (the provider reads the real one)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------ the verifier alone


async def test_a_client_credentials_token_is_verified_and_mapped(provider: OidcProvider) -> None:
    token = await provider.token(RESOURCE)
    header, payload = (unverified(part) for part in token.split(".")[:2])
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(provider.issuer, audience=RESOURCE) as verifier,
    ):
        found = await verifier.verify(token, resource=RESOURCE)
    # An RFC 9068 token, signed with the key the provider publishes.
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    assert header["kid"] == provider.kids[0]
    # oidc-provider names the client as the subject of a client credentials token.
    assert found.subject == "mcp-service" and found.client_id == "mcp-service"
    assert found.scopes == {"mcp", "admin"}
    assert found.issuer == provider.issuer and found.audience == (RESOURCE,)
    assert found.expires_at == payload["exp"] and payload["exp"] - payload["iat"] == 300
    assert found.claims["tenant"] == "interop"  # the provider's extra claim, kept
    assert dict(found.claims) == payload


async def test_the_granted_scopes_are_what_the_provider_narrowed_them_to(
    provider: OidcProvider,
) -> None:
    token = await provider.token(RESOURCE, scope="mcp")
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, required_scopes=["admin"]
        ) as verifier,
    ):
        with pytest.raises(InsufficientScope):
            await verifier.verify(token, resource=RESOURCE)


async def test_a_token_for_another_audience_is_refused(provider: OidcProvider) -> None:
    token = await provider.token("https://elsewhere.example.com/mcp")
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(provider.issuer, audience=RESOURCE) as verifier,
    ):
        with pytest.raises(InvalidToken, match=f"another audience, not {RESOURCE}"):
            await verifier.verify(token, resource=RESOURCE)


async def test_an_expired_token_is_refused(provider: OidcProvider) -> None:
    token = await provider.token(RESOURCE, scope="mcp", client=SHORT_LIVED)
    claims = unverified(token.split(".")[1])
    assert claims["exp"] - claims["iat"] == 5  # the provider's short TTL for this client
    clock = Clock(claims["iat"])  # no leeway: expired the second its `exp` comes
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, leeway=0, clock=clock
        ) as verifier,
    ):
        assert (await verifier.verify(token, resource=RESOURCE)).subject == "short-lived"
        clock.now = claims["exp"]
        with pytest.raises(InvalidToken, match="expired"):
            await verifier.verify(token, resource=RESOURCE)


async def test_keys_rotated_at_the_provider_are_followed(provider: OidcProvider) -> None:
    """A new signing key is fetched when a token names it (after the unknown-kid rate limit),
    tokens of the old key pass while it is published, and fail once it is retired."""
    before = await provider.token(RESOURCE)
    clock = Clock(unverified(before.split(".")[1])["iat"])
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, min_refresh_interval=30, cache_ttl=60, clock=clock
        ) as verifier,
    ):
        assert (await verifier.verify(before, resource=RESOURCE)).subject == "mcp-service"
        old = provider.kids[0]
        new, kept = provider.command("rotate")
        assert kept == old
        after = await provider.token(RESOURCE)
        assert unverified(after.split(".")[0])["kid"] == new
        # The JWKS was fetched just now: an unknown kid does not make it fetch again yet.
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(after, resource=RESOURCE)
        clock.now += 30
        assert (await verifier.verify(after, resource=RESOURCE)).subject == "mcp-service"
        assert (await verifier.verify(before, resource=RESOURCE)).subject == "mcp-service"
        assert provider.command("retire") == [new]
        clock.now += 60  # the cached key set is stale: read again, without the old key
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(before, resource=RESOURCE)
        assert (await verifier.verify(after, resource=RESOURCE)).subject == "mcp-service"


# ------------------------------------------------- through a protected mcpkit server


def protected(verifier: JwtVerifier, issuer: str) -> Server:
    """An MCP server whose tokens come from `issuer`; its resource is derived per request
    (loopback), which `verifier` then requires as the audience."""
    server = Server(
        "oidc-e2e",
        auth=ProtectedResource(verifier=verifier, authorization_servers=[issuer]),
    )

    @server.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the provider says the caller is."""
        assert ctx.auth is not None
        return {
            "subject": ctx.auth.subject,
            "client_id": ctx.auth.client_id,
            "scopes": sorted(ctx.auth.scopes),
            "issuer": ctx.auth.issuer,
            "audience": list(ctx.auth.audience),
            "tenant": ctx.auth.claims["tenant"],
        }

    return server


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_client_calls_a_tool_with_the_providers_token(
    provider: OidcProvider, era: str
) -> None:
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        token = await provider.token(base + "/mcp")
        headers = {"authorization": f"Bearer {token}"}
        async with Client(base + "/mcp", headers=headers, protocol=era) as client:
            assert client.protocol_version == era
            result = await client.call_tool("whoami", {})
    assert result.structured_content == {
        "subject": "mcp-service",
        "client_id": "mcp-service",
        "scopes": ["admin", "mcp"],
        "issuer": provider.issuer,
        "audience": [base + "/mcp"],
        "tenant": "interop",
    }


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_the_client_gets_its_own_token_from_the_provider(
    provider: OidcProvider, era: str
) -> None:
    """mcpkit's client credentials flow: the server's 401 and metadata lead the client to
    the provider, whose token (for the server's URI, RFC 8707) the server accepts."""
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        auth = GrantAuth(ClientCredentialsGrant(), ClientSecretBasic(*SERVICE), scope="mcp")
        async with Client(base + "/mcp", auth=auth, protocol=era) as client:
            result = await client.call_tool("whoami", {})
    assert result.structured_content is not None
    assert result.structured_content["subject"] == "mcp-service"
    assert result.structured_content["scopes"] == ["mcp"]
    assert result.structured_content["audience"] == [base + "/mcp"]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_token_for_another_resource_gets_401(provider: OidcProvider, era: str) -> None:
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        token = await provider.token(base + "/other")
        async with httpx.AsyncClient(timeout=WAIT) as http:
            refused = await http.post(
                base + "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
                headers={
                    "authorization": f"Bearer {token}",
                    "accept": "application/json, text/event-stream",
                    "mcp-protocol-version": era,
                },
            )
            metadata = await http.get(base + "/.well-known/oauth-protected-resource/mcp")
    assert refused.status_code == 401
    where = f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
    bearer, dpop = refused.headers.get_list("www-authenticate")  # DPoP is allowed too
    assert bearer == (
        'Bearer error="invalid_token", error_description="the token was issued for another '
        f'audience, not {base}/mcp", {where}'
    )
    assert dpop.startswith(f"DPoP {where}, algs=")  # no error: no DPoP token was sent
    assert metadata.json()["authorization_servers"] == [provider.issuer]
