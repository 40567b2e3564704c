"""Per-tool, per-resource, per-template and per-prompt scopes: a caller whose token lacks them
does not see the item listed, and its call gets HTTP 403 `insufficient_scope` naming the
scopes to step up to (spec: basic/authorization, "Runtime Insufficient Scope Errors"); with
them, it is served. Without auth (stdio, memory) scopes are not enforced."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _resource_helpers import ADMIN, ALICE, bearer, call, open_as, scoped_server
from _serving import WAIT, messages_of, serving

from mcpkit import Context, Server
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import McpError
from mcpkit.server.catalog.visibility.access import check_access
from mcpkit.testing import connected

LISTS = [
    ("tools/list", "tools", "name", {"whoami"}, {"whoami", "deploy"}),
    (
        "resources/list",
        "resources",
        "uri",
        {"config://public"},
        {"config://public", "config://secret"},
    ),
    (
        "resources/templates/list",
        "resourceTemplates",
        "uriTemplate",
        set(),
        {"users://{name}/keys"},
    ),
    ("prompts/list", "prompts", "name", set(), {"incident"}),
]
REFUSED = [
    call(5, "tools/call", name="deploy", arguments={}),
    call(5, "resources/read", uri="config://secret"),
    call(5, "resources/read", uri="users://alice/keys"),
    call(5, "resources/subscribe", uri="config://secret"),
    call(5, "prompts/get", name="incident", arguments={"service": "db"}),
]


async def _answer(client: httpx.AsyncClient, url: str, token: str, sid: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=bearer(token, sid))
    assert response.status_code == 200, response.text
    (message,) = messages_of(response)
    return message


@pytest.mark.parametrize(("method", "key", "field", "plain", "admin"), LISTS)
async def test_lists_hide_what_the_token_cannot_use(
    method: str, key: str, field: str, plain: set[str], admin: set[str]
) -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        listed = await _answer(client, url, ALICE, sid, call(2, method))
        assert {item[field] for item in listed["result"][key]} == plain
        # The same session, with a token that has stepped up: everything is listed.
        listed = await _answer(client, url, ADMIN, sid, call(3, method))
        assert {item[field] for item in listed["result"][key]} == admin


@pytest.mark.parametrize("body", REFUSED, ids=lambda body: body["method"])
async def test_calls_without_the_item_s_scopes_get_403_for_step_up(body: Any) -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        response = await client.post(url, json=body, headers=bearer(ALICE, sid))
        assert response.status_code == 403
        challenge = response.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge
        # The scopes to ask for keep what the token has (spec: the recommended approach).
        assert 'scope="mcp admin"' in challenge
        assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
        assert response.json()["error"] == "insufficient_scope"
        # After stepping up, the same session serves it.
        answer = await _answer(client, url, ADMIN, sid, body)
        assert "result" in answer, answer


async def test_completions_of_a_scoped_prompt_need_its_scopes() -> None:
    server, _ = scoped_server()

    @server.completion(prompt="incident", argument="service")
    def services(value: str, given: dict[str, str]) -> list[str]:
        return ["db", "web"]

    complete = call(
        2,
        "completion/complete",
        ref={"type": "ref/prompt", "name": "incident"},
        argument={"name": "service", "value": ""},
    )
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        refused = await _answer(client, url, ALICE, sid, complete)
        assert "needs scope admin" in refused["error"]["message"]
        allowed = await _answer(client, url, ADMIN, sid, complete)
        assert allowed["result"]["completion"]["values"] == ["db", "web"]


async def test_a_2025_03_26_batch_needing_a_scope_is_refused_whole() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        batch = [call(2, "tools/call", name="whoami", arguments={}), REFUSED[0]]
        response = await client.post(url, json=batch, headers=bearer(ALICE, sid))
        assert response.status_code == 403


@pytest.mark.parametrize(
    "odd",
    [
        {"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": 5}},
        {"foo": 1},
        7,
        {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": "deploy"},
    ],
)
async def test_a_malformed_element_does_not_hide_a_scoped_call_in_a_batch(odd: Any) -> None:
    # Issue 19: a batch the scope check could not decode as a whole skipped its 403, and
    # the handler refused the scoped call with -32602 inside a 200: no step-up possible.
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        batch = [call(4, "tools/call", name="deploy", arguments={}), odd]
        response = await client.post(url, json=batch, headers=bearer(ALICE, sid))
        assert response.status_code == 403, response.text
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_unscoped_calls_and_unknown_items_pass_to_the_server() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        who = await _answer(client, url, ALICE, sid, call(2, "tools/call", name="whoami"))
        assert who["result"]["structuredContent"] == {"subject": "alice", "scopes": ["mcp"]}
        unknown = await _answer(client, url, ALICE, sid, call(3, "tools/call", name="nope"))
        assert unknown["error"]["code"] == -32602
        odd = await _answer(client, url, ALICE, sid, call(4, "tools/call", name=5))
        assert odd["error"]["code"] == -32602  # the session says what is wrong


async def test_over_memory_scopes_are_not_enforced_and_ctx_auth_is_none() -> None:
    server, _ = scoped_server()
    seen: list[object] = []

    @server.tool()
    def probe(ctx: Context) -> str:
        seen.append(ctx.auth)
        return "ok"

    server.remove_tool("whoami")
    async with connected(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert {"deploy", "probe"} <= names
        assert (await client.call_tool("deploy")).content[0].text == "deployed"  # type: ignore[union-attr]
        await client.call_tool("probe")
    assert seen == [None]


def test_the_handlers_refuse_a_token_set_by_another_transport() -> None:
    server = Server("t")

    @server.tool(scopes=["admin"])
    def deploy() -> str:
        return "deployed"

    spec = server.tools.get("deploy")
    assert spec is not None
    check_access(spec, None, "tool", "deploy")
    check_access(spec, AccessToken(scopes=frozenset({"admin"})), "tool", "deploy")
    with pytest.raises(McpError, match="tool 'deploy' needs scope admin"):
        check_access(spec, AccessToken(scopes=frozenset({"mcp"})), "tool", "deploy")


def test_scope_mistakes_are_named_where_they_were_made() -> None:
    server = Server("t")
    with pytest.raises(ValueError, match="give scopes as a list"):
        server.tool(name="t", scopes="admin")(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"prompt 'p'.*not one scope token"):
        server.prompt(name="p", scopes=["a b"])(lambda: "x")
    with pytest.raises(ValueError, match="resource 'r://x'"):
        server.resource("r://x", scopes=['"'])(lambda: "x")
