"""The inspector's HTTP API without a browser: the login cookie, Host and Origin checks,
requests forwarded to the server, held server requests, and a closed page releasing the
client. (tests/inspector/test_inspector_security.py has the attacks of issue 19.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from _inspector_harness import SHOWCASE, log_in, served

from mcpkit.inspector.app import InspectorApp
from mcpkit.inspector.hub import InspectorHub


def api(base: str, app: InspectorApp, action: str) -> str:
    return f"{base}/api/{action}"


@contextlib.asynccontextmanager
async def logged_in(
    session: InspectorHub,
) -> AsyncIterator[tuple[str, InspectorApp, httpx.AsyncClient]]:
    """The inspector for `session`, and an HTTP client logged in to it as a browser is."""
    async with served(session) as (base, app), httpx.AsyncClient(timeout=30) as http:
        await log_in(http, base, app)
        yield base, app, http


async def test_every_api_call_and_the_page_need_the_login_cookie() -> None:
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient() as http:
        for url in (f"{base}/", f"{base}/?code=wrong", f"{base}/api/events"):
            assert (await http.get(url)).status_code == 403
        # the token itself, in the address, is no way in: only the cookie is
        refused = await http.post(f"{base}/api/state?token={app.token}", json={})
        assert refused.status_code == 403
        assert "open the link the inspector printed" in refused.json()["error"]
        page = await http.get(f"{base}/?code={app.one_time_code()}")
        assert page.status_code == 200 and "mcpkit inspector" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        cookie = page.headers["set-cookie"]
        assert f"={app.token};" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert (await http.post(f"{base}/api/state", json={})).status_code == 200
        assert (await http.get(f"{base}/")).status_code == 200  # the cookie, from now on
        async with httpx.AsyncClient() as stranger:
            assert (await stranger.post(f"{base}/api/state", json={})).status_code == 403


async def test_another_sites_origin_and_host_are_refused() -> None:
    async with logged_in(InspectorHub()) as (base, app, http):
        url = api(base, app, "state")
        evil = await http.post(url, json={}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        # DNS rebinding: evil.example resolved to 127.0.0.1 sends its own name as Host
        rebound = await http.post(url, json={}, headers={"Host": "evil.example"})
        assert rebound.status_code == 403
        port = base.rsplit(":", 1)[1]
        ok = await http.post(url, json={}, headers={"Origin": f"http://127.0.0.1:{port}"})
        assert ok.status_code == 200 and ok.json()["result"]["server"] is None


async def test_a_form_post_and_a_huge_body_are_refused() -> None:
    async with logged_in(InspectorHub()) as (base, app, http):
        url = api(base, app, "connect")
        form = await http.post(url, data={"target": "x"})  # what a cross-site <form> can send
        assert form.status_code == 415
        huge = await http.post(
            url, content=b"[" * 5_000_000, headers={"content-type": "application/json"}
        )
        assert huge.status_code == 400
        bad = await http.post(url, content=b"{nope", headers={"content-type": "application/json"})
        assert bad.status_code == 400


async def test_requests_reach_the_server_and_errors_name_the_cause() -> None:
    async with logged_in(InspectorHub(initial_target=SHOWCASE)) as (base, app, http):
        early = await http.post(api(base, app, "request"), json={"method": "tools/list"})
        assert "connect to a server first" in early.json()["error"]["message"]
        connected = await http.post(api(base, app, "connect"), json={"target": SHOWCASE})
        assert connected.json()["result"]["serverInfo"]["name"] == "showcase"
        call = {"method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}
        result = (await http.post(api(base, app, "request"), json=call)).json()["result"]
        assert result["structuredContent"] == {"result": 5}
        missing = {"method": "tools/call", "params": {"name": "nope", "arguments": {}}}
        reply = (await http.post(api(base, app, "request"), json=missing)).json()
        assert "nope" in json.dumps(reply)
        nowhere = await http.post(api(base, app, "connect"), json={"target": "no_such_file.py"})
        assert "does not exist" in json.dumps(nowhere.json())


async def test_a_held_sampling_request_waits_for_the_page_and_is_bounded() -> None:
    session = InspectorHub(initial_target=SHOWCASE, answer_timeout=30)
    events = session.subscribe()
    async with logged_in(session) as (base, app, http):
        await http.post(api(base, app, "connect"), json={"target": SHOWCASE})
        call = {
            "method": "tools/call",
            "params": {"name": "ask_model", "arguments": {"question": "hi?"}},
            "call": "c1",
        }
        pending = asyncio.ensure_future(http.post(api(base, app, "request"), json=call))
        seen = await _first_of_each(events, {"server_request", "progress"})
        asked, progress = seen["server_request"], seen["progress"]
        assert asked["method"] == "sampling/createMessage"
        assert (progress["call"], progress["progress"], progress["total"]) == ("c1", 1, 2)
        answer = {
            "role": "assistant",
            "content": {"type": "text", "text": "hello"},
            "model": "human",
        }
        accepted = await http.post(
            api(base, app, "answer"), json={"id": asked["id"], "result": answer}
        )
        assert accepted.json()["result"] == {"accepted": True}
        result = (await pending).json()["result"]
        assert result["content"][0]["text"] == "model said: hello"
        again = await http.post(api(base, app, "answer"), json={"id": asked["id"], "result": {}})
        assert again.json()["result"] == {"accepted": False}


async def test_an_unanswered_request_times_out_with_a_clear_error() -> None:
    session = InspectorHub(initial_target=SHOWCASE, answer_timeout=0.2)
    async with logged_in(session) as (base, app, http):
        await http.post(api(base, app, "connect"), json={"target": SHOWCASE})
        call = {"method": "tools/call", "params": {"name": "sign_up", "arguments": {}}}
        reply = (await http.post(api(base, app, "request"), json=call)).json()
        assert "nobody answered elicitation/create" in json.dumps(reply)


async def test_a_page_that_goes_away_releases_the_client() -> None:
    session = InspectorHub(initial_target=SHOWCASE, release_after=0.05)
    async with logged_in(session) as (base, app, http):
        await http.post(api(base, app, "connect"), json={"target": SHOWCASE})
        async with http.stream("GET", api(base, app, "events")) as stream:
            async for _ in stream.aiter_bytes():
                break  # the stream opened: one page watches
            assert session.watchers == 1
        async with asyncio.timeout(10):
            while session.client is not None:  # polled: the release is a timer in the app
                await asyncio.sleep(0.02)
        assert session.watchers == 0


async def _first_of_each(
    queue: asyncio.Queue[dict[str, Any] | None], kinds: set[str]
) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(10):
        while set(seen) != kinds:
            event = await queue.get()
            assert event is not None
            if event["type"] in kinds:
                seen.setdefault(event["type"], event)
    return seen


async def test_the_icon_is_served_and_a_call_is_cancelled_through_the_api() -> None:
    async with logged_in(InspectorHub(initial_target=SHOWCASE)) as (base, app, http):
        async with httpx.AsyncClient() as stranger:  # browsers ask for it without the cookie
            for path in ("/favicon.ico", "/favicon.svg"):
                icon = await stranger.get(base + path)
                assert icon.status_code == 200
                assert icon.headers["content-type"] == "image/svg+xml"
        gone = await http.post(api(base, app, "cancel"), json={"call": "nobody"})
        assert gone.json() == {"result": {"cancelled": False}}
        await http.post(api(base, app, "connect"), json={"target": SHOWCASE})
        call = {
            "method": "tools/call",
            "params": {"name": "slow", "arguments": {}},
            "call": "p1-c1",
        }
        events = app.hub.subscribe()
        running = asyncio.ensure_future(http.post(api(base, app, "request"), json=call))
        async with asyncio.timeout(10):  # the tool reports progress once it runs
            while (await events.get() or {}).get("type") != "progress":
                pass
        app.hub.unsubscribe(events)
        cancel = await http.post(api(base, app, "cancel"), json={"call": "p1-c1"})
        assert cancel.json() == {"result": {"cancelled": True}}
        reply = (await asyncio.wait_for(running, 10)).json()
        assert reply == {
            "cancelled": "tools/call was cancelled; the server was sent notifications/cancelled"
        }
