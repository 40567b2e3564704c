"""Tasks through a proxy (basic/utilities/tasks), both ways: the upstream's task tools called
as tasks by the client (progress after creation, input_required answered on the tasks/result
call, cancel, a result fetched from a new session), the upstream's task-augmented requests to
the client, and, behind `auth=`, each identity kept to its own tasks although the upstream
sees one requestor."""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from _proxying import WAIT
from _serving import serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from _resource_helpers import ADMIN, ALICE, BOB, ROBOT, TableVerifier
from _tasks_http import Gate, error_of, make_server, ok, open_wire

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.proxy import ProxyServer
from mcpkit.proxy.task_owners import TaskOwners
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import raw_session
from mcpkit.types import ElicitRequestParams, TaskMetadata

# The session proxy of 2025-11-25 (one upstream session per client session): the client is
# pinned to that revision. tests/proxy/test_proxy_2026.py covers 2026-07-28 clients.
Client = functools.partial(Client, protocol="2025-11-25")

RELATED = "io.modelcontextprotocol/related-task"
TASKS_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tasks.py"
FORMAT = {"type": "object", "properties": {"format": {"type": "string", "enum": ["pdf", "html"]}}}
NAME = {"type": "object", "properties": {"n": {"type": "string"}}}


def upstream(**options: Any) -> Server:
    server = Server("upstream-tasks", task_store=MemoryTaskStore(poll_interval=50), **options)

    @server.tool(task=True)
    async def render(frames: int, ctx: Context) -> str:
        for frame in range(1, frames + 1):
            await asyncio.sleep(0.005)
            await ctx.progress(frame, total=frames)
        return f"rendered {frames}"

    @server.tool(task="required")
    async def report(ctx: Context) -> str:
        answer = await ctx.elicit("Which format?", FORMAT)
        return f"report as {answer.data['format'] if answer.data else '?'}"

    @server.tool(task=True)
    async def forever() -> str:
        await asyncio.Event().wait()
        return "never"

    @server.tool
    async def ask_client(ctx: Context) -> str:
        answer = await ctx.elicit("Name?", NAME, task=True)  # a task of the client's
        return f"hello {answer.data['n'] if answer.data else '?'}"

    return server


class Host:
    def __init__(self) -> None:
        self.elicited: list[ElicitRequestParams] = []

    async def elicit(self, params: ElicitRequestParams) -> dict[str, Any]:
        self.elicited.append(params)
        if "format" in str(params):
            return {"action": "accept", "content": {"format": "html"}}
        return {"action": "accept", "content": {"n": "Ada"}}


def text(result: Any) -> str:
    return str(result.content[0].text)


async def check_task_flows(client: Client, host: Host) -> None:
    """What a client does with the upstream's task tools, through the proxy."""
    caps = client.server_capabilities.tasks
    assert caps is not None and caps.requests is not None and caps.requests.tools is not None
    seen: list[tuple[float, float | None]] = []
    handle = await client.call_tool_as_task(
        "render", {"frames": 5}, progress=lambda p, t, m: seen.append((p, t))
    )
    assert handle.status == "working"
    assert text(await handle.result(timeout=WAIT)) == "rendered 5"
    assert (await client.get_task(handle.id)).status == "completed"
    assert seen == [(n, 5) for n in range(1, 6)]  # progress after the CreateTaskResult too

    with pytest.raises(McpError) as plain:  # the upstream's own tool-level refusal
        await client.call_tool("report", {})
    assert plain.value.code == codes.METHOD_NOT_FOUND
    report = await client.call_tool_as_task("report", {})
    assert text(await report.result(timeout=WAIT)) == "report as html"  # input_required
    asked = host.elicited[-1]
    assert (asked.meta or {})[RELATED] == {"taskId": report.id}

    forever = await client.call_tool_as_task("forever", {})
    assert (await forever.cancel()).status == "cancelled"
    assert (await client.get_task(forever.id)).status == "cancelled"


async def test_a_proxy_forwards_the_upstreams_tasks_in_memory() -> None:
    host = Host()
    proxy = ProxyServer(upstream())
    async with (
        asyncio.timeout(WAIT),
        Client(proxy, elicitation_handler=host.elicit) as client,
    ):
        await check_task_flows(client, host)
    assert proxy.links == {}


async def test_a_task_outlives_the_client_session_that_made_it() -> None:
    """As far as it outlives the upstream session: an mcpkit server over HTTP keeps it."""
    async with serving(upstream().http_app()) as up:
        proxy = ProxyServer(up + "/mcp")
        async with asyncio.timeout(WAIT):
            async with Client(proxy) as first:
                made = await first.call_tool_as_task("render", {"frames": 3})
            async with Client(proxy) as second:  # a new session, a new upstream session
                assert text(await second.task_result(made.id)) == "rendered 3"


