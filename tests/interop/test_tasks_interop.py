"""Tasks (SEP-1686, basic/utilities/tasks) between mcpkit and the TypeScript SDK 1.32's
experimental tasks, over Streamable HTTP on 127.0.0.1, both ways round:

- the mcpkit client as requestor against a TS server with task tools
  (peers/tasks_ts_server.mjs): every state, progress after the task was created, status
  notifications, input_required with an elicitation, failure, cancellation, listing, expiry,
  and a result fetched by id from another session;
- the TS client (`client.experimental.tasks`, peers/tasks_ts_client.mjs) against the mcpkit
  server with task tools (peers/tasks_mcpkit_server.py), unprotected and protected (tasks
  bound to the token, tasks/list offered);
- the mcpkit client against that same mcpkit server over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _processes import finished, starts
from interop_harness import HERE, PEERS, SUBPROCESS_TIMEOUT, peer_env, require_node

from mcpkit import Client, McpError
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.protocol import codes
from mcpkit.transports.http_client import StreamableHttpTransport
from mcpkit.types import ElicitResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
sys.path.insert(0, str(PEERS))
from _serving import serving
from tasks_mcpkit_server import make_server

WAIT = SUBPROCESS_TIMEOUT
ALICE, BOB = "tok-alice-51c2", "tok-bob-9e07"


@contextlib.asynccontextmanager
async def ts_tasks_server() -> AsyncIterator[str]:
    """Run peers/tasks_ts_server.mjs; yields its base URL (add /mcp or /shared)."""
    process = await asyncio.create_subprocess_exec(
        require_node(),
        str(PEERS / "tasks_ts_server.mjs"),
        stdout=subprocess.PIPE,  # its stderr is ours: a failure shows there
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(WAIT):
            port = json.loads(await process.stdout.readline())["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


def client(url: str, token: str | None = None, **options: Any) -> Client:
    """mcpkit's client, in a 2025-11-25 session: these are that revision's tasks (the client
    asks for them; tests/server/test_tasks_extension.py has 2026-07-28's)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    transport = StreamableHttpTransport(url, headers=headers, reconnect_delay=0.05)
    return Client(transport, **{"protocol": "2025-11-25", **options})


async def test_a_task_runs_from_working_to_completed_with_its_progress() -> None:
    seen: list[tuple[float, float | None]] = []
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            tools = {t.name: t.execution for t in await mcp.list_tools()}
            assert tools["job"] is not None and tools["job"].task_support == "required"
            handle = await mcp.call_tool_as_task(
                "job", {"steps": 3}, ttl=60_000, progress=lambda p, t, m: seen.append((p, t))
            )
            assert handle.status == "working" and handle.task.ttl == 60_000
            assert (await handle.wait()).status == "completed"
            result = await handle.result()
    assert result.text == "3 steps" and not result.is_error
    assert seen == [(1, 3), (2, 3), (3, 3)]  # sent after the CreateTaskResult


async def test_call_tool_with_task_just_works_for_required_and_optional_tools() -> None:
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            added = await mcp.call_tool("add_later", {"a": 2, "b": 3}, task=True)
            job = await mcp.call_tool("job", {"steps": 1}, task=30_000)
            plain_optional = await mcp.call_tool("add_later", {"a": 1, "b": 1})
            plain_required = await mcp.call_tool("job", {"steps": 1})
    assert added.structured_content == {"result": 5} and added.text == "5"
    assert job.text == "1 steps"
    assert plain_optional.structured_content == {"result": 2}  # the SDK polls for us
    # The SDK turns its -32601 for a required tool called plainly into an error result.
    assert plain_required.is_error and "requires task augmentation" in plain_required.text


async def test_status_notifications_reach_the_live_handle() -> None:
    statuses: list[str] = []
    arrived = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tasks/status":
            statuses.append(params.status)
            if params.status == "completed":
                arrived.set()

    async with (
        ts_tasks_server() as base,
        client(base + "/mcp", on_notification=on_notification) as mcp,
    ):
        async with asyncio.timeout(WAIT):
            handle = await mcp.call_tool_as_task("add_later", {"a": 1, "b": 2})
            await arrived.wait()
            assert handle.status == "completed"  # no tasks/get was asked
            assert (await handle.result()).structured_content == {"result": 3}
    assert statuses[-1] == "completed"


async def test_input_required_is_answered_through_tasks_result() -> None:
    asked: list[str] = []

    def elicit(params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"name": "Ada"})

    async with ts_tasks_server() as base, client(base + "/mcp", elicitation_handler=elicit) as mcp:
        async with asyncio.timeout(WAIT):
            handle = await mcp.call_tool_as_task("ask_name")
            final = await handle.wait()
            result = await handle.result()
    assert final.status == "completed"
    assert asked == ["Your name?"]
    assert result.text == "hello Ada"


