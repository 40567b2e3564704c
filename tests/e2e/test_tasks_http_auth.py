"""Tasks on a protected Streamable HTTP endpoint (basic/utilities/tasks, "Task Isolation and
Access Control"): a task belongs to the identity whose token created it, on any session of
that identity, and is unknown (-32602) to every other one; tasks/list is declared and lists
only the caller's tasks; without authorization it is not offered (-32601)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))

from _resource_helpers import ADMIN, ALICE, BOB, ROBOT, TableVerifier
from _serving import serving
from _tasks_http import Gate, error_of, make_server, ok, open_wire

from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.protocol import codes
from mcpkit.stores.tasks import MemoryTaskStore


def protected(gate: Gate, **store: int) -> Server:
    resource = ProtectedResource(verifier=TableVerifier(), required_scopes=["mcp"])
    return make_server(gate, auth=resource, task_store=MemoryTaskStore(**store))


async def test_declares_tasks_list_and_answers_polls_as_json() -> None:
    gate = Gate()
    async with serving(protected(gate).http_app()) as base, httpx.AsyncClient() as http:
        url = base + "/mcp"
        init = await http.post(
            url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            },
            headers={
                "accept": "application/json, text/event-stream",
                "content-type": "application/json",
                "authorization": f"Bearer {ALICE}",
            },
        )
        body = init.text.split("data: ")[-1]
        assert '"list":{}' in body and '"cancel":{}' in body
        wire = await open_wire(http, url, ALICE)
        listed = await wire.post(wire.message("tasks/list"))
        assert listed.headers["content-type"] == "application/json"
        assert listed.json()["result"] == {"tasks": []}


@pytest.mark.parametrize("intruder", [BOB, ROBOT])
async def test_another_identity_cannot_see_or_touch_a_task(intruder: str) -> None:
    gate = Gate()
    async with serving(protected(gate).http_app()) as base, httpx.AsyncClient() as http:
        url = base + "/mcp"
        alice = await open_wire(http, url, ALICE)
        tid = await alice.create("slow", {"x": 4})
        other = await open_wire(http, url, intruder)
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            refused = error_of(await other.call(method, {"taskId": tid}))
            assert refused["code"] == codes.INVALID_PARAMS, method
            assert "not found" in refused["message"]
        assert ok(await other.call("tasks/list")) == {"tasks": []}
        # Untouched by all that, and alice's from a new session with another token of hers.
        again = await open_wire(http, url, ADMIN)
        assert ok(await again.call("tasks/get", {"taskId": tid}))["status"] == "working"
        assert [t["taskId"] for t in ok(await again.call("tasks/list"))["tasks"]] == [tid]
        gate.go.set()
        result = ok(await again.call("tasks/result", {"taskId": tid}))
        assert result["structuredContent"] == {"result": 8}


async def test_tasks_list_pages_and_refuses_a_cursor_it_did_not_give() -> None:
    gate = Gate()
    gate.go.set()
    app = protected(gate, page_size=2).http_app()
    async with serving(app) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp", ALICE)
        made = [await wire.create("slow", {"x": i}) for i in range(5)]
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            page = ok(await wire.call("tasks/list", {"cursor": cursor} if cursor else None))
            seen += [t["taskId"] for t in page["tasks"]]
            cursor = page.get("nextCursor")
            if cursor is None:
                break
        assert seen == made  # oldest first, each once
        for garbage in ("garbage", "x" * 5000, "", "!!", "0" * 64):
            reply = await wire.call("tasks/list", {"cursor": garbage})
            if garbage == "":  # an empty cursor is no cursor: the first page
                assert len(ok(reply)["tasks"]) == 2
            else:
                assert error_of(reply)["code"] == codes.INVALID_PARAMS, garbage
        for wrong in (5, None, {"a": 1}, ["x"]):
            reply = await wire.call("tasks/list", {"cursor": wrong})
            if wrong is None:
                assert "result" in reply
            else:
                assert error_of(reply)["code"] == codes.INVALID_PARAMS, wrong


async def test_without_authorization_tasks_list_is_not_offered() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        refused = error_of(await wire.call("tasks/list"))
        assert refused["code"] == codes.METHOD_NOT_FOUND
