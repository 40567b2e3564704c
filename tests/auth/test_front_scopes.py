"""Issue 64: scopes are roles. Asking for `scope=admin` is not having it: the front grants
what `FrontSettings.grant_scopes` decides for the signed-in user, by default only
`default_scopes`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from _front_upstream import Provider, issued_code, provider_front, redemption
from _front_world import browser, register

from mcpkit.auth.front import FrontSettings

WAIT = 5.0


async def granted(settings: FrontSettings) -> str | None:
    front = provider_front(Provider(), settings=settings)
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        code = await issued_code(http, client, scope="read admin")
        answer = await http.post("/token", data=redemption(client, code))
    assert answer.status_code == 200, answer.text
    scope: str | None = answer.json().get("scope")
    return scope


async def test_asking_for_admin_does_not_grant_it_by_default() -> None:
    assert await granted(FrontSettings()) is None
    assert await granted(FrontSettings(default_scopes=("read",))) == "read"


async def test_the_policy_hook_decides_a_users_scopes() -> None:
    seen: list[tuple[Mapping[str, Any], tuple[str, ...]]] = []

    def admins(claims: Mapping[str, Any], requested: tuple[str, ...]) -> list[str]:
        seen.append((claims, requested))
        return ["admin", "write"] if claims.get("sub") == "alice" else []

    # Never more than was asked for: "write" was not.
    assert await granted(FrontSettings(grant_scopes=admins)) == "admin"
    assert seen == [({"sub": "alice"}, ("read", "admin"))]