async def test_the_upstreams_task_requests_reach_a_client_that_runs_tasks() -> None:
    """Reverse: the upstream asks the client for an elicitation as the client's task; the
    proxy passes the request, the CreateTaskResult, and the upstream's tasks/* polls."""
    host = Host()
    proxy = ProxyServer(upstream())
    async with (
        asyncio.timeout(WAIT),
        Client(
            proxy,
            elicitation_handler=host.elicit,
            tasks=True,
            task_store=MemoryTaskStore(poll_interval=50),
        ) as client,
    ):
        assert text(await client.call_tool("ask_client", {})) == "hello Ada"
    assert host.elicited[0].task == TaskMetadata()


async def test_examples_tasks_over_stdio_served_over_http() -> None:
    """examples/tasks.py as a process, put on Streamable HTTP by the proxy: the task's
    elicitation comes on the client's tasks/result stream."""
    host = Host()
    proxy = ProxyServer([sys.executable, str(TASKS_EXAMPLE)], stderr="devnull")
    async with serving(proxy.http_app()) as base:
        async with (
            asyncio.timeout(WAIT),
            Client(base + "/mcp", elicitation_handler=host.elicit) as client,
        ):
            progress: list[float] = []
            video = await client.call_tool_as_task(
                "render_video", {"frames": 3}, progress=lambda p, t, m: progress.append(p)
            )
            assert text(await video.result(timeout=WAIT)) == "rendered 3 frames"
            assert progress == [1, 2, 3]
            report = await client.call_tool_as_task("nightly_report", {})
            assert text(await report.result(timeout=WAIT)) == "report ready as html"
            with pytest.raises(McpError) as refused:
                await client.call_tool("status", {}, task=True)
            assert refused.value.code == codes.METHOD_NOT_FOUND
        assert proxy.links == {}


async def test_polls_are_answered_as_json_over_http() -> None:
    gate = Gate()
    proxy = ProxyServer(make_server(gate))
    async with serving(proxy.http_app()) as base, httpx.AsyncClient() as http:
        wire = await open_wire(http, base + "/mcp")
        tid = await wire.create("slow", {"x": 4})
        polled = await wire.post(wire.message("tasks/get", {"taskId": tid}))
        assert polled.headers["content-type"] == "application/json"
        assert polled.json()["result"]["status"] == "working"
        refused = error_of(await wire.call("tasks/list"))  # not declared without auth=
        assert refused["code"] == codes.METHOD_NOT_FOUND
        gate.go.set()
        assert ok(await wire.call("tasks/result", {"taskId": tid}))["structuredContent"] == {
            "result": 8
        }


def protected() -> ProtectedResource:
    return ProtectedResource(verifier=TableVerifier(), required_scopes=["mcp"])


@pytest.mark.parametrize("intruder", [BOB, ROBOT])
async def test_a_protected_proxy_keeps_each_identity_to_its_tasks(intruder: str) -> None:
    """The upstream is protected too and sees every client of the proxy as the proxy's one
    identity (its own token): its tasks/list would show each client all of them."""
    gate = Gate()
    shared = make_server(gate, auth=protected(), task_store=MemoryTaskStore())
    async with serving(shared.http_app()) as up:
        proxy = ProxyServer(
            up + "/mcp", headers={"authorization": f"Bearer {ROBOT}"}, auth=protected()
        )
        async with serving(proxy.http_app()) as base, httpx.AsyncClient() as http:
            url = base + "/mcp"
            alice = await open_wire(http, url, ALICE)
            tid = await alice.create("slow", {"x": 4})
            other = await open_wire(http, url, intruder)
            mine = await other.create("slow", {"x": 5})
            for method in ("tasks/get", "tasks/result", "tasks/cancel"):
                refused = error_of(await other.call(method, {"taskId": tid}))
                assert refused["code"] == codes.INVALID_PARAMS, method
                assert "not found" in refused["message"]
            listed = ok(await other.call("tasks/list"))["tasks"]
            assert [t["taskId"] for t in listed] == [mine]
            # Alice's, from a new session with another token of hers, untouched.
            again = await open_wire(http, url, ADMIN)
            assert ok(await again.call("tasks/get", {"taskId": tid}))["status"] == "working"
            assert [t["taskId"] for t in ok(await again.call("tasks/list"))["tasks"]] == [tid]
            gate.go.set()
            done = ok(await again.call("tasks/result", {"taskId": tid}))
            assert done["structuredContent"] == {"result": 8}
            assert proxy.task_owners is not None and len(proxy.task_owners) == 2