async def test_a_failed_task_returns_its_error_result() -> None:
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            handle = await mcp.call_tool_as_task("explode")
            assert (await handle.wait()).status == "failed"
            result = await handle.result()
            assert (await mcp.call_tool("explode", task=True)).is_error
    assert result.is_error and result.text == "it broke"


async def test_cancel_and_a_refused_second_cancel() -> None:
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            handle = await mcp.call_tool_as_task("forever")
            cancelled = await handle.cancel()
            assert cancelled.status == "cancelled" and handle.done
            with pytest.raises(McpError, match="terminal status") as refused:
                await handle.cancel()
            assert refused.value.code == codes.INVALID_PARAMS
            assert (await mcp.get_task(handle.id)).status == "cancelled"


async def test_list_tasks_follows_the_pages() -> None:
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            made = [(await mcp.call_tool_as_task("forever")).id for _ in range(12)]
            first = await mcp.list_tasks_page()
            listed = [t.task_id for t in await mcp.list_tasks()]
    assert len(first.tasks) == 10 and first.next_cursor is not None  # the SDK's page size
    assert listed == made


async def test_unknown_and_expired_tasks_are_invalid_params() -> None:
    async with ts_tasks_server() as base, client(base + "/mcp") as mcp:
        async with asyncio.timeout(WAIT):
            with pytest.raises(McpError, match="Task not found") as unknown:
                await mcp.get_task("no-such-task")
            assert unknown.value.code == codes.INVALID_PARAMS
            handle = await mcp.call_tool_as_task("forever", ttl=100)
            with pytest.raises(McpError) as expired:
                while True:  # until the SDK drops it, 100 ms after its creation
                    await handle.refresh()
                    await asyncio.sleep(0.05)
            assert expired.value.code == codes.INVALID_PARAMS


async def test_another_session_fetches_a_result_by_id_where_tasks_are_shared() -> None:
    async with ts_tasks_server() as base:
        async with asyncio.timeout(WAIT):
            async with client(base + "/shared") as first:
                task_id = (await first.call_tool_as_task("job", {"steps": 2})).id
            async with client(base + "/shared") as second:
                handle = await second.task_handle(task_id)
                result = await handle.result()
                assert (await second.get_task(task_id)).status == "completed"
            async with client(base + "/mcp") as bound, client(base + "/mcp") as other:
                mine = (await bound.call_tool_as_task("forever")).id
                with pytest.raises(McpError, match="Task not found"):
                    await other.get_task(mine)  # bound to the session that made it
    assert result.text == "2 steps"


# ------------------------------------------- the TS client against the mcpkit server


class TwoTokens:
    """A `TokenVerifier` that knows alice's and bob's tokens."""

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        who = {ALICE: "alice", BOB: "bob"}.get(token)
        if who is None:
            raise InvalidToken("the token is unknown")
        return AccessToken(subject=who, client_id="interop", scopes=frozenset({"mcp"}))


async def ts_client(url: str, token: str | None = None) -> dict[str, Any]:
    """Run peers/tasks_ts_client.mjs against `url` (awaited: this loop serves `url`)."""
    proc = await asyncio.create_subprocess_exec(
        require_node(),
        str(PEERS / "tasks_ts_client.mjs"),
        url,
        *([token] if token else []),
        cwd=HERE,
        env=peer_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT):
        out, err = await finished(proc)
    assert proc.returncode == 0, f"TypeScript client failed:\n{err.decode()}"
    summary: dict[str, Any] = json.loads(out)
    return summary


