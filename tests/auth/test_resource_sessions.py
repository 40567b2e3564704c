"""Sessions of a protected server belong to the identity that opened them: another subject (or
client, for tokens without one) presenting the session id gets 404 as for an unknown session.
Also the stateless mode and the legacy HTTP+SSE endpoints, protected the same way."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from _legacy import Events, initialize
from _resource_helpers import (
    ADMIN,
    ALICE,
    BOB,
    ROBOT,
    bearer,
    call,
    open_as,
    scoped_server,
)
from _serving import INITIALIZE, WAIT, messages_of, serving

from mcpkit.auth.server.verifier import AccessToken

WHOAMI = call(7, "tools/call", name="whoami", arguments={})


@pytest.mark.parametrize(("owner", "intruder"), [(ALICE, BOB), (ROBOT, ALICE), (ALICE, ROBOT)])
async def test_another_identity_presenting_a_session_id_gets_404(owner: str, intruder: str) -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, owner)
        post = await client.post(url, json=WHOAMI, headers=bearer(intruder, sid))
        assert post.status_code == 404, post.text
        get = await client.get(url, headers=bearer(intruder, sid))
        assert get.status_code == 404
        delete = await client.delete(url, headers=bearer(intruder, sid))
        assert delete.status_code == 404
        # Still the owner's, untouched.
        mine = await client.post(url, json=WHOAMI, headers=bearer(owner, sid))
        assert mine.status_code == 200 and "result" in messages_of(mine)[0]


async def test_the_same_subject_with_a_new_token_keeps_its_session() -> None:
    server, verifier = scoped_server()
    verifier.tokens["tok-robot-two"] = AccessToken(client_id="robot", scopes=frozenset({"mcp"}))
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        answer = messages_of(await client.post(url, json=WHOAMI, headers=bearer(ADMIN, sid)))
        assert answer[0]["result"]["structuredContent"]["scopes"] == ["admin", "mcp"]
        robot = await open_as(client, url, ROBOT)
        again = await client.post(url, json=WHOAMI, headers=bearer("tok-robot-two", robot))
        assert again.status_code == 200
        assert (await client.delete(url, headers=bearer(ALICE, sid))).status_code == 200


async def test_stateless_mode_checks_every_post() -> None:
    server, _ = scoped_server()
    app = server.http_app(stateless=True, json_response=True)
    async with serving(app) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        assert (await client.post(url, json=WHOAMI, headers=bearer(None))).status_code == 401
        who = await client.post(url, json=WHOAMI, headers=bearer(BOB))
        assert who.json()["result"]["structuredContent"]["subject"] == "bob"
        deploy = call(8, "tools/call", name="deploy", arguments={})
        assert (await client.post(url, json=deploy, headers=bearer(BOB))).status_code == 403
        assert (await client.post(url, json=deploy, headers=bearer(ADMIN))).json()["result"]


async def test_the_legacy_sse_endpoints_need_a_token_and_belong_to_their_opener() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        refused = await client.get(base + "/sse", headers={"accept": "text/event-stream"})
        assert refused.status_code == 401
        assert "resource_metadata=" in refused.headers["www-authenticate"]
        stream = {"accept": "text/event-stream", "authorization": f"Bearer {ALICE}"}
        request = client.build_request("GET", base + "/sse", headers=stream)
        response = await client.send(request, stream=True)
        try:
            assert response.status_code == 200
            events = Events(response)
            endpoint = await events.next()
            assert endpoint is not None and endpoint.event == "endpoint"
            post_url = str(httpx.URL(base).join(endpoint.data))
            alice = {"authorization": f"Bearer {ALICE}"}
            assert (await client.post(post_url, json=initialize())).status_code == 401
            bob = await client.post(post_url, json=initialize(), headers=bearer(BOB))
            assert bob.status_code == 404
            assert (
                await client.post(post_url, json=initialize(), headers=alice)
            ).status_code == 202
            assert (await events.message())["id"] == 1
            deploy = call(2, "tools/call", name="deploy", arguments={})
            assert (await client.post(post_url, json=deploy, headers=alice)).status_code == 403
            admin = {"authorization": f"Bearer {ADMIN}"}
            assert (await client.post(post_url, json=WHOAMI, headers=admin)).status_code == 202
            answer = await events.message()
            assert '"admin"' in answer["result"]["content"][0]["text"]  # 2024-11-05: text only
        finally:
            await response.aclose()


async def test_a_session_opened_without_auth_is_exactly_as_before() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app(auth=None)) as base, httpx.AsyncClient(timeout=WAIT) as c:
        response = await c.post(base + "/mcp", json=INITIALIZE, headers=bearer(None))
        assert response.status_code == 200 and "mcp-session-id" in response.headers
