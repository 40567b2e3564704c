"""Issue 64: what the front keeps for grants is counted per user at the provider, never per
client address, and never locks anyone out: a refresh rewrites its grant in place, a user
past `max_grants_per_user` loses their oldest grant, and a write the store refuses happens
before the code is claimed, so a retry still redeems it."""

from __future__ import annotations

import asyncio
from typing import Any

from _front_upstream import Provider, issued_code, provider_front, redemption, signed_in
from _front_world import browser, register

from mcpkit.auth.front import FrontSettings
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
