"""Issue 64: what another client or a crafted link can make the front do to someone else's
sign-in: a used code presented by another client, an error at `/authorize` bounced to a
registered web address."""

from __future__ import annotations

import asyncio

from _front_upstream import Provider, issued_code, provider_front, redemption
from _front_world import authorize_query, browser, make_front, register

WAIT = 5.0


async def test_another_client_presenting_a_used_code_leaves_the_grant_alone() -> None:
    front = provider_front(Provider())
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        intruder = await register(http, token_endpoint_auth_method="none")
        redeem = redemption(client, await issued_code(http, client))
        tokens = (await http.post("/token", data=redeem)).json()
        stolen = await http.post("/token", data=redeem | {"client_id": intruder["client_id"]})
        renew = {"grant_type": "refresh_token", "client_id": client["client_id"]}
        renewed = await http.post("/token", data=renew | {"refresh_token": tokens["refresh_token"]})
    assert stolen.status_code == 400
    assert "another client" in stolen.json()["error_description"]
    assert renewed.status_code == 200, renewed.text


async def test_an_authorize_error_for_a_registered_web_client_is_a_page() -> None:
    """Anyone may register `https://evil.example/` as a redirect URI: an error that went
    there at once would make the front an open redirector (RFC 9700 section 4.11.2)."""
    web = "https://desk.example/cb"
    async with asyncio.timeout(WAIT), browser(make_front()) as http:
        client = await register(http, client_name="Desk", redirect_uris=[web])
        query = authorize_query(client["client_id"], redirect_uri=web, code_challenge=None)
        answer = await http.get("/authorize", params=query)
        loopback = await register(http)
        query = authorize_query(loopback["client_id"], code_challenge=None)
        back = await http.get("/authorize", params=query)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "code_challenge" in answer.text
    assert back.status_code == 302 and "error=invalid_request" in back.headers["location"]
