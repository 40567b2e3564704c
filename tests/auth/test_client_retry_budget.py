"""The OAuth client's retry limit holds whatever the timing: a request cancelled while it
authorizes (a connect's server/discover probe timing out under load, then the fallback's
requests) leaves its authorizations to the next request's budget instead of the next request
starting a fresh one (spec: basic/authorization, "Scope Challenge Handling"; the conformance
scenario auth/scope-retry-limit allows at most 3 authorizations in all)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _client_world import ISSUER, MCP, World

from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.errors import AuthorizationFailed

WAIT = 10.0  # bounds each wait; nothing here waits on a timer
#: A path of the MCP server's origin that answers without a token, as a 2025 server may
#: answer `initialize` (the conformance scenario's does).
OPEN = "https://mcp.example.com/open"


class Stall:
    """A `World` behind an async handler that holds the `nth` request to `url` unanswered,
    the way a loaded authorization server or MCP server keeps one waiting."""

    def __init__(self, world: World, url: str, nth: int = 1) -> None:
        self.world = world
        self.url = url
        self.left = nth
        self.reached = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == OPEN:
            return httpx.Response(200, json={"ok": True})
        if str(request.url.copy_with(query=None)) == self.url:
            self.left -= 1
            if self.left == 0:
                self.reached.set()
                await asyncio.Event().wait()  # no answer: the caller gives up first
        return self.world(request)


def never_enough_scope() -> World:
    # Every 403 asks for a scope that never satisfies the server: only the limit ends it.
    return World(needed_scope={"mcp:read", "admin"}, step_up_scope="files:write")


async def cut_short_then_ask_again(stall: Stall, *, open_between: bool = False) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(stall))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, max_step_ups=2)
    async with httpx.AsyncClient(transport=httpx.MockTransport(stall), auth=auth) as client:
        first = asyncio.create_task(client.post(MCP, content=b"{}"))
        async with asyncio.timeout(WAIT):
            await stall.reached.wait()
        first.cancel()  # what a probe's timeout does to the request that carries it
        with pytest.raises(asyncio.CancelledError):
            await first
        if open_between:
            async with asyncio.timeout(WAIT):
                assert (await client.post(OPEN, content=b"{}")).status_code == 200
        with pytest.raises(AuthorizationFailed) as caught:
            async with asyncio.timeout(WAIT):
                await client.post(MCP, content=b"{}")
    assert caught.value.status == 403


async def test_a_request_cancelled_while_authorizing_leaves_its_attempt_to_the_next() -> None:
    # Cancelled between the authorization endpoint and the token endpoint, as in the failed
    # conformance run: the next request may authorize twice more, not three times.
    world = never_enough_scope()
    await cut_short_then_ask_again(Stall(world, f"{ISSUER}/token"))
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 3


async def test_a_request_cancelled_while_resent_leaves_its_attempts_to_the_next() -> None:
    # Cancelled while its third try (after a flow and a step-up) is on the wire.
    world = never_enough_scope()
    await cut_short_then_ask_again(Stall(world, MCP, nth=3))
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 3


async def test_a_request_answered_without_a_token_passes_the_count_on() -> None:
    # The connect's order: the probe cut short while authorizing, an initialize the server
    # answers without a token, then the first request that needs one.
    world = never_enough_scope()
    await cut_short_then_ask_again(Stall(world, f"{ISSUER}/token"), open_between=True)
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 3


async def test_an_answered_request_leaves_nothing_to_the_next() -> None:
    # The budget is per request once a request has its answer: two refused requests in a row
    # authorize three times each (a flow, then two step-ups), as before.
    world = never_enough_scope()
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, max_step_ups=2)
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as client:
        for _ in range(2):
            with pytest.raises(AuthorizationFailed):
                async with asyncio.timeout(WAIT):
                    await client.post(MCP, content=b"{}")
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 3 + 2
