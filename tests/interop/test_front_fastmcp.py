"""FastMCP 4's OAuth client through the authorization front (issue 43), with the npm
`oidc-provider` as the upstream: `Client(url, auth=OAuth(...))`, which is `auth="oauth"` with its
token storage in a temporary folder (a file tree, as FastMCP's own CLI keeps it) and its
callback server on 127.0.0.1, signs in headlessly, lists tools and calls one that reports the
provider's subject, in each era it speaks (the 2025-11-25 handshake, and 2026-07-28 as its
default `auto` finds it and pinned); when the front's short-lived token expires it
refreshes through the front on its own; once the provider token behind the grant is revoked
it signs in again; and a new client over the same storage (the next run of a CLI) uses the
stored sign-in and refreshes it without a browser, then signs in again with its stored
registration from another callback port; against a front restarted without its state, it
registers again.

FastMCP opens the authorization URL with `webbrowser.open` and waits for the redirect on a
callback server of its own. The test replaces only the browser: `FormBrowser` goes through the
front's consent page and the provider's login and consent pages, and the redirect it ends
with is delivered to FastMCP's own callback server, as a browser would."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import webbrowser
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _ports import spare_port
from form_browser import FormBrowser
from front_sdk_clients import expired
from front_world import PROVIDER_NAME, front_server, revoke_upstream
from interop_harness import SETUP_HINT
from oidc_peer import WAIT, OidcProvider

from mcpkit.auth.front import FrontSettings

# Seconds the front's access tokens live, so that the client refreshes within the test. What a
# test does between a sign-in and the expiry it waits for (a browser's sign-in, two tool calls,
# a second client reading the stored sign-in) must fit in it: with 2 s it did not on a busy
# two-core machine, and FastMCP refreshed (or signed in again) before the test expected it.
TOKEN_TTL = 6
POLL = 0.05  # seconds between tries to reach FastMCP's callback server while it starts
TOKENS = "mcp-oauth-token"  # the collection FastMCP's OAuth keeps its tokens in

# (FastMCP's `mode=`, the era it must speak): `auto`, its default, probes and takes 2026-07-28.
# The next-run test below pins 2026-07-28.
MODES = [("legacy", "2025-11-25"), ("auto", "2026-07-28")]


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    if importlib.util.find_spec("fastmcp") is None:
        pytest.fail(f"FastMCP (`fastmcp`) is missing. {SETUP_HINT}")
    with OidcProvider() as peer:
        yield peer


class HeadlessBrowser:
    """What `webbrowser.open` does for FastMCP here: the user signs in as `login` through
    `FormBrowser`, and the final redirect goes to FastMCP's callback server at
    `redirect_uri`. `sign_ins` keeps each authorization URL opened."""

    def __init__(self, redirect_uri: str, login: str) -> None:
        self.redirect_uri = redirect_uri
        self.browser = FormBrowser(redirect_uri, login=login)
        self.sign_ins: list[str] = []
        self._visits: list[asyncio.Task[None]] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        # FastMCP calls this from its redirect handler, then starts its callback server and
        # waits on it: the visit has to run beside that, as a real browser's would.
        self.sign_ins.append(url)
        self._visits.append(asyncio.get_running_loop().create_task(self._visit(url)))
        return True

    async def _visit(self, url: str) -> None:
        final = await self.browser.run(url)
        async with asyncio.timeout(WAIT), httpx.AsyncClient(timeout=WAIT) as http:
            while True:
                try:
                    answer = await http.get(final)
                except httpx.ConnectError:  # its callback server is not listening yet
                    await asyncio.sleep(POLL)
                    continue
                assert answer.status_code == 200, answer.text
                return

    async def finish(self) -> None:
        """Wait for the visits still going, and raise what any of them raised."""
        for visit in self._visits:
            await visit


class FastMcpRun:
    """FastMCP's client connected through the front, its OAuth provider, its token storage
    (counting what it saves) and the browser it signs in with."""

    def __init__(self, client: Any, oauth: Any, storage: Any, browser: HeadlessBrowser) -> None:
        self.client = client
        self.oauth = oauth
        self.storage = storage
        self.browser = browser

    def saves(self) -> int:
        count: int = self.storage.statistics.get_collection(TOKENS).put.count
        return count

    async def call(self) -> dict[str, Any]:
        """Call `whoami`: {"whoami", "sign_ins", "saves", "access_token", "protocol_version"}."""
        result = await self.client.call_tool("whoami", {})
        return {
            "whoami": result.structured_content,
            "sign_ins": len(self.browser.sign_ins),
            "saves": self.saves(),
            "access_token": self.oauth.context.current_tokens.access_token,
            "protocol_version": self.client.protocol_version,
        }

    def expires_at(self) -> float:
        expiry: float = self.oauth.context.token_expiry_time or 0.0
        return expiry


@contextlib.asynccontextmanager
async def fastmcp_client(
    url: str,
    mode: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    login: str = "fastmcp-user",
) -> AsyncIterator[FastMcpRun]:
    """FastMCP's `Client` in `mode` with its `OAuth` keeping tokens in `folder`, signing in
    through `HeadlessBrowser`."""
    from fastmcp import Client
    from fastmcp.client.auth import OAuth
    from key_value.aio.stores.filetree import (
        FileTreeStore,
        FileTreeV1CollectionSanitizationStrategy,
        FileTreeV1KeySanitizationStrategy,
    )
    from key_value.aio.wrappers.statistics import StatisticsWrapper

    files = FileTreeStore(
        data_directory=folder,
        key_sanitization_strategy=FileTreeV1KeySanitizationStrategy(folder),
        collection_sanitization_strategy=FileTreeV1CollectionSanitizationStrategy(folder),
    )
    storage = StatisticsWrapper(key_value=files)
    # A port of our choosing: FastMCP's own is free when OAuth is made, but a port-0 bind
    # elsewhere may take it before its callback server starts (`_ports`).
    oauth = OAuth(
        url,
        token_storage=storage,
        callback_host="127.0.0.1",
        callback_port=spare_port(),
        callback_timeout=WAIT,
    )
    browser = HeadlessBrowser(f"http://127.0.0.1:{oauth.redirect_port}/callback", login)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    try:
        async with Client(url, auth=oauth, mode=mode, timeout=WAIT) as client:
            yield FastMcpRun(client, oauth, storage, browser)
    finally:
        await browser.finish()


@pytest.mark.parametrize(("mode", "era"), MODES, ids=[mode for mode, _ in MODES])
async def test_fastmcp_client_signs_in_refreshes_and_signs_in_again_after_revocation(
    provider: OidcProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    mode: str,
    era: str,
) -> None:
    settings = FrontSettings(access_token_ttl=TOKEN_TTL)
    async with (
        asyncio.timeout(4 * WAIT),
        front_server(provider, settings, leeway=0) as (base, front),
        fastmcp_client(base + "/mcp", mode, tmp_path, monkeypatch) as run,
    ):
        resource = base + "/mcp"
        tools = await run.client.list_tools()
        assert sorted(tool.name for tool in tools) == ["provider_me", "whoami"]
        signed_in = await run.call()
        assert signed_in["protocol_version"] == era
        assert signed_in["whoami"] == {
            "subject": "fastmcp-user",  # the provider's subject, as the front's token carries it
            "idp": PROVIDER_NAME,
            "audience": [resource],
        }
        assert (signed_in["sign_ins"], signed_in["saves"]) == (1, 1)
        asked = parse_qs(urlsplit(run.browser.sign_ins[0]).query)
        assert asked["redirect_uri"] == [run.browser.redirect_uri]
        assert asked["resource"] == [resource] and asked["code_challenge_method"] == ["S256"]
        consent = run.browser.browser.pages[0]  # the front's own page, before the provider's
        assert consent.url.startswith(base + "/authorize")
        assert "FastMCP Client" in consent.text  # the name FastMCP registers itself with
        assert urlsplit(run.browser.redirect_uri).netloc in consent.text
        # The provider token the front keeps for the grant answers at the provider.
        me = await run.client.call_tool("provider_me", {})
        assert me.structured_content["sub"] == "fastmcp-user"

        # The front's token runs out: FastMCP refreshes through the front on its own.
        await expired(front, signed_in["access_token"], resource, run)
        refreshed = await run.call()
        assert (refreshed["sign_ins"], refreshed["saves"]) == (1, 2)  # no second sign-in
        assert refreshed["access_token"] != signed_in["access_token"]
        assert refreshed["whoami"] == signed_in["whoami"]

        # The provider token behind the grant is revoked there: the front refuses the next
        # refresh, and FastMCP sends the user through the front to sign in again.
        await revoke_upstream(front, refreshed["access_token"], resource)
        pages = len(run.browser.browser.pages)
        await expired(front, refreshed["access_token"], resource, run)
        again = await run.call()
        assert (again["sign_ins"], again["saves"]) == (2, 3)
        assert again["whoami"] == signed_in["whoami"]
        assert run.browser.browser.pages[pages].url.startswith(base + "/authorize")


async def test_fastmcp_client_uses_refreshes_and_renews_a_stored_sign_in_in_its_next_run(
    provider: OidcProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = FrontSettings(access_token_ttl=TOKEN_TTL)
    async with (
        asyncio.timeout(4 * WAIT),
        front_server(provider, settings, leeway=0) as (base, front),
    ):
        resource = base + "/mcp"
        async with fastmcp_client(resource, "auto", tmp_path, monkeypatch) as first:
            signed_in = await first.call()
        registered = parse_qs(urlsplit(first.browser.sign_ins[0]).query)["client_id"]

        # A new client and OAuth over the same folder, as in a CLI's next run (pinned to the
        # era `auto` found): it uses the stored sign-in, without a browser.
        async with fastmcp_client(resource, "2026-07-28", tmp_path, monkeypatch) as run:
            stored = await run.call()
            assert stored["protocol_version"] == signed_in["protocol_version"] == "2026-07-28"
            assert stored["access_token"] == signed_in["access_token"]
            assert stored["whoami"] == signed_in["whoami"]
            assert (stored["sign_ins"], stored["saves"]) == (0, 0)
            # It kept no authorization server metadata, so it refreshes at the front's
            # origin's /token, which is where the front serves it by default.
            await expired(front, stored["access_token"], resource, run)
            refreshed = await run.call()
            assert (refreshed["sign_ins"], refreshed["saves"]) == (0, 1)
            assert refreshed["access_token"] != signed_in["access_token"]
            assert refreshed["whoami"] == signed_in["whoami"]

            # Once the grant ends, it signs in again with its stored registration from the
            # callback port of this run, not the one it registered: RFC 8252 section 7.3
            # has the front take any port on a loopback redirect URI.
            await revoke_upstream(front, refreshed["access_token"], resource)
            await expired(front, refreshed["access_token"], resource, run)
            again = await run.call()
            assert (again["sign_ins"], again["saves"]) == (1, 2)
            assert again["whoami"] == signed_in["whoami"]
            asked = parse_qs(urlsplit(run.browser.sign_ins[0]).query)
            assert asked["client_id"] == registered
            assert asked["redirect_uri"] == [run.browser.redirect_uri]
            assert run.browser.redirect_uri != first.browser.redirect_uri


async def test_fastmcp_client_registers_again_with_a_front_that_lost_its_state(
    provider: OidcProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A front restarted without its store (and key): the stored token is refused, and the
    stored client is unknown at /authorize, which the front answers with 400 `invalid_client`;
    FastMCP's check of the authorization URL before opening the browser reads that status,
    drops its stored registration and registers again (a page answering 200 would have
    left it waiting on its callback)."""
    async with asyncio.timeout(4 * WAIT):
        async with front_server(provider) as (base, _):
            async with fastmcp_client(base + "/mcp", "auto", tmp_path, monkeypatch) as first:
                signed_in = await first.call()
        port = urlsplit(base).port
        async with (
            front_server(provider, port=port or 0) as (again_base, _),
            fastmcp_client(base + "/mcp", "auto", tmp_path, monkeypatch) as run,
        ):
            assert again_base == base
            again = await run.call()
    assert (again["sign_ins"], again["saves"]) == (1, 1)
    assert again["whoami"] == signed_in["whoami"]
    assert again["access_token"] != signed_in["access_token"]
    first_id = parse_qs(urlsplit(first.browser.sign_ins[0]).query)["client_id"]
    assert parse_qs(urlsplit(run.browser.sign_ins[0]).query)["client_id"] != first_id