async def test_without_auth_a_proxy_offers_no_task_list() -> None:
    """Every requestor is then one owner (as on a plain server), so a list would show each
    client the others' tasks: `tasks.list` is left out, and tasks/list refused."""
    gate = Gate()
    shared = make_server(gate, auth=protected(), task_store=MemoryTaskStore())
    async with serving(shared.http_app()) as up:
        proxy = ProxyServer(up + "/mcp", headers={"authorization": f"Bearer {ROBOT}"})
        async with asyncio.timeout(WAIT), Client(proxy) as client:
            tasks = client.server_capabilities.tasks
            assert tasks is not None and tasks.list is None and tasks.cancel is not None
            with pytest.raises(LocalProtocolError):
                await client.list_tasks()
            gate.go.set()
            made = await client.call_tool_as_task("slow", {"x": 1})
            assert text(await made.result(timeout=WAIT)) == "2"


def test_task_owners_are_bounded() -> None:
    owners = TaskOwners(max_owners=3, max_tasks=2)
    for n in range(10):
        owners.record("alice", f"t{n}")
    owners.check("alice", "t9")
    owners.check("alice", "t8")
    with pytest.raises(McpError):
        owners.check("alice", "t7")  # forgotten: the oldest go first
    for who in ("bob", "carol", "dave"):
        owners.record(who, "x")
    assert len(owners) == 3
    with pytest.raises(McpError):
        owners.check("alice", "t9")  # the least recently active identity went
    with pytest.raises(McpError):
        owners.check("bob", "y")


async def test_a_task_made_past_the_upstream_timeout_is_cancelled_upstream() -> None:
    """The upstream answers a task-augmented tools/call after the proxy's upstream_timeout:
    the proxy sends it no notifications/cancelled (which would leave the task working,
    basic/utilities/cancellation) but waits for the answer, cancels the task it names with
    tasks/cancel, and answers its client with the timeout."""
    asked: list[str] = []

    async def late_answers(ctx: Context, params: Any, call_next: Any) -> Any:
        asked.append(ctx.method)
        result = await call_next(params)
        if ctx.method == "tools/call":
            await asyncio.sleep(0.3)  # the task is made; its answer comes late
        return result

    origin = upstream(middleware=[late_answers])
    proxy = ProxyServer(origin, upstream_timeout=0.1)
    async with asyncio.timeout(WAIT), Client(proxy) as client:
        with pytest.raises(McpError, match=r"no response within 0\.1 s") as timed_out:
            await client.call_tool_as_task("forever", {})
        assert timed_out.value.code == -32001
        assert asked == ["tools/call", "tasks/cancel"], asked


ASKED_TASKS = {
    "elicitation": {},
    "tasks": {"cancel": {}, "requests": {"elicitation": {"create": {}}}},
}


async def test_a_task_the_client_makes_past_the_proxys_timeout_is_cancelled() -> None:
    """The upstream asks the client for an elicitation as a task of the client's, through
    the proxy; the client answers with its task after the proxy's request_timeout: the proxy
    sends the client no notifications/cancelled (which would leave its task working) but
    waits for that answer and cancels the task it names with tasks/cancel."""
    proxy = ProxyServer(upstream(), request_timeout=0.1)
    async with asyncio.timeout(WAIT), raw_session(proxy, capabilities=ASKED_TASKS) as peer:
        await peer.send(
            {
                "jsonrpc": "2.0",
                "id": "call",
                "method": "tools/call",
                "params": {"name": "ask_client"},
            }
        )
        request: dict[str, Any] = await peer.receive()
        assert request["method"] == "elicitation/create" and "task" in request["params"]
        await asyncio.sleep(0.3)  # past the proxy's timeout
        state = {
            "taskId": "c1",
            "status": "working",
            "createdAt": "2025-11-25T10:30:00Z",
            "lastUpdatedAt": "2025-11-25T10:30:00Z",
            "ttl": 60000,
        }
        await peer.send({"jsonrpc": "2.0", "id": request["id"], "result": {"task": state}})
        seen: list[str | None] = []
        while "call" not in seen:
            message = await peer.receive()
            seen.append(message.get("method", message.get("id")))
            if message.get("method") == "tasks/cancel":
                assert message["params"] == {"taskId": "c1"}
                answer = {"jsonrpc": "2.0", "id": message["id"]}
                await peer.send({**answer, "result": {**state, "status": "cancelled"}})
        assert "tasks/cancel" in seen and "notifications/cancelled" not in seen, seen
