"""Issue 39, "DPoP is not enforced where tokens are checked": an attacker who stole a DPoP-bound
access token (`cnf.jkt`) but not the client's private key must get nothing from it. Before,
the token sent as `Bearer` without a proof was served (200); now each way of using it
without the key is refused with 401, and the client holding the key is still served."""

from __future__ import annotations

import asyncio

import httpx
from _dpop_world import OTHER_KEY, dpop_headers, dpop_server, proof, token
from _serving import INITIALIZE, WAIT, serving


async def test_a_stolen_bound_token_is_useless_without_the_client_s_key() -> None:
    async with (
        asyncio.timeout(WAIT),
        serving(dpop_server().http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        url = base + "/mcp"
        stolen = token(url)  # bound to the victim's key

        async def initialize(headers: dict[str, str]) -> int:
            return (await http.post(url, json=INITIALIZE, headers=headers)).status_code

        # The victim's own request, seen on the wire (a log, a proxy): token and proof.
        seen = proof("POST", url, stolen)
        victim = await initialize(dpop_headers(stolen, seen))
        attempts = {
            "as Bearer, no proof": await initialize(dpop_headers(stolen, scheme="Bearer")),
            "as DPoP, no proof": await initialize(dpop_headers(stolen)),
            "the seen proof replayed": await initialize(dpop_headers(stolen, seen)),
            "a proof of the attacker's key": await initialize(
                dpop_headers(stolen, proof("POST", url, stolen, key=OTHER_KEY))
            ),
        }
    assert victim == 200
    assert attempts == dict.fromkeys(attempts, 401)
