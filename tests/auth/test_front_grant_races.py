"""The front's codes, refresh tokens and grants when requests cross (issue 43, session 7
review): a refused or unavailable refresh, a wrong redemption, a handler renewing the
provider's token, a revocation, each while another request is under way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from _front_upstream import (
    Provider,
    SlowProvider,
    issued_code,
    provider_front,
    redemption,
    signed_in,
)
from _front_world import BASE, browser, register

from mcpkit.auth.front import UpstreamTokenUnavailable
from mcpkit.errors import InvalidToken
from mcpkit.stores.kv import Limit, MemoryKeyValueStore

WAIT = 5.0


@pytest.mark.parametrize(
    "first",
    [
        {"scope": "wider"},  # refused: a refresh never widens
        {"resource": "https://elsewhere.example/mcp"},  # refused: another resource
        {},  # the provider cannot be reached: 503, try again later
    ],
)
async def test_a_refused_refresh_leaves_the_token_usable_for_a_retry(
    first: dict[str, str],
) -> None:
    provider = Provider()
    front = provider_front(provider)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": tokens["client_id"],
        }
        if not first:
            provider.refresh = None
        refused = await http.post("/token", data=refresh | first)
        provider.refresh = {"access_token": "up-2", "expires_in": 60}
        retried = await http.post("/token", data=refresh)
    assert refused.status_code in (400, 503), refused.text
    assert refused.json()["error"] != "invalid_grant"
    assert retried.status_code == 200, retried.text


async def test_a_wrong_redemption_leaves_the_code_to_its_client() -> None:
    front = provider_front(Provider())
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        intruder = await register(http, token_endpoint_auth_method="none")
        redeem = redemption(client, await issued_code(http, client))
        wrong = [
            await http.post("/token", data=redeem | {"client_id": intruder["client_id"]}),
            await http.post("/token", data=redeem | {"code_verifier": "w" * 50}),
        ]
        right = await http.post("/token", data=redeem)
    assert [answer.json()["error"] for answer in wrong] == ["invalid_grant"] * 2
    assert right.status_code == 200, right.text


async def test_a_revocation_during_a_refresh_is_never_undone() -> None:
    """The client revokes its grant while a refresh of it waits for the provider: the
    refresh's save must not bring the grant back to life."""
    provider = SlowProvider()
    front = provider_front(provider)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        renew = {"grant_type": "refresh_token", "client_id": tokens["client_id"]}
        refresh = asyncio.create_task(
            http.post("/token", data=renew | {"refresh_token": tokens["refresh_token"]})
        )
        await provider.entered.wait()
        revoke = {"token": tokens["refresh_token"], "client_id": tokens["client_id"]}
        revoked = await http.post("/revoke", data=revoke)
        provider.gate.set()
        refreshed = await refresh
        verifier = front.verifier()
        with pytest.raises(InvalidToken, match="revoked"):
            await verifier.verify(tokens["access_token"], resource=BASE + "/mcp")
    assert revoked.status_code == 200
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_the_providers_token_is_renewed_once_when_requests_cross() -> None:
    """Two handlers, then the client's own refresh, want the provider's token renewed at
    once: one request asks the provider (a provider that rotates refresh tokens takes a
    second use of the old one for theft and ends the sign-in), the others wait their turn."""
    provider = SlowProvider()
    front = provider_front(provider)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        checked = await front.verifier().verify(tokens["access_token"], resource=BASE + "/mcp")

        class Caller:
            auth = checked

        first = asyncio.create_task(front.upstream_token(Caller()))
        await provider.entered.wait()
        second = await front.upstream_token(Caller())  # still valid: served as it is
        renew = {"grant_type": "refresh_token", "client_id": tokens["client_id"]}
        renew |= {"refresh_token": tokens["refresh_token"]}
        busy = await http.post("/token", data=renew)
        provider.gate.set()
        assert await first == "up-2"
        retried = await http.post("/token", data=renew)
        # The handler's save kept the refresh token the retry rotated in: it still works.
        renew["refresh_token"] = retried.json()["refresh_token"]
        again = await http.post("/token", data=renew)
    assert second == "up-1" and provider.refreshes == 3  # the handler's, then the client's
    assert busy.status_code == 503 and "try again" in busy.json()["error_description"]
    assert retried.status_code == 200 and again.status_code == 200, again.text


class RevokedJustBefore(MemoryKeyValueStore):
    """A store where, once `armed`, a revocation lands just before the next write of a
    grant: between the writer's last read of the grant and its write, the window a store
    shared by several workers (one round trip each) leaves open."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: Callable[[], Awaitable[object]] | None = None

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        if self.armed is not None and ":grant:" in key:
            revoke, self.armed = self.armed, None
            await revoke()
        return await super().set(key, value, ttl, limit=limit)


async def test_a_revocation_just_before_a_refresh_saves_the_grant_holds() -> None:
    store = RevokedJustBefore()
    front = provider_front(Provider(), store)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        revoke = {"token": tokens["refresh_token"], "client_id": tokens["client_id"]}
        revoked: list[int] = []

        async def revoking() -> None:
            revoked.append((await http.post("/revoke", data=revoke)).status_code)

        store.armed = revoking
        renew = {"grant_type": "refresh_token", "client_id": tokens["client_id"]}
        refreshed = await http.post("/token", data=renew | {"refresh_token": revoke["token"]})
        verifier = front.verifier()
        with pytest.raises(InvalidToken, match="revoked"):
            await verifier.verify(tokens["access_token"], resource=BASE + "/mcp")
    assert revoked == [200]
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_a_revocation_just_before_a_renewed_provider_token_is_saved_holds() -> None:
    store = RevokedJustBefore()
    provider = Provider()
    front = provider_front(provider, store)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        checked = await front.verifier().verify(tokens["access_token"], resource=BASE + "/mcp")

        class Caller:
            auth = checked

        revoke = {"token": tokens["refresh_token"], "client_id": tokens["client_id"]}

        async def revoking() -> None:
            assert (await http.post("/revoke", data=revoke)).status_code == 200

        store.armed = revoking
        with pytest.raises(UpstreamTokenUnavailable, match="ended"):
            await front.upstream_token(Caller())
        with pytest.raises(InvalidToken, match="revoked"):
            await front.verifier().verify(tokens["access_token"], resource=BASE + "/mcp")
    assert store.armed is None  # the revocation did land inside the renewal
