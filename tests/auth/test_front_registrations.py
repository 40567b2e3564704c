"""How long the front keeps a registered client (`FrontSettings.unused_client_ttl`,
`client_ttl`): a registration nobody uses leaves its address's budget within a day; one that
gets tokens is kept `client_ttl` from each time it does, so a busy address is never refused
registration for months by registrations long abandoned."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
from _front_upstream import Provider, issued_code, redemption
from _front_world import UPSTREAM, browser, register

from mcpkit.auth.front import AuthorizationFront, FrontSettings
from mcpkit.stores.kv import Limit, MemoryKeyValueStore

WAIT = 5.0


class RecordingStore(MemoryKeyValueStore):
    """A memory store that notes the TTL of each registration written."""

    def __init__(self) -> None:
        super().__init__()
        self.client_ttls: list[float] = []

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        if key.startswith(("mcpkit.front:client:", "mcpkit.front:client.kept:")):
            self.client_ttls.append(ttl)
        return await super().set(key, value, ttl, limit=limit)


def front_over(store: RecordingStore, settings: FrontSettings) -> AuthorizationFront:
    upstream = dataclasses.replace(UPSTREAM, userinfo_url="https://idp.example.com/userinfo")
    provider = httpx.AsyncClient(transport=httpx.MockTransport(Provider()))
    return AuthorizationFront(upstream, settings, store=store, http_client=provider)


async def test_a_registration_is_kept_long_only_once_it_gets_tokens() -> None:
    store = RecordingStore()
    front = front_over(store, FrontSettings(unused_client_ttl=3600, client_ttl=90 * 86400))
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        registered = list(store.client_ttls)
        answer = await http.post("/token", data=redemption(client, await issued_code(http, client)))
        assert answer.status_code == 200, answer.text
        refreshed = await http.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": answer.json()["refresh_token"],
                "client_id": client["client_id"],
            },
        )
        assert refreshed.status_code == 200, refreshed.text
        again = await http.post("/token", data=redemption(client, await issued_code(http, client)))
    assert again.status_code == 200, again.text
    assert registered == [3600]
    assert store.client_ttls == [3600, 90 * 86400, 90 * 86400, 90 * 86400]


async def test_an_unused_registration_never_outlives_client_ttl() -> None:
    store = RecordingStore()
    front = front_over(store, FrontSettings(unused_client_ttl=86400, client_ttl=600))
    async with asyncio.timeout(WAIT), browser(front) as http:
        await register(http, token_endpoint_auth_method="none")
    assert store.client_ttls == [600]
