"""The official SDKs' OAuth clients through the authorization front (issue 43), with the npm
`oidc-provider` as the upstream: the official Python SDK's and the TypeScript SDK's (v1 and
v2) sign in headlessly through the front's consent page and the provider's login and consent
pages, in each protocol era they speak, and call a tool that reports the provider's subject;
when the front's short-lived token expires each refreshes through the front on its own; once
the provider token behind the grant is revoked at the provider, the next refresh is refused
and the client signs in again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager

import pytest
from form_browser import FormBrowser
from front_sdk_clients import SdkClient, expired, official_client, ts_client
from front_world import PROVIDER_NAME, front_server, revoke_upstream
from oidc_peer import WAIT, OidcProvider

from mcpkit.auth.front import FrontSettings
from mcpkit.errors import InvalidToken

TOKEN_TTL = 2  # seconds: the front's access tokens, so that clients refresh within the test

Connect = Callable[[str, str, FormBrowser], AbstractAsyncContextManager[SdkClient]]


def _ts_v2(url: str, era: str, browser: FormBrowser) -> AbstractAsyncContextManager[SdkClient]:
    return ts_client(url, era, browser, sdk="v2")


# (client, era): the official Python SDK and TypeScript SDK v2 speak both eras, v1 the first.
RUNS: list[tuple[str, Connect, str]] = [
    ("official", official_client, "2025-11-25"),
    ("official", official_client, "2026-07-28"),
    ("ts-v1", ts_client, "2025-11-25"),
    ("ts-v2", _ts_v2, "2025-11-25"),
    ("ts-v2", _ts_v2, "2026-07-28"),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as peer:
        yield peer


@pytest.mark.parametrize(("name", "connect", "era"), RUNS, ids=[f"{n}-{e}" for n, _, e in RUNS])
async def test_sdk_client_signs_in_refreshes_and_signs_in_again_after_revocation(
    provider: OidcProvider, name: str, connect: Connect, era: str
) -> None:
    browser = FormBrowser(login=f"{name}-user")
    settings = FrontSettings(access_token_ttl=TOKEN_TTL)
    async with (
        asyncio.timeout(4 * WAIT),
        front_server(provider, settings, leeway=0) as (base, front),
        connect(base + "/mcp", era, browser) as client,
    ):
        resource = base + "/mcp"
        signed_in = await client.call()
        assert signed_in["protocol_version"] == era
        assert signed_in["whoami"] == {
            "subject": browser.login,  # the provider's subject, as the front's token carries it
            "idp": PROVIDER_NAME,
            "audience": [resource],
        }
        assert signed_in["events"] == ["authorize", "tokens"]
        consent = browser.pages[0]  # the front's own consent page, before the provider's
        assert consent.url.startswith(base + "/authorize")
        assert f"{name}-front" in consent.text and "127.0.0.1:9" in consent.text
        assert any("/interaction/" in page.url for page in browser.pages[1:])

        # The front's token runs out: the client refreshes through the front on its own.
        await expired(front, signed_in["access_token"], resource, client)
        refreshed = await client.call()
        assert refreshed["events"] == ["authorize", "tokens", "tokens"]  # no second sign-in
        assert refreshed["access_token"] != signed_in["access_token"]
        assert refreshed["whoami"] == signed_in["whoami"]

        # The provider token behind the grant is revoked there: the front refuses the next
        # refresh (ending its grant), and the client sends the user to sign in again.
        await revoke_upstream(front, refreshed["access_token"], resource)
        pages = len(browser.pages)
        await expired(front, refreshed["access_token"], resource, client)
        again = await client.call()
        assert again["events"] == ["authorize", "tokens", "tokens", "authorize", "tokens"]
        assert again["whoami"] == signed_in["whoami"]
        assert browser.pages[pages].url.startswith(base + "/authorize")  # the front's page again
        with pytest.raises(InvalidToken, match="ended"):  # the refused refresh ended the grant
            await front.verifier().verify(refreshed["access_token"], resource=resource)
