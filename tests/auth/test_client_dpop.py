"""DPoP (RFC 9449, SEP-1932) on the client: proofs verified with joserfc, bound tokens presented
with the DPoP scheme and a fresh proof per request, the `use_dpop_nonce` retry at the token
endpoint and at the MCP server (bounded), hostile nonces, and the refusal to downgrade."""

from __future__ import annotations

import httpx
import pytest
from _client_world import World
from _grants_world import CLIENT_ID, ISSUER, MCP, SECRET, GrantsWorld, verify_proof

from mcpkit.auth.client import (
    ClientCredentialsGrant,
    ClientSecretBasic,
    DPoPKey,
    GrantAuth,
    HeadlessRedirect,
    OAuth,
)
from mcpkit.auth.client.dpop import DPOP_NONCE_LIMIT, access_token_hash
from mcpkit.auth.client.token import NoClientAuthentication, request_token
from mcpkit.errors import AuthorizationFailed

TOKEN = f"{ISSUER}/token"


def grant_auth(world: GrantsWorld, key: DPoPKey) -> GrantAuth:
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    auth = ClientSecretBasic(CLIENT_ID, SECRET)
    return GrantAuth(ClientCredentialsGrant(), auth, dpop=key, http_client=http)


async def get(world: GrantsWorld, auth: httpx.Auth, times: int = 1) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as http:
        return [await http.post(MCP, json={}) for _ in range(times)]


def test_a_proof_carries_what_rfc_9449_asks() -> None:
    key = DPoPKey()
    proof = key.proof("post", "https://MCP.example.com:443/mcp?x=1#frag", access_token="tok")
    claims, jkt = verify_proof(proof, "POST", MCP, token="tok")
    assert jkt == key.thumbprint and "nonce" not in claims
    assert key.proof("POST", MCP) != key.proof("POST", MCP)  # a new jti each time


