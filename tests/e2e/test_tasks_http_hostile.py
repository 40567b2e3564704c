"""Tasks over Streamable HTTP against a broken or malicious client: task ids and task fields
of every wrong shape, a flood of tasks/result on one task, a task whose client never comes
back, and a full store. Each gets a JSON-RPC answer and the session goes on; nothing is left
behind once the tasks are over."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from _serving import WAIT, messages_of, serving
from _tasks_http import Gate, error_of, make_server, ok, open_wire

from mcpkit.protocol import codes
from mcpkit.stores.tasks import MemoryTaskStore

BAD_TASK_IDS: list[Any] = [123, None, {"a": 1}, ["x"], True, 1.5]


async def test_task_ids_of_any_size_or_type_are_invalid_params() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        huge = "t" * 1_000_000
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            response = await wire.post(wire.message(method, {"taskId": huge}))
            (answer,) = messages_of(response)
            assert error_of(answer)["code"] == codes.INVALID_PARAMS
            assert len(response.content) < 1000  # the id is not echoed back whole
            for bad in BAD_TASK_IDS:
                refused = error_of(await wire.call(method, {"taskId": bad}))
                assert refused["code"] == codes.INVALID_PARAMS, (method, bad)
            missing = error_of(await wire.call(method, {}))
            assert missing["code"] == codes.INVALID_PARAMS
        gate.go.set()
        assert ok(await wire.call("tools/call", {"name": "slow", "arguments": {"x": 1}}))


@pytest.mark.parametrize(
    "task",
    ["x", 5, [], True, {"ttl": -1}, {"ttl": 0}, {"ttl": -0.5}, {"ttl": "5"}],
    ids=repr,
)
async def test_a_bad_task_field_is_refused_and_starts_nothing(task: Any) -> None:
    gate = Gate()
    server = make_server(gate)
    async with serving(server.http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        params = {"name": "slow", "arguments": {"x": 1}, "task": task}
        refused = error_of(await wire.call("tools/call", params))
        assert refused["code"] == codes.INVALID_PARAMS
        assert "ttl" in refused["message"] or "task" in refused["message"]
        assert len(server.task_runner) == 0 and not gate.started.is_set()


async def test_a_huge_ttl_is_lowered_to_the_stores_maximum() -> None:
    gate = Gate()
    gate.go.set()
    store = MemoryTaskStore(max_ttl=60_000, default_ttl=1_000)
    async with serving(make_server(gate, task_store=store).http_app()) as base:
        async with httpx.AsyncClient() as http:
            wire = await open_wire(http, base + "/mcp")
            for ttl in (2**62, 10**30, 1e308):  # "Receivers MAY override the requested ttl"
                params = {"name": "slow", "arguments": {"x": 1}, "task": {"ttl": ttl}}
                assert ok(await wire.call("tools/call", params))["task"]["ttl"] == 60_000
            # schema.ts's ttl is a number: a fraction of a millisecond is rounded up.
            params = {"name": "slow", "arguments": {"x": 1}, "task": {"ttl": 1500.5}}
            assert ok(await wire.call("tools/call", params))["task"]["ttl"] == 1_501


async def test_any_spelling_of_a_poll_is_answered_as_json() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 1})
        spellings = [
            '{"params": {"taskId": "%s"}, "id": 5, "method": "tasks/get", "jsonrpc": "2.0"}',
            '{"jsonrpc":"2.0","id":"a/b","method":"tasks\\/get","params":{"taskId":"%s"}}',
            '{ "jsonrpc" : "2.0" , "id" : 6 , "method" : "tasks/get" , '
            '"params" : { "taskId" : "%s", "_meta": {"x": "tasks/result"} } }',
        ]
        for spelling in spellings:
            body = (spelling % tid).encode()
            response = await http.post(wire.url, content=body, headers=wire.headers())
            assert response.headers["content-type"] == "application/json", spelling
            assert response.json()["result"]["taskId"] == tid
        # What is not a poll keeps its stream: a batch (refused in this revision), bad JSON.
        for body in (b'[{"jsonrpc":"2.0","id":1,"method":"tasks/get"}]', b'{"method":"tasks/get"'):
            response = await http.post(wire.url, content=body, headers=wire.headers())
            assert response.status_code == 400
        gate.go.set()


async def test_a_flood_of_result_calls_is_bounded_and_leaves_nothing() -> None:
    gate = Gate()
    server = make_server(gate, max_inflight=8)
    app = server.http_app()
    async with serving(app) as base, httpx.AsyncClient(timeout=WAIT) as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 6})
        await gate.started.wait()
        calls = [
            asyncio.ensure_future(wire.call("tasks/result", {"taskId": tid})) for _ in range(30)
        ]
        # Past max_inflight the session refuses at once; those in flight wait for the end.
        refused: list[dict[str, Any]] = []
        async with asyncio.timeout(WAIT):
            while len(refused) < 30 - 8:
                done, _ = await asyncio.wait(
                    [c for c in calls if c not in refused], return_when=asyncio.FIRST_COMPLETED
                )
                refused += [c for c in done]
        assert all(error_of(c.result())["code"] == codes.INTERNAL_ERROR for c in refused)
        assert "in flight" in error_of(refused[0].result())["message"]
        gate.go.set()
        answers = await asyncio.gather(*[c for c in calls if c not in refused])
        assert [ok(a)["structuredContent"] for a in answers] == [{"result": 12}] * 8
        # The session serves on, and holds nothing for the flood any more.
        assert ok(await wire.call("tasks/get", {"taskId": tid}))["status"] == "completed"
        (session,) = [s for _, s in app.sessions.items()]
        assert session.idle_since is not None
        assert len(server.task_runner) == 0


async def test_a_task_whose_client_never_comes_back_ends_with_its_ttl() -> None:
    gate = Gate()
    server = make_server(gate)
    store = server.task_runner.store
    assert isinstance(store, MemoryTaskStore)
    async with serving(server.http_app()) as base:
        async with httpx.AsyncClient() as gone:
            wire = await open_wire(gone, base + "/mcp")
            tid = await wire.create("slow", {"x": 1}, ttl=300)
        # Never let through, never asked about: its ttl stops the work and frees the entry.
        async with asyncio.timeout(WAIT):
            await gate.cancelled.wait()
        async with httpx.AsyncClient() as http:
            later = await open_wire(http, base + "/mcp")
            refused = error_of(await later.call("tasks/get", {"taskId": tid}))
            assert refused["code"] == codes.INVALID_PARAMS
        assert len(store) == 0 and len(server.task_runner) == 0


async def test_a_full_store_of_working_tasks_refuses_new_ones_with_internal_error() -> None:
    gate = Gate()
    store = MemoryTaskStore(max_tasks=3)
    async with serving(make_server(gate, task_store=store).http_app()) as base:
        async with httpx.AsyncClient() as http:
            wire = await open_wire(http, base + "/mcp")
            made = [await wire.create("slow", {"x": i}) for i in range(3)]
            params = {"name": "slow", "arguments": {"x": 9}, "task": {}}
            refused = error_of(await wire.call("tools/call", params))
            assert refused["code"] == codes.INTERNAL_ERROR
            assert "Too many tasks" in refused["message"]
            # A cancelled task is finished: the oldest finished one makes room for a new one,
            # so a full store never locks everyone out until ttls run out.
            ok(await wire.call("tasks/cancel", {"taskId": made[0]}))
            made[0] = await wire.create("slow", {"x": 9})
            gate.go.set()
            assert ok(await wire.call("tasks/result", {"taskId": made[1]}))
