"""A mounted server's task tools and scoped items over Streamable HTTP: the task tests of
test_tasks_http_client again with their server mounted, and a protected parent that hides,
refuses (403 for step-up) and serves a mounted server's scoped items under their new names."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))

import test_tasks_http_client
from _resource_helpers import ADMIN, ALICE, TableVerifier, bearer, call, open_as, scoped_server
from _serving import WAIT, messages_of, serving
from _tasks_http import Gate
from test_mounted_features import parent_of

from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource

TASK_TESTS = [
    ("test_a_task_created_polled_and_fetched", {"json_response": False}),
    ("test_a_task_created_polled_and_fetched", {"json_response": True}),
    ("test_a_task_that_elicits_is_answered_by_the_clients_handler", {"json_response": False}),
    ("test_cancel_and_then_the_result_is_an_error", {}),
    ("test_a_new_client_fetches_what_a_closed_one_started", {}),
    ("test_the_requestor_api_over_http", {"json_response": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), TASK_TESTS, ids=lambda v: str(v))
async def test_mounted_task_tools_over_http(
    monkeypatch: pytest.MonkeyPatch, name: str, kwargs: dict[str, Any]
) -> None:
    build = test_tasks_http_client.make_server

    def mounted(gate: Gate, **options: Any) -> Server:
        return parent_of(build(gate, **options))

    monkeypatch.setattr(test_tasks_http_client, "make_server", mounted)
    await getattr(test_tasks_http_client, name)(**kwargs)


def protected_parent() -> Server:
    """A protected parent mounting the scoped server of the auth tests under "ops"."""
    child, _ = scoped_server()
    parent = Server(
        "protected",
        auth=ProtectedResource(verifier=TableVerifier(), required_scopes=["mcp"]),
    )
    parent.mount(child, namespace="ops")
    return parent


async def _answer(client: httpx.AsyncClient, url: str, token: str, sid: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=bearer(token, sid))
    assert response.status_code == 200, response.text
    (message,) = messages_of(response)
    return message


async def test_a_mounted_server_s_scoped_items_are_hidden_refused_and_served() -> None:
    parent = protected_parent()
    async with serving(parent.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        sid = await open_as(client, url, ALICE)
        listed = await _answer(client, url, ALICE, sid, call(2, "tools/list"))
        assert [tool["name"] for tool in listed["result"]["tools"]] == ["ops_whoami"]
        who = await _answer(client, url, ALICE, sid, call(3, "tools/call", name="ops_whoami"))
        assert who["result"]["structuredContent"] == {"subject": "alice", "scopes": ["mcp"]}
        for body in [
            call(4, "tools/call", name="ops_deploy", arguments={}),
            call(5, "resources/read", uri="config://ops/secret"),
            call(6, "resources/read", uri="users://ops/alice/keys"),
            call(7, "prompts/get", name="ops_incident", arguments={"service": "db"}),
        ]:
            refused = await client.post(url, json=body, headers=bearer(ALICE, sid))
            assert refused.status_code == 403, body
            assert 'scope="mcp admin"' in refused.headers["www-authenticate"]
            served = await _answer(client, url, ADMIN, sid, body)
            assert "result" in served, served
        keys = await _answer(client, url, ADMIN, sid, call(8, "resources/templates/list"))
        templates = [t["uriTemplate"] for t in keys["result"]["resourceTemplates"]]
        assert templates == ["users://ops/{name}/keys"]