def check_flows(summary: dict[str, Any]) -> None:
    assert summary["task_support"] == {
        "add_later": "optional",
        "job": "required",
        "explode": "optional",
        "ask_name": "required",
        "forever": "required",
    }
    assert summary["add_later"] == {
        "kinds": ["taskCreated", "taskStatus", "result"],
        "last": "completed",
        "structured": {"result": 5},
    }
    assert summary["job"] == {"text": "3 steps", "progress": [[1, 3], [2, 3], [3, 3]]}
    explode = summary["explode"]
    assert (explode["last"], explode["is_error"], explode["text"]) == ("failed", True, "it broke")
    ask = summary["ask_name"]
    assert ask["statuses"] == ["input_required"] and ask["text"] == "hello Ada"
    (question,) = ask["asked"]
    assert question["message"] == "Your name?" and question["related"]["taskId"]
    assert summary["forever"] == {
        "created": "working",
        "got": "working",
        "cancelled": "cancelled",
        "cancel_again": codes.INVALID_PARAMS,
        "result": codes.INVALID_PARAMS,
        "after": "cancelled",
    }
    assert summary["unknown"] == codes.INVALID_PARAMS


async def test_the_typescript_client_runs_every_flow_against_the_mcpkit_server() -> None:
    async with serving(make_server().http_app()) as base:
        summary = await ts_client(base + "/mcp")
    check_flows(summary)
    assert summary["capabilities"] == {"cancel": {}, "requests": {"tools": {"call": {}}}}
    # Without authorization requestors cannot be told apart: no tasks/list (Security).
    assert summary["list"] == codes.METHOD_NOT_FOUND


@starts(2)
async def test_protected_tasks_are_bound_to_the_token_and_listed_for_it() -> None:
    server = make_server(auth=ProtectedResource(verifier=TwoTokens()))
    async with serving(server.http_app()) as base:
        alice = await ts_client(base + "/mcp", ALICE)
        bob = await ts_client(base + "/mcp", BOB)
        async with client(base + "/mcp", ALICE) as ours:
            mine = {t.task_id for t in await ours.list_tasks()}
            assert (await ours.get_task(alice["created"][0])).status == "completed"
        async with client(base + "/mcp", BOB) as other:
            with pytest.raises(McpError) as hidden:
                await other.get_task(alice["created"][0])
    check_flows(alice)
    assert "list" in alice["capabilities"]
    assert set(alice["created"]) <= set(alice["list"]) and set(alice["created"]) <= mine
    assert not set(alice["created"]) & set(bob["list"])
    assert hidden.value.code == codes.INVALID_PARAMS


# ------------------------------------------------------ mcpkit to mcpkit over HTTP


async def test_the_mcpkit_client_against_the_mcpkit_server_over_http() -> None:
    seen: list[float] = []

    def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    async with serving(make_server().http_app()) as base, asyncio.timeout(WAIT):
        async with client(base + "/mcp", elicitation_handler=elicit) as mcp:
            job = await mcp.call_tool_as_task(
                "job", {"steps": 3}, progress=lambda p, t, m: seen.append(p)
            )
            assert (await job.wait()).status == "completed"
            assert (await job.result()).text == "3 steps"
            assert (await mcp.call_tool("ask_name", task=True)).text == "hello Ada"
            assert (await mcp.call_tool("explode", task=True)).is_error
            forever = await mcp.call_tool_as_task("forever")
            assert (await forever.cancel()).status == "cancelled"
            with pytest.raises(McpError) as again:
                await forever.cancel()
            assert again.value.code == codes.INVALID_PARAMS
            added = (await mcp.call_tool_as_task("add_later", {"a": 2, "b": 3})).id
        async with client(base + "/mcp") as later:  # a new session fetches it by id
            assert (await later.task_result(added)).structured_content == {"result": 5}
    assert seen == [1, 2, 3]
