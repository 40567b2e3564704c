"""examples/front.py as a user runs it: `mcpkit run examples/front.py` in a subprocess, its
provider the real oidc-provider peer (found by discovery, as the example does), its secrets in
the environment; mcpkit's OAuth client signs in through the front and the provider's own
login and consent pages, and `whoami` names the provider's user; under `--workers 2` over one
SQLite store and key file, both workers serve the sign-in's code and token."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from form_browser import FormBrowser
from front_world import authorize
from oidc_peer import WAIT, OidcProvider
from test_front_oidc import redeem, token_request

from mcpkit import Client
from mcpkit.auth.client import OAuth
from mcpkit.auth.front import SigningKey
from mcpkit.auth.metadata import ClientMetadata

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers

from _running import mcpkit, running, stopped

NAME = "Interop OIDC"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as peer:
        yield peer


def example_env(provider: OidcProvider, client_id: str) -> dict[str, str]:
    """The example's environment: the peer's issuer and the front's client there (`front-secret`
    is the peer's secret for the clients it registers)."""
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": "front-secret",
        "OIDC_NAME": NAME,
    }


def origin(url: str) -> str:
    return url.removesuffix("/mcp")


async def test_the_front_example_signs_a_user_in_with_the_provider(provider: OidcProvider) -> None:
    argv = mcpkit("run", "examples/front.py", "--transport", "http", "--port", "0")
    env = example_env(provider, "example-front")
    async with asyncio.timeout(4 * WAIT), running(argv, env=env) as server:
        url = await server.started()
        provider.register_client([origin(url) + "/callback"], client_id="example-front")
        browser = FormBrowser(login="erin")
        auth = OAuth(browser, client_metadata=ClientMetadata(client_name="Example desk"))
        async with Client(url, auth=auth) as client:
            tools = [tool.name for tool in await client.list_tools()]
            who = (await client.call_tool("whoami", {})).structured_content
    assert tools == ["whoami"]
    assert who is not None and (who["subject"], who["provider"]) == ("erin", NAME)
    assert NAME in browser.pages[0].text  # the front's consent page names the provider


async def test_two_workers_share_the_fronts_sign_ins_over_one_store(
    provider: OidcProvider, tmp_path: Path
) -> None:
    """`mcpkit run --workers 2` over one SQLite store and one key file: a user signs in through
    the port (the front's pages, the provider's, the callback, each on whichever worker the
    kernel picks), the code is redeemed through the port, and the token is taken by both
    workers, told apart by the process ID `whoami` reports: each called with the other
    stopped (left to the kernel, one worker may take every connection)."""
    key = tmp_path / "front-key.pem"
    SigningKey().save(key)
    db = tmp_path / "front.db"
    argv = mcpkit("run", "examples/front.py", "--transport", "http", "--port", "0")
    argv += ["--workers", "2", "--store", f"sqlite:///{db}"]
    env = example_env(provider, "example-workers") | {"FRONT_KEY_FILE": str(key)}
    async with running(argv, env=env) as server:
        url = await server.started()
        base = origin(url)
        provider.register_client([base + "/callback"], client_id="example-workers")
        async with asyncio.timeout(4 * WAIT):
            authorized = await authorize(base, FormBrowser(login="frank"))
            tokens = await token_request(base, authorized, redeem(authorized))
        assert tokens.status_code == 200, tokens.text
        # A new connection for every request: the one worker not stopped takes each.
        headers = {
            "authorization": f"Bearer {tokens.json()['access_token']}",
            "connection": "close",
        }
        async with Client(url, headers=headers, protocol="2026-07-28") as client:
            for worker in server.workers():
                async with stopped(server.other(worker), db), asyncio.timeout(WAIT):
                    who = (await client.call_tool("whoami", {})).structured_content
                assert who is not None and who["subject"] == "frank", who
                assert who["worker"] == worker  # (a worker process's, not the supervisor's)
    assert server.proc.pid not in server.workers()
