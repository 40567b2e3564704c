"""Tasks (basic/utilities/tasks) over Streamable HTTP, served by uvicorn and spoken as raw
JSON-RPC with httpx: every status transition, input_required on the tasks/result stream,
status notifications on the GET stream, polls answered as JSON, and results fetched from a
new session after the first one ended."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from _serving import WAIT, serving
from _tasks_http import RELATED, Gate, Wire, error_of, make_server, ok, open_wire

from mcpkit.protocol import codes
from mcpkit.server.tasks.augmented import ANONYMOUS
from mcpkit.stores.event_log import MemoryEventStore
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.http.streams import MAX_RETAINED


async def test_working_then_completed_gives_the_plain_calls_result() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 21}, ttl=60_000)
        await gate.started.wait()
        got = ok(await wire.call("tasks/get", {"taskId": tid}))
        assert got["status"] == "working" and got["ttl"] == 60_000
        assert RELATED not in got.get("_meta", {})  # "SHOULD NOT" on tasks/get results
        gate.go.set()
        result = ok(await wire.call("tasks/result", {"taskId": tid}))
        assert result.pop("_meta") == {RELATED: {"taskId": tid}}
        assert result == ok(await wire.call("tools/call", {"name": "slow", "arguments": {"x": 21}}))
        assert ok(await wire.call("tasks/get", {"taskId": tid}))["status"] == "completed"
        refused = error_of(await wire.call("tasks/cancel", {"taskId": tid}))
        assert refused["code"] == codes.INVALID_PARAMS and "completed" in refused["message"]
        again = ok(await wire.call("tasks/result", {"taskId": tid}))
        assert again["structuredContent"] == {"result": 42}


async def test_a_tool_result_with_is_error_fails_the_task() -> None:
    gate = Gate()
    gate.go.set()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("broken")
        result = ok(await wire.call("tasks/result", {"taskId": tid}))
        assert result["isError"] is True and "the disk is full" in result["content"][0]["text"]
        got = ok(await wire.call("tasks/get", {"taskId": tid}))
        assert got["status"] == "failed" and "the disk is full" in got["statusMessage"]


async def test_a_tool_raising_a_protocol_error_gives_that_exact_error() -> None:
    gate = Gate()
    gate.go.set()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("refusing")
        reply = await wire.call("tasks/result", {"taskId": tid})
        assert error_of(reply) == {
            "code": codes.INVALID_PARAMS,
            "message": "no such thing",
            "data": {"why": "test"},
        }
        assert ok(await wire.call("tasks/get", {"taskId": tid}))["status"] == "failed"


async def test_cancel_cancels_the_coroutine_and_the_task_stays_cancelled() -> None:
    gate = Gate()
    server = make_server(gate)
    async with serving(server.http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 1})
        await gate.started.wait()
        cancelled = ok(await wire.call("tasks/cancel", {"taskId": tid}))
        assert cancelled["status"] == "cancelled" and cancelled["taskId"] == tid
        async with asyncio.timeout(WAIT):
            await gate.cancelled.wait()
        # A tool that swallows its cancellation and returns: the outcome is dropped.
        stubborn = await wire.create("stubborn")
        assert ok(await wire.call("tasks/cancel", {"taskId": stubborn}))["status"] == "cancelled"
        for task_id in (tid, stubborn):
            result = error_of(await wire.call("tasks/result", {"taskId": task_id}))
            assert result["code"] == codes.INVALID_PARAMS and "cancelled" in result["message"]
            assert ok(await wire.call("tasks/get", {"taskId": task_id}))["status"] == "cancelled"
        assert len(server.task_runner) == 0  # both works have ended


async def test_input_required_travels_on_the_tasks_result_stream() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        async with wire.listen() as events:
            tid = await wire.create("asking")
            gate.go.set()
            note = await events.next()  # told on the GET stream, as no tasks/result is open
        assert note["params"]["status"] == "input_required"
        assert ok(await wire.call("tasks/get", {"taskId": tid}))["status"] == "input_required"
        async with wire.stream("tasks/result", {"taskId": tid}) as result:
            ask = await result.next()
            assert ask["method"] == "elicitation/create"
            assert ask["params"]["_meta"] == {RELATED: {"taskId": tid}}
            answer = {
                "jsonrpc": "2.0",
                "id": ask["id"],
                "result": {"action": "accept", "content": {"n": "Ada"}},
            }
            assert (await wire.post(answer)).status_code == 202
            rest = await result.rest()
        statuses = [m["params"]["status"] for m in rest if "method" in m]
        assert statuses == ["working", "completed"]  # back to working, then done
        final = rest[-1]
        assert final["result"]["content"][0]["text"] == "hello Ada"
        assert final["result"]["_meta"] == {RELATED: {"taskId": tid}}


async def test_status_notifications_go_to_the_get_stream_when_no_result_call_is_open() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        async with wire.listen() as events:
            tid = await wire.create("slow", {"x": 2})
            gate.go.set()
            note = await events.next()
        assert note["method"] == "notifications/tasks/status"
        assert note["params"]["taskId"] == tid and note["params"]["status"] == "completed"
        assert RELATED not in note["params"].get("_meta", {})


async def test_without_a_get_stream_status_notifications_are_not_kept() -> None:
    gate = Gate()
    gate.go.set()
    app = make_server(gate).http_app()
    async with serving(app) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        for _ in range(MAX_RETAINED + 8):
            tid = await wire.create("slow", {"x": 1})
            ok(await wire.call("tasks/result", {"taskId": tid}))
        (session,) = [s for _, s in app.sessions.items()]
        assert session.stream is None  # no GET stream: nowhere to keep them, dropped
        # What is kept is the answered tasks/result streams, for a while, and at most these.
        store = app.streams.store
        assert isinstance(store, MemoryEventStore) and len(store) <= MAX_RETAINED


async def test_a_cut_get_stream_keeps_at_most_its_replay_window() -> None:
    gate = Gate()
    gate.go.set()
    app = make_server(gate).http_app(replay_window=4)
    store = app.streams.store
    async with serving(app) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        async with wire.listen() as events:
            tid = await wire.create("slow", {"x": 1})
            assert (await events.next())["params"]["taskId"] == tid
        # The client went away from its GET stream: what follows is kept for a resumption,
        # within the window (basic/transports, "Resumability and Redelivery").
        for _ in range(12):
            await wire.create("slow", {"x": 1})
        (session,) = [s for _, s in app.sessions.items()]
        get = session.stream
        assert store is not None and get is not None and get.id is not None
        assert get.seq == 13
        assert await store.replay_after(get.id, 0) is None  # the oldest are gone
        kept = await store.replay_after(get.id, get.seq - 4)
        assert kept is not None and [seq for seq, _ in kept] == [10, 11, 12, 13]


async def test_polls_are_answered_as_json_and_results_as_streams() -> None:
    gate = Gate()
    async with serving(make_server(gate).http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 3})
        for method in ("tasks/get", "tasks/cancel"):
            response = await wire.post(wire.message(method, {"taskId": tid}))
            assert response.headers["content-type"] == "application/json", method
            assert response.json()["result"]["taskId"] == tid
        result = await wire.post(wire.message("tasks/result", {"taskId": tid}))
        assert result.headers["content-type"].startswith("text/event-stream")
        gate.go.set()
        call = await wire.post(wire.message("tools/call", {"name": "slow", "arguments": {"x": 1}}))
        assert call.headers["content-type"].startswith("text/event-stream")
        unknown = await wire.post(wire.message("tasks/get", {"taskId": "nope"}))
        assert unknown.headers["content-type"] == "application/json"
        assert unknown.json()["error"]["code"] == codes.INVALID_PARAMS


async def test_a_result_is_fetched_from_a_new_session_after_delete() -> None:
    gate = Gate()
    server = make_server(gate)
    async with serving(server.http_app()) as base, httpx.AsyncClient() as http:
        first = await open_wire(http, base + "/mcp")
        tid = await first.create("slow", {"x": 5})
        await gate.started.wait()
        await first.delete()
        gate.go.set()  # the task runs on without its session
        second = await open_wire(http, base + "/mcp")
        result = ok(await second.call("tasks/result", {"taskId": tid}))
        assert result["structuredContent"] == {"result": 10}
        assert ok(await second.call("tasks/get", {"taskId": tid}))["status"] == "completed"


async def test_a_session_that_just_went_away_leaves_its_task_for_the_next() -> None:
    gate = Gate()
    server = make_server(gate)
    async with serving(server.http_app()) as base:
        async with httpx.AsyncClient() as gone:
            tid = await (await open_wire(gone, base + "/mcp")).create("asking")
        # That client never said goodbye; a new one asks for the result and gets the task's
        # question on its own tasks/result stream.
        async with httpx.AsyncClient() as http:
            second = await open_wire(http, base + "/mcp")
            gate.go.set()
            async with second.stream("tasks/result", {"taskId": tid}) as result:
                ask = await result.next()
                while ask.get("method") != "elicitation/create":
                    ask = await result.next()
                answer = {"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "decline"}}
                assert (await second.post(answer)).status_code == 202
                final = (await result.rest())[-1]
        assert final["result"]["content"][0]["text"] == "hello ?"


async def test_the_apps_shutdown_stops_running_tasks_and_marks_them_failed() -> None:
    gate = Gate()
    server = make_server(gate)
    async with serving(server.http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 1})
        await gate.started.wait()
    assert gate.cancelled.is_set()
    store = server.task_runner.store
    task = await store.get(ANONYMOUS, tid)
    assert task.status == "failed"
    assert task.status_message is not None and "shut down" in task.status_message
    outcome = await store.outcome(ANONYMOUS, tid)
    assert outcome is not None and outcome.error is not None
    assert outcome.error["code"] == codes.INTERNAL_ERROR


async def test_a_stateless_endpoint_runs_tasks_across_posts() -> None:
    gate = Gate()
    app = make_server(gate).http_app(stateless=True)
    async with serving(app) as base, httpx.AsyncClient() as http:
        # Each POST has a session of its own: the task outlives the one that created it.
        wire = Wire(http, base + "/mcp", sid=None, token=None)
        tid = await wire.create("slow", {"x": 9})
        polled = await wire.post(wire.message("tasks/get", {"taskId": tid}))
        assert polled.headers["content-type"] == "application/json"
        assert polled.json()["result"]["status"] == "working"
        gate.go.set()
        result = ok(await wire.call("tasks/result", {"taskId": tid}))
        assert result["structuredContent"] == {"result": 18}


async def test_a_session_that_idles_out_leaves_its_task_running() -> None:
    gate = Gate()
    server = make_server(gate)
    now = [0.0]
    app = McpHttpApp(server, session_idle_timeout=60, clock=lambda: now[0])
    async with serving(app) as base, httpx.AsyncClient() as http:
        first = await open_wire(http, base + "/mcp")
        tid = await first.create("slow", {"x": 12})
        await gate.started.wait()
        now[0] += 61
        assert await app.expire_idle() == 1  # the session ended, the task did not
        assert (await first.post(first.message("ping"))).status_code == 404
        assert len(server.task_runner) == 1
        second = await open_wire(http, base + "/mcp")
        gate.go.set()
        result = ok(await second.call("tasks/result", {"taskId": tid}))
        assert result["structuredContent"] == {"result": 24}
