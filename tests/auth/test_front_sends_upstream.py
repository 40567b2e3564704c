"""What the authorization front sends its provider is `providers.authorize_parameters`'
query, to the letter: the nonce whenever `openid` is asked for (with or without a fixed
issuer), and a provider whose `authorize_params` would replace the front's own refused when
the front is built, not at the first sign-in."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from _front_world import BASE, UPSTREAM, authorize_query, browser, hidden, query_of, register

from mcpkit.auth.front import AuthorizationFront, UpstreamProvider
from mcpkit.auth.front.providers import authorize_parameters
from mcpkit.stores.kv import MemoryKeyValueStore

WAIT = 5.0


async def upstream_query(provider: UpstreamProvider) -> dict[str, str]:
    """The query the front sends the user to the provider with, after consent."""
    front = AuthorizationFront(provider, store=MemoryKeyValueStore())
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
        page = await http.get("/authorize", params=authorize_query(client["client_id"]))
        form = {"request": hidden(page.text, "request"), "csrf": hidden(page.text, "csrf")}
        allowed = await http.post("/consent", data=form | {"decision": "allow"})
    assert allowed.status_code == 303, allowed.text
    assert allowed.headers["location"].startswith(provider.authorize_url + "?")
    return query_of(allowed.headers["location"])


@pytest.mark.parametrize(
    "provider",
    [
        UPSTREAM,  # `openid` asked for, no issuer: the nonce is still sent
        dataclasses.replace(
            UPSTREAM,
            scopes=("read",),
            resource_parameter="fixed",
            resource="https://api.example.com",
            authorize_params={"prompt": "consent"},
        ),
        dataclasses.replace(UPSTREAM, resource_parameter="mcp", pkce=False),
    ],
)
async def test_the_front_sends_what_authorize_parameters_says(provider: UpstreamProvider) -> None:
    sent = await upstream_query(provider)
    # The values only the front knows (its state, challenge and nonce) taken from what it sent.
    expected = authorize_parameters(
        provider,
        redirect_uri=BASE + "/callback",
        state=sent["state"],
        code_challenge=sent.get("code_challenge"),
        nonce=sent.get("nonce"),
        mcp_resource=BASE + "/mcp",  # the resource a front asked no resource grants
    )
    assert sent == expected
    assert ("nonce" in sent) == ("openid" in provider.scopes)
    assert ("code_challenge" in sent) == provider.pkce


def test_a_provider_replacing_what_the_front_sets_is_refused_when_the_front_is_built() -> None:
    sneaky = dataclasses.replace(
        UPSTREAM, authorize_params={"redirect_uri": "https://evil.example"}
    )
    with pytest.raises(ValueError, match=r"authorize_params may not set \['redirect_uri'\]"):
        AuthorizationFront(sneaky, store=MemoryKeyValueStore())
