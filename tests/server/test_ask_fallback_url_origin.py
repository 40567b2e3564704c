"""The approval page decides only on a POST a browser sent from the page itself (its Origin is
the page's, or its Sec-Fetch-Site is same-origin): a model's web-fetch tool that opens the
link and posts the form cannot approve its own call; and the page refuses a Host the HTTP app
does not serve, as its MCP endpoint does. Served by uvicorn on 127.0.0.1, driven with httpx."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _approval_web import (
    WAIT,
    browser_headers,
    decide,
    deploying_server,
    form_fields,
    link_in,
    serving,
    text_of,
)

from mcpkit import Client
from mcpkit.stores.approvals import approval_page_origin

BROWSER_ONLY = "Open the link in your web browser"


async def test_a_fetch_tool_that_posts_the_form_decides_nothing() -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp") as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            page = await web.get(link)
            # What a web-fetch tool sends: the form's fields, no Origin, no Fetch Metadata.
            fetched = await web.post(link, data={**form_fields(page.text), "decision": "approve"})
            still = await client.call_tool("deploy", {"env": "prod"})
            approved = await decide(web, link)  # the same form, from a browser, still decides
            after = await client.call_tool("deploy", {"env": "prod"})
    assert fetched.status_code == 403 and BROWSER_ONLY in fetched.text
    assert link_in(still) == link
    assert approved.status_code == 200 and text_of(after) == "deployed to prod"
    assert done == ["prod"]
    assert page.headers["referrer-policy"] == "same-origin"  # (no-referrer: Origin: null)


def refusals(link: str) -> dict[str, dict[str, str]]:
    own = browser_headers(link)["origin"]
    no_port = own.rsplit(":", 1)[0]
    return {
        "another site": {"origin": "https://evil.example"},
        "another port": {"origin": f"{no_port}:1"},
        "another scheme": {"origin": own.replace("http://", "https://")},
        "null origin, no fetch metadata": {"origin": "null"},
        "own origin from another site": {"origin": own, "sec-fetch-site": "cross-site"},
        "same-site, not same-origin": {"sec-fetch-site": "same-site"},
        "typed by hand": {"sec-fetch-site": "none"},
        "two origins": {"origin": own, "Origin": own},
    }


async def test_every_post_not_from_the_page_in_a_browser_is_refused() -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp") as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            fields = form_fields((await web.get(link)).text)
            statuses: dict[str, int] = {}
            for name, headers in refusals(link).items():
                sent = httpx.Headers(list(headers.items()))  # (two Origins are two lines)
                refused = await web.post(link, data={**fields, "decision": "approve"}, headers=sent)
                statuses[name] = refused.status_code
            still = await client.call_tool("deploy", {"env": "prod"})
    assert statuses == dict.fromkeys(statuses, 403)
    assert link_in(still) == link and done == []


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "OWN"},  # a browser without Fetch Metadata
        {"origin": "null", "sec-fetch-site": "same-origin"},  # a page served no-referrer
        {"sec-fetch-site": "same-origin"},
    ],
)
async def test_a_browser_post_from_the_page_decides(headers: dict[str, str]) -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp") as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            fields = form_fields((await web.get(link)).text)
            own = browser_headers(link)["origin"].upper()  # (compared case-insensitively)
            sent = {k: own if v == "OWN" else v for k, v in headers.items()}
            approved = await web.post(link, data={**fields, "decision": "approve"}, headers=sent)
            after = await client.call_tool("deploy", {"env": "prod"})
    assert approved.status_code == 200, approved.text
    assert text_of(after) == "deployed to prod" and done == ["prod"]


async def test_behind_a_proxy_the_pages_origin_is_the_one_users_reach() -> None:
    done: list[str] = []
    proxied = {"host": "mcp.example.com", "x-forwarded-proto": "https"}
    settings = {"allowed_hosts": ["mcp.example.com"]}
    async with asyncio.timeout(WAIT), serving(deploying_server(done), **settings) as base:
        async with Client(f"{base}/mcp", headers=proxied) as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            direct = link.replace("https://mcp.example.com", base)
            fields = form_fields((await web.get(direct, headers=proxied)).text)
            form = {**fields, "decision": "approve"}
            plain = {**proxied, "origin": "http://mcp.example.com"}
            wrong = await web.post(direct, data=form, headers=plain)
            right = {**proxied, "origin": "https://mcp.example.com"}
            approved = await web.post(direct, data=form, headers=right)
    assert link.startswith("https://mcp.example.com/mcp-approval?t=")
    assert wrong.status_code == 403 and approved.status_code == 200


async def test_a_host_the_app_does_not_serve_gets_no_page() -> None:
    done: list[str] = []
    async with asyncio.timeout(WAIT), serving(deploying_server(done)) as base:
        async with Client(f"{base}/mcp") as client, httpx.AsyncClient() as web:
            link = link_in(await client.call_tool("deploy", {"env": "prod"}))
            forged = {"host": "evil.example"}
            claimed = {**forged, "origin": "http://evil.example", "sec-fetch-site": "same-origin"}
            shown = await web.get(link, headers=forged)
            fields = form_fields((await web.get(link)).text)
            posted = await web.post(
                link,
                data={**fields, "decision": "approve"},
                headers=claimed,
            )
            # The endpoint refuses it too, so no link is ever built from a forged Host.
            endpoint = await web.post(f"{base}/mcp", json={}, headers=forged)
    assert shown.status_code == 421 and "allowed_hosts" in shown.text
    assert posted.status_code == 421 and done == []
    assert endpoint.status_code == 421


def test_the_pages_origin_is_the_links() -> None:
    assert approval_page_origin("127.0.0.1:8000", None) == "http://127.0.0.1:8000"
    assert approval_page_origin("[::1]", None) == "http://[::1]"
    assert approval_page_origin("LOCALHOST:3000", None) == "http://LOCALHOST:3000"
    assert approval_page_origin("mcp.example.com", None) == "https://mcp.example.com"
    assert approval_page_origin("mcp.example.com", "http") == "http://mcp.example.com"
    assert approval_page_origin("localhost:8000", "https") == "https://localhost:8000"
    assert approval_page_origin("localhost:8000", "gopher") == "http://localhost:8000"