def test_the_access_token_hash_matches_the_rfc_example() -> None:
    # RFC 9449 section 7.1, the example token and its ath.
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert access_token_hash(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


async def test_client_credentials_with_dpop_bound_tokens() -> None:
    world = GrantsWorld(dpop=True)
    key = DPoPKey()
    first, second = await get(world, grant_auth(world, key), times=2)
    assert first.status_code == second.status_code == 200
    (token_request,) = world.requests_to(TOKEN)
    verify_proof(token_request.headers["dpop"], "POST", TOKEN)
    (issued,) = world.issued.values()
    assert issued.jkt == key.thumbprint
    # The fake checked the scheme, ath, the binding and that no proof was reused.
    assert [r.headers["authorization"].split()[0] for r in world.requests_to(MCP)[1:]] == [
        "DPoP",
        "DPoP",
    ]


async def test_nonces_at_the_token_endpoint_and_the_server_are_honoured_once_each() -> None:
    world = GrantsWorld(dpop=True, as_nonce="as-nonce", rs_nonce="rs-nonce")
    first, second = await get(world, grant_auth(world, DPoPKey()), times=2)
    assert first.status_code == second.status_code == 200
    tokens = world.requests_to(TOKEN)
    assert len(tokens) == 2  # challenged, then the retry with the nonce
    assert verify_proof(tokens[1].headers["dpop"], "POST", TOKEN)[0]["nonce"] == "as-nonce"
    # 401 (no token), 401 use_dpop_nonce, 200; then 200 at once: the nonce is kept.
    assert [r.headers.get("authorization", "")[:4] for r in world.requests_to(MCP)] == [
        "",
        "DPoP",
        "DPoP",
        "DPoP",
    ]


async def test_a_server_that_keeps_asking_for_a_nonce_is_refused() -> None:
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        # A new nonce every time: a broken or hostile server must not loop the client.
        headers = {"dpop-nonce": f"n{len(seen)}"}
        return httpx.Response(400, json={"error": "use_dpop_nonce"}, headers=headers)

    key = DPoPKey()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        with pytest.raises(AuthorizationFailed) as caught:
            await request_token(
                http,
                TOKEN,
                {"grant_type": "x"},
                NoClientAuthentication("c"),
                steps=[key.token_step()],
            )
    assert caught.value.error == "use_dpop_nonce" and len(seen) == 2


async def test_the_resource_server_nonce_retry_is_bounded() -> None:
    world = GrantsWorld(dpop=True)
    key = DPoPKey()
    auth = grant_auth(world, key)
    count = 0
    real = world.__call__

    def server(request: httpx.Request) -> httpx.Response:
        nonlocal count
        if str(request.url) != MCP or "authorization" not in request.headers:
            return real(request)
        count += 1
        headers = {"www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": f"n{count}"}
        return httpx.Response(401, headers=headers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(server), auth=auth) as http:
        response = await http.post(MCP, json={})
    # The first 401 got a token; its 401 got one nonce retry; that 401 is the answer.
    assert response.status_code == 401 and count == 2


@pytest.mark.parametrize(
    "nonce",
    ["a" * (DPOP_NONCE_LIMIT + 1), 'has"quote', "has space", "back\\slash"],
)
def test_hostile_nonces_are_not_kept(nonce: str) -> None:
    key = DPoPKey()
    response = httpx.Response(401, headers={"dpop-nonce": nonce})
    assert not key.remember_nonce(MCP, response)
    claims, _ = verify_proof(key.proof("POST", MCP), "POST", MCP)
    assert "nonce" not in claims


def test_nonces_are_kept_per_server_and_bounded() -> None:
    key = DPoPKey()
    for i in range(200):
        key.remember_nonce(
            f"https://s{i}.example.com/mcp", httpx.Response(200, headers={"dpop-nonce": f"n{i}"})
        )
    assert len(key._nonces) == 64  # the oldest are forgotten
    claims, _ = verify_proof(
        key.proof("GET", "https://s199.example.com/mcp"), "GET", "https://s199.example.com/mcp"
    )
    assert claims["nonce"] == "n199"


async def test_a_bearer_answer_to_a_dpop_request_is_refused() -> None:
    world = GrantsWorld(dpop=False)  # the server ignores the proof and issues Bearer tokens
    with pytest.raises(AuthorizationFailed, match="DPoP-bound"):
        await get(world, grant_auth(world, DPoPKey()))


def test_a_key_can_be_given() -> None:
    from joserfc.jwk import ECKey

    private = ECKey.generate_key("P-256")
    key = DPoPKey(private.as_pem(private=True))
    assert key.thumbprint == private.thumbprint()
    assert "d" not in key.public_jwk
    with pytest.raises(ValueError, match="cannot sign"):
        DPoPKey(algorithm="HS256")


# ---------------------------------------------------------------- with OAuth


class DPoPWorld(World):
    """The OAuth client's fake, issuing DPoP tokens and checking their proofs at the MCP
    endpoint, with nonces at both servers."""

    jkt: str | None = None
    as_challenges: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if url != f"{self.issuer}/token":
            return super().__call__(request)
        claims, self.jkt = verify_proof(request.headers["dpop"], "POST", url)
        if claims.get("nonce") != "as":
            self.as_challenges += 1
            return httpx.Response(
                400, json={"error": "use_dpop_nonce"}, headers={"dpop-nonce": "as"}
            )
        response = super().__call__(request)
        return httpx.Response(response.status_code, json={**response.json(), "token_type": "DPoP"})

    def check_mcp(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "DPoP" or token not in self.tokens:
            return super().check_mcp(request)
        claims, jkt = verify_proof(request.headers["dpop"], request.method, self.mcp, token=token)
        assert jkt == self.jkt
        if claims.get("nonce") != "rs":
            headers = {"www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": "rs"}
            return httpx.Response(401, headers=headers)
        return None


async def test_oauth_with_dpop_and_nonces() -> None:
    world = DPoPWorld()
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    auth = OAuth(HeadlessRedirect(http_client=http), dpop=DPoPKey(), http_client=http)
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as client:
        assert (await client.post(MCP, json={})).status_code == 200
        assert (await client.post(MCP, json={})).status_code == 200
    assert world.as_challenges == 1 and len(world.requests_to(f"{world.issuer}/token")) == 1
    mcp = [r.headers.get("authorization", "")[:4] for r in world.requests_to(MCP)]
    assert mcp == ["", "DPoP", "DPoP", "DPoP"]
