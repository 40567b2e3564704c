"""Issue 64: what the front keeps for grants is counted per user at the provider, never per
client address, and never locks anyone out: a refresh rewrites its grant in place, a user
past `max_grants_per_user` loses their oldest grant, and a write the store refuses happens
before the code is claimed, so a retry still redeems it."""

from __future__ import annotations

import asyncio
from typing import Any

from _front_upstream import Provider, issued_code, provider_front, redemption, signed_in
from _front_world import REDIRECT, UPSTREAM, authorize_query, browser, make_front, register

from mcpkit.auth.front import AuthorizationFront, FrontSettings
from mcpkit.stores.kv import Limit, MemoryKeyValueStore

WAIT = 10.0


def renew(tokens: dict[str, Any]) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": tokens["client_id"],
        "refresh_token": tokens["refresh_token"],
    }


async def test_refreshes_from_one_address_never_fill_its_budget() -> None:
    """Each refresh used to keep a record of its own for `refresh_token_ttl`, all counted
    against the address: a few hundred refreshes, and everyone there got 429 for 30 days."""
    settings = FrontSettings(max_bytes_per_source=8 * 1024)
    front = provider_front(Provider(), settings=settings)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        first = tokens["refresh_token"]
        for _ in range(40):
            answer = await http.post("/token", data=renew(tokens))
            assert answer.status_code == 200, answer.text
            tokens |= answer.json()
        # Reuse detection holds without those records: a rotated token ends the grant.
        reused = await http.post("/token", data=renew(tokens | {"refresh_token": first}))
        after = await http.post("/token", data=renew(tokens))
        other = await signed_in(http)  # the address is not locked out
    assert reused.json()["error"] == "invalid_grant" and "already used" in reused.text
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert other["refresh_token"]


async def test_a_user_past_max_grants_loses_the_oldest_not_the_next() -> None:
    front = provider_front(Provider(), settings=FrontSettings(max_grants_per_user=2))
    async with asyncio.timeout(WAIT), browser(front) as http:
        grants = [await signed_in(http) for _ in range(3)]
        answers = [await http.post("/token", data=renew(tokens)) for tokens in grants]
    assert [answer.status_code for answer in answers] == [400, 200, 200]
    assert answers[0].json()["error"] == "invalid_grant"


class RefusingGrants(MemoryKeyValueStore):
    """A store that, while `full`, has no room for a grant (as a budget that is full)."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        if self.full and ":grant:" in key:
            return False
        return await super().set(key, value, ttl, limit=limit)


async def test_a_grant_that_cannot_be_kept_leaves_the_code_for_a_retry() -> None:
    store = RefusingGrants()
    front = provider_front(Provider(), store)
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        redeem = redemption(client, await issued_code(http, client))
        store.full = True
        refused = await http.post("/token", data=redeem)
        store.full = False
        retried = await http.post("/token", data=redeem)
    assert refused.status_code == 429 and "max_bytes_per_user" in refused.text
    assert retried.status_code == 200, retried.text


async def test_one_ipv6_subscriber_shares_one_budget_across_its_64() -> None:
    """A /64 is one subscriber's: counting each of its addresses apart gave it 2**64
    budgets, and the store no bound at all."""
    front = make_front(FrontSettings(max_bytes_per_source=4096))
    answers = []
    async with asyncio.timeout(WAIT):
        for host in range(1, 12):
            async with browser(front, f"2001:db8:1:2::{host:x}") as http:
                body = {"redirect_uris": [REDIRECT]}
                answers.append((await http.post("/register", json=body)).status_code)
        async with browser(front, "2001:db8:1:3::1") as http:
            elsewhere = await http.post("/register", json={"redirect_uris": [REDIRECT]})
    assert answers[0] == 201 and answers[-1] == 429
    assert elsewhere.status_code == 201


async def test_new_registrations_past_the_pool_push_out_the_oldest_address() -> None:
    """All addresses' unfinished registrations share one bound (the store's pool): past it
    the address that wrote the longest ago loses them, and nobody is refused."""
    store = MemoryKeyValueStore(max_pool_bytes=16 * 1024)
    front = AuthorizationFront(UPSTREAM, store=store)
    clients = []
    async with asyncio.timeout(WAIT):
        for n in range(40):
            async with browser(front, f"198.51.100.{n}") as http:
                clients.append(await register(http))
        async with browser(front, "198.51.100.99") as http:
            oldest = await http.get("/authorize", params=authorize_query(clients[0]["client_id"]))
            newest = await http.get("/authorize", params=authorize_query(clients[-1]["client_id"]))
    assert oldest.status_code == 400 and "location" not in oldest.headers
    assert newest.status_code == 200, newest.text


async def test_a_refresh_the_store_has_no_room_for_leaves_the_token_for_a_retry() -> None:
    store = RefusingGrants()
    front = provider_front(Provider(), store)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        store.full = True
        refused = await http.post("/token", data=renew(tokens))
        store.full = False
        retried = await http.post("/token", data=renew(tokens))
    assert refused.status_code == 429 and "max_bytes_per_user" in refused.text
    assert retried.status_code == 200, retried.text
