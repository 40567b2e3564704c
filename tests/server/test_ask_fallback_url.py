"""`@server.tool(when_cannot_ask="url")`: where the client cannot answer a form, the user
decides on this server's approval page, reached by a URL-mode elicitation where the client
declared one, else by a link in the tool's result; the call made again once they approved
gets "accept". Served by uvicorn on 127.0.0.1, the page driven with httpx, in both eras."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from _approval_web import (
    ERAS,
    WAIT,
    browser_headers,
    decide,
    deploying_server,
    form_fields,
    link_in,
    serving,
    text_of,
)

from mcpkit import Client, McpError, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.protocol import codes
from mcpkit.stores.approvals import DEFAULT_APPROVAL_TTL
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import MemoryKeyValueStore
from mcpkit.stores.url import as_stores
from mcpkit.types import ElicitRequestParams, ElicitResult


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_link_in_the_result_and_the_call_again_after_approval(protocol: str) -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client, httpx.AsyncClient() as web:
            first = await client.call_tool("deploy", {"env": "prod"})
            link = link_in(first)
            page = await web.get(link)  # opening the link decides nothing
            again = await client.call_tool("deploy", {"env": "prod"})
            approved = await decide(web, link)
            after = await client.call_tool("deploy", {"env": "prod"})
            once_more = await client.call_tool("deploy", {"env": "prod"})
    assert first.is_error is True and done == ["prod"]
    assert link.startswith(f"{base}/mcp-approval?t=")
    assert '"Deploy to prod?"' in text_of(first)
    assert "call this tool again with the same arguments" in text_of(first)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "Deploy to prod?" in page.text and "<b>deploy</b>" in page.text
    assert link_in(again) == link  # undecided: the same link
    assert approved.status_code == 200 and "approved" in approved.text
    assert text_of(after) == "deployed to prod"
    assert link_in(once_more) != link  # an approval is used by one call


@pytest.mark.parametrize("protocol", ERAS)
async def test_declined_on_the_page_is_a_decline(protocol: str) -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            declined = await decide(web, link, "decline")
            after = await client.call_tool("deploy", {"env": "prod"})
    assert "declined" in declined.text
    assert text_of(after) == "not deployed: decline" and done == []


async def test_only_the_pages_own_post_decides() -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp") as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            token = link.split("t=")[1]
            page = await web.get(link)
            fields = form_fields(page.text)
            url = link.split("?")[0]
            browser = browser_headers(link)
            no_form_token = await web.post(
                url, data={"t": token, "decision": "approve"}, headers=browser
            )
            wrong_form_token = await web.post(
                url, data={"t": token, "f": "x", "decision": "approve"}, headers=browser
            )
            elsewhere = await web.post(
                url,
                data={**fields, "decision": "approve"},
                headers={"origin": "https://evil.example"},
            )
            guessed = await web.get(f"{url}?t=guessed")
            put = await web.put(url)
            still = await client.call_tool("deploy", {"env": "prod"})
    assert no_form_token.status_code == 404 and wrong_form_token.status_code == 404
    assert elsewhere.status_code == 403
    assert guessed.status_code == 404 and put.status_code == 405
    assert link_in(still) == link and done == []


async def test_an_approval_is_for_the_session_that_asked() -> None:
    # (2025-11-25 without auth: the session; with auth, the token's owner in both eras)
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        alice = Client(f"{base}/mcp", protocol="2025-11-25")
        bob = Client(f"{base}/mcp", protocol="2025-11-25")
        async with alice, bob:
            async with httpx.AsyncClient() as web:
                link = link_in(await alice.call_tool("deploy", {"env": "prod"}))
                await decide(web, link)
            bobs = await bob.call_tool("deploy", {"env": "prod"})
            alices = await alice.call_tool("deploy", {"env": "prod"})
    assert bobs.is_error is True and link_in(bobs) != link
    assert text_of(alices) == "deployed to prod" and done == ["prod"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_client_with_url_mode_is_sent_to_the_page(protocol: str) -> None:
    done: list[str] = []
    sent: list[str] = []

    async def browser(params: ElicitRequestParams) -> ElicitResult:
        url: str = params.url  # type: ignore[union-attr]
        sent.append(url)
        async with httpx.AsyncClient() as web:  # the user opens it and approves
            await decide(web, url)
        return ElicitResult(action="accept")

    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        client = Client(f"{base}/mcp", protocol=protocol, url_elicitation_handler=browser)
        async with client:
            result = await client.call_tool("deploy", {"env": "prod"})
    assert text_of(result) == "deployed to prod" and done == ["prod"]
    assert len(sent) == 1 and sent[0].startswith(f"{base}/mcp-approval?t=")


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_url_mode_client_that_has_not_approved_yet_gets_the_link(protocol: str) -> None:
    async def browser(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept")  # opened, not approved (yet)

    async def refuser(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="decline")  # would not open it

    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp", protocol=protocol, url_elicitation_handler=browser) as c:
            pending = await c.call_tool("deploy", {"env": "prod"})
        async with Client(f"{base}/mcp", protocol=protocol, url_elicitation_handler=refuser) as c:
            refused = await c.call_tool("deploy", {"env": "prod"})
    assert pending.is_error is True and link_in(pending)
    assert text_of(refused) == "not deployed: decline" and done == []


async def test_a_client_that_declared_url_mode_and_knows_no_such_method_gets_the_link() -> None:
    """The official Python SDK declares URL mode with any elicitation callback; one that
    answers "method not found" misreported, as a form's misreport falls back: the link goes
    in the result (2025-11-25: in 2026-07-28 such a client never answers the server)."""

    async def misreports(params: ElicitRequestParams) -> ElicitResult:
        raise McpError(codes.METHOD_NOT_FOUND, "Method not found")

    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        client = Client(f"{base}/mcp", protocol="2025-11-25", url_elicitation_handler=misreports)
        async with client, httpx.AsyncClient() as web:
            first = await client.call_tool("deploy", {"env": "prod"})
            assert (await decide(web, link_in(first))).status_code == 200
            after = await client.call_tool("deploy", {"env": "prod"})
    assert first.is_error is True and '"Deploy to prod?"' in text_of(first)
    assert text_of(after) == "deployed to prod" and done == ["prod"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_client_that_can_answer_a_form_is_asked_in_it(protocol: str) -> None:
    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"value": True})

    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp", protocol=protocol, elicitation_handler=user) as client:
            result = await client.call_tool("deploy", {"env": "prod"})
    assert text_of(result) == "deployed to prod"


async def test_without_http_there_is_no_page_and_the_log_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with asyncio.timeout(WAIT), Client(deploying_server([])) as client:
        result = await client.call_tool("deploy", {"env": "prod"})
    assert result.is_error is True
    assert "only an HTTP server serves" in caplog.text


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_mounted_servers_tool_is_approved_on_the_page_of_the_app(protocol: str) -> None:
    done: list[str] = []
    front = Server("front")
    front.mount(deploying_server(done), "ops")
    async with asyncio.timeout(WAIT), serving(front) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client, httpx.AsyncClient() as web:
            tools = [t.name for t in await client.list_tools()]
            (name,) = [t for t in tools if t.endswith("deploy")]
            link = link_in(await client.call_tool(name, {"env": "prod"}))
            await decide(web, link)
            after = await client.call_tool(name, {"env": "prod"})
    assert text_of(after) == "deployed to prod" and done == ["prod"]


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["authorization"] = f"Bearer {self.token}"
        yield request


class Owners:
    """A verifier that knows two tokens: alice's and bob's."""

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if token not in ("alice-token", "bob-token"):
            raise InvalidToken("unknown token")
        return AccessToken(subject=token.split("-")[0], client_id="app")


@pytest.mark.parametrize("protocol", ERAS)
async def test_on_a_protected_server_an_approval_is_for_the_tokens_owner(protocol: str) -> None:
    done: list[str] = []
    server = deploying_server(done, ProtectedResource(verifier=Owners()))
    async with asyncio.timeout(WAIT), serving(server) as base:
        alice = Client(f"{base}/mcp", protocol=protocol, auth=Bearer("alice-token"))
        bob = Client(f"{base}/mcp", protocol=protocol, auth=Bearer("bob-token"))
        async with alice, bob, httpx.AsyncClient() as web:
            link = link_in(await alice.call_tool("deploy", {"env": "prod"}))
            await decide(web, link)
            bobs = await bob.call_tool("deploy", {"env": "prod"})
            alices = await alice.call_tool("deploy", {"env": "prod"})
    assert bobs.is_error is True and link_in(bobs) != link
    assert text_of(alices) == "deployed to prod" and done == ["prod"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_link_that_expired_between_rounds_is_asked_anew() -> None:
    clock = Clock()
    sent: list[str] = []

    async def browser(params: ElicitRequestParams) -> ElicitResult:
        url: str = params.url  # type: ignore[union-attr]
        sent.append(url)
        if len(sent) == 1:  # the user waits too long: the link expires before the retry
            clock.now += DEFAULT_APPROVAL_TTL + 1
            return ElicitResult(action="accept")
        async with httpx.AsyncClient() as web:
            await decide(web, url)
        return ElicitResult(action="accept")

    done: list[str] = []
    server = deploying_server(done)
    server.use_store(replace(as_stores(None), kv=MemoryKeyValueStore(clock=clock)))
    async with asyncio.timeout(WAIT), serving(server) as base:
        client = Client(f"{base}/mcp", protocol="2026-07-28", url_elicitation_handler=browser)
        async with client:
            result = await client.call_tool("deploy", {"env": "prod"})
    assert len(sent) == 2 and sent[0] != sent[1]  # a new link, asked as a new question
    assert text_of(result) == "deployed to prod" and done == ["prod"]


class Down(MemoryKeyValueStore):
    """A store past its timeout (what `bounded` raises for one that does not answer)."""

    async def get(self, key: str) -> bytes | None:
        raise StoreUnavailable("the store at redis://127.0.0.1:1/0 did not answer within 1 s")


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_store_outage_fails_the_call_saying_to_try_again(protocol: str) -> None:
    done: list[str] = []
    server = deploying_server(done)
    server.use_store(replace(as_stores(None), kv=Down()))
    async with asyncio.timeout(WAIT), serving(server) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client:
            result = await client.call_tool("deploy", {"env": "prod"})
    assert result.is_error is True and done == []
    assert "cannot reach the store that keeps approvals" in text_of(result)
    assert "127.0.0.1:1" not in text_of(result)  # (where the store is, only the log says)
