"""The server as task requestor (basic/utilities/tasks, "Task-Augmented Sampling Request"):
`ctx.sample(..., task=...)` and `ctx.elicit(..., task=...)` against mcpkit's Client as the
receiver, and against a scripted raw client for what a real one rarely does."""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.server.session import ServerSessionHandle
from mcpkit.server.tasks.requestor import POLL_CEILING, POLL_FLOOR, metadata, poll_seconds
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import connected, raw_session
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    TaskMetadata,
    TextContent,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _serving import serving

# These are 2025-11-25 sessions (the server's requests to its client, and their bounds): the
# client is pinned to that revision; under 2026-07-28 the client answers between requests.
Client = functools.partial(Client, protocol="2025-11-25")
connected = functools.partial(connected, protocol="2025-11-25")

RELATED = "io.modelcontextprotocol/related-task"
NAME_FORM = {"type": "object", "properties": {"n": {"type": "string"}}}
WAIT = 5.0  # seconds; a bound on hangs, not a performance assertion


class Host:
    """The client host's handlers, recording what they were asked."""

    def __init__(self, *, fail: Exception | None = None, hold: bool = False) -> None:
        self.fail = fail
        self.hold = hold
        self.sampled: list[CreateMessageRequestParams] = []
        self.elicited: list[ElicitRequestParams] = []
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def sampling(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.sampled.append(params)
        await self._maybe_hold()
        if self.fail is not None:
            raise self.fail
        return CreateMessageResult(role="assistant", content=TextContent(text="42"), model="m")

    async def elicitation(self, params: ElicitRequestParams) -> dict[str, Any]:
        self.elicited.append(params)
        await self._maybe_hold()
        return {"action": "accept", "content": {"n": "Ada"}}

    async def _maybe_hold(self) -> None:
        self.started.set()
        if not self.hold:
            return
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def make_server(**sample_options: Any) -> Server:
    server = Server("asking", task_store=MemoryTaskStore(poll_interval=50))

    @server.tool(task=True)
    async def ask(ctx: Context, task: bool = True) -> str:
        """Samples, then elicits, each as a task of the client's when `task`."""
        sampled = await ctx.sample("question", task=task, **sample_options)
        answer = await ctx.elicit("Your name?", NAME_FORM, task=task)
        text = getattr(sampled.content, "text", None)
        return f"{text} {answer.action} {answer.data}"

    @server.tool
    async def sample_error(ctx: Context, task: bool) -> str:
        try:
            await ctx.sample("question", task=task)
        except McpError as exc:
            return f"{type(exc).__name__} {exc.code} {exc.message} {exc.data}"
        return "no error"

    return server


def tasks_host(host: Host) -> dict[str, Any]:
    return {
        "sampling_handler": host.sampling,
        "elicitation_handler": host.elicitation,
        "tasks": True,
        "task_store": MemoryTaskStore(poll_interval=50),
    }


def owner_of(client: Any) -> str:
    """The owner of the client's tasks in its store (one per client)."""
    receiver = client._connector.task_receiver
    assert receiver is not None
    return str(receiver.owner)


def text_of(result: Any) -> str:
    return str(result.content[0].text)


async def test_sampling_and_elicitation_run_as_the_clients_tasks() -> None:
    host = Host()
    async with connected(make_server(), **tasks_host(host)) as client:
        result = await client.call_tool("ask", {})
        assert text_of(result) == "42 accept {'n': 'Ada'}"
    assert host.sampled[0].task == TaskMetadata()
    assert host.elicited[0].task == TaskMetadata()
    # Not a task of the server's: no related-task meta on the requests.
    assert RELATED not in (host.sampled[0].meta or {})


async def test_a_ttl_reaches_the_client() -> None:
    host = Host()
    server = Server("ttl")

    @server.tool
    async def ask(ctx: Context) -> str:
        await ctx.sample("question", task=60_000)
        await ctx.elicit("Your name?", NAME_FORM, task=TaskMetadata(ttl=5_000))
        return "asked"

    async with connected(server, **tasks_host(host)) as client:
        await client.call_tool("ask", {})
    assert host.sampled[0].task == TaskMetadata(ttl=60_000)
    assert host.elicited[0].task == TaskMetadata(ttl=5_000)


async def test_url_elicitation_as_a_task() -> None:
    server = Server("url")
    seen: list[ElicitRequestParams] = []

    @server.tool
    async def connect(ctx: Context) -> str:
        answer = await ctx.elicit_url("Connect", "https://example.com/c", "e1", task=True)
        return answer.action

    def open_url(params: ElicitRequestParams) -> dict[str, str]:
        seen.append(params)
        return {"action": "accept"}

    async with connected(server, url_elicitation_handler=open_url, tasks=True) as client:
        assert text_of(await client.call_tool("connect", {})) == "accept"
    assert (seen[0].mode, seen[0].url, seen[0].task) == (
        "url",
        "https://example.com/c",
        TaskMetadata(),
    )


def test_a_bad_task_option_is_refused() -> None:
    for bad in (0, -1, False):
        with pytest.raises(ValueError, match="task must be True"):
            metadata(bad)


async def test_a_client_without_the_capability_gets_plain_requests() -> None:
    host = Host()
    options = {"sampling_handler": host.sampling, "elicitation_handler": host.elicitation}
    async with connected(make_server(), **options) as client:
        assert client.capabilities.tasks is None
        result = await client.call_tool("ask", {})
        assert text_of(result) == "42 accept {'n': 'Ada'}"
    assert host.sampled[0].task is None and host.elicited[0].task is None


async def test_without_task_the_request_is_plain_even_to_a_task_client() -> None:
    host = Host()
    async with connected(make_server(), **tasks_host(host)) as client:
        await client.call_tool("ask", {"task": False})
    assert host.sampled[0].task is None


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("the model is down"), McpError(codes.INVALID_PARAMS, "no such model", [1])],
)
async def test_a_failing_handler_raises_what_the_plain_request_raises(failure: Exception) -> None:
    host = Host(fail=failure)
    async with connected(make_server(), **tasks_host(host)) as client:
        as_task = text_of(await client.call_tool("sample_error", {"task": True}))
        plain = text_of(await client.call_tool("sample_error", {"task": False}))
    assert as_task == plain
    assert as_task.startswith("PeerError")
    assert host.sampled[0].task is not None and host.sampled[1].task is None


async def test_a_cancelled_tool_cancels_the_clients_task() -> None:
    host = Host(hold=True)
    store = MemoryTaskStore(poll_interval=50)
    options = {**tasks_host(host), "task_store": store}
    async with connected(make_server(), **options) as client:
        call = asyncio.ensure_future(client.call_tool("ask", {}))
        async with asyncio.timeout(WAIT):
            await host.started.wait()
        call.cancel()  # notifications/cancelled: the server cancels the tool
        async with asyncio.timeout(WAIT):
            await host.cancelled.wait()  # ... which sent tasks/cancel to us
        with pytest.raises(asyncio.CancelledError):
            await call
        tasks, _ = await store.list(owner_of(client))
        assert [t.status for t in tasks] == ["cancelled"]


async def test_the_timeout_bounds_the_whole_wait_and_cancels_the_task() -> None:
    host = Host(hold=True)
    server = Server("timing")

    @server.tool
    async def impatient(ctx: Context) -> str:
        try:
            await ctx.sample("question", task=True, timeout=0.05)
        except RequestTimeout as exc:
            return exc.message
        return "answered"

    async with connected(server, **tasks_host(host)) as client:
        message = text_of(await client.call_tool("impatient", {}))
        async with asyncio.timeout(WAIT):
            await host.cancelled.wait()
    assert "did not finish within 0.05 s; it was cancelled" in message


async def test_a_task_of_the_server_relates_its_requests_to_that_task() -> None:
    """The tool runs as the server's task and asks the client as a task of the client's: the
    request carries the server's task id ("Associating Task-Related Messages") and travels
    on the client's tasks/result call; the answer comes back through the client's task."""
    host = Host()
    async with connected(make_server(), **tasks_host(host)) as client:
        created = await client.request(
            "tools/call", {"name": "ask", "arguments": {}, "task": {"ttl": 60_000}}
        )
        server_task = created.task.task_id
        result = await client.request("tasks/result", {"taskId": server_task})
        assert result["content"][0]["text"] == "42 accept {'n': 'Ada'}"
    assert host.sampled[0].task == TaskMetadata()
    assert (host.sampled[0].meta or {})[RELATED] == {"taskId": server_task}
    assert (host.elicited[0].meta or {})[RELATED] == {"taskId": server_task}


async def test_both_ways_over_streamable_http() -> None:
    """Over HTTP each request must find a stream: the plain tool's go on its tools/call POST,
    the task tool's on the client's open tasks/result POST ("Input Required Status")."""
    host = Host()
    async with (
        serving(make_server().http_app()) as url,
        Client(f"{url}/mcp", **tasks_host(host)) as client,
    ):
        assert text_of(await client.call_tool("ask", {})) == "42 accept {'n': 'Ada'}"
        created = await client.request("tools/call", {"name": "ask", "arguments": {}, "task": {}})
        result = await client.request("tasks/result", {"taskId": created.task.task_id})
        assert result["content"][0]["text"] == "42 accept {'n': 'Ada'}"
    assert [p.task is not None for p in host.sampled] == [True, True]


def test_poll_intervals_are_kept_within_bounds() -> None:
    assert poll_seconds(0) == POLL_FLOOR
    assert poll_seconds(-5) == POLL_FLOOR
    assert poll_seconds(10**12) == POLL_CEILING
    assert poll_seconds(250) == 0.25
    assert poll_seconds(None) == 1.0


# ------------------------------------------------------------- a scripted raw client

TASK_CAPS = {
    "sampling": {},
    "tasks": {"cancel": {}, "requests": {"sampling": {"createMessage": {}}}},
}


def task_state(status: str, poll: int | None = 0) -> dict[str, Any]:
    state: dict[str, Any] = {
        "taskId": "c1",
        "status": status,
        "createdAt": "2025-11-25T10:30:00Z",
        "lastUpdatedAt": "2025-11-25T10:30:00Z",
        "ttl": 60000,
    }
    if poll is not None:
        state["pollInterval"] = poll
    return state


SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "polled"}, "model": "m"}


async def answer(peer: Any, method: str, reply: dict[str, Any]) -> dict[str, Any]:
    """Take the server's next request, check its method, answer it; return its params."""
    request = await peer.receive()
    assert request["method"] == method, request
    await peer.send({"jsonrpc": "2.0", "id": request["id"], **reply})
    params: dict[str, Any] = request.get("params") or {}
    return params


async def test_a_failed_tasks_result_falls_back_to_polling() -> None:
    server = Server("polling")

    @server.tool
    async def ask(ctx: Context) -> str:
        result = await ctx.sample("question", task=True)
        return str(getattr(result.content, "text", None))

    async with raw_session(server, capabilities=TASK_CAPS) as peer:
        await peer.send(
            {"jsonrpc": "2.0", "id": "call", "method": "tools/call", "params": {"name": "ask"}}
        )
        sent = await answer(
            peer, "sampling/createMessage", {"result": {"task": task_state("working")}}
        )
        assert sent["task"] == {}
        cut = {"error": {"code": codes.INTERNAL_ERROR, "message": "stream cut"}}
        asked = await answer(peer, "tasks/result", cut)
        assert asked == {"taskId": "c1"}  # no related-task meta ("SHOULD NOT")
        await answer(peer, "tasks/get", {"result": task_state("working", poll=-5)})
        await answer(peer, "tasks/get", {"result": task_state("completed", poll=None)})
        await answer(peer, "tasks/result", {"result": SAMPLED})
        reply = await peer.response_to("call")
    assert reply["result"]["content"][0]["text"] == "polled"


async def test_a_failed_task_raises_its_error_after_one_look() -> None:
    server = make_server()
    async with raw_session(server, capabilities=TASK_CAPS) as peer:
        await peer.send(
            {
                "jsonrpc": "2.0",
                "id": "call",
                "method": "tools/call",
                "params": {"name": "sample_error", "arguments": {"task": True}},
            }
        )
        await answer(peer, "sampling/createMessage", {"result": {"task": task_state("working")}})
        refused = {"error": {"code": codes.INVALID_PARAMS, "message": "refused", "data": 7}}
        await answer(peer, "tasks/result", refused)
        await answer(peer, "tasks/get", {"result": task_state("failed")})
        reply = await peer.response_to("call")
    assert reply["result"]["content"][0]["text"] == "PeerError -32602 refused 7"


async def test_a_client_that_answers_without_a_task_gets_a_clear_error() -> None:
    server = make_server()
    async with raw_session(server, capabilities=TASK_CAPS) as peer:
        await peer.send(
            {
                "jsonrpc": "2.0",
                "id": "call",
                "method": "tools/call",
                "params": {"name": "sample_error", "arguments": {"task": True}},
            }
        )
        await answer(peer, "sampling/createMessage", {"result": SAMPLED})
        reply = await peer.response_to("call")
    text = reply["result"]["content"][0]["text"]
    assert text.startswith("PeerError") and "task" in text


async def test_a_server_tasks_polls_name_their_task_in_params_only_and_flip_status_once() -> None:
    """The follow-up tasks/* requests of a server task's ask carry no related-task meta (they
    name the client's task in their params: "SHOULD NOT"), and the server task goes
    input_required once per question, however many requests the question takes."""
    host = Host()
    statuses: list[str] = []

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tasks/status":
            statuses.append(params.status)

    options = {**tasks_host(host), "on_notification": on_notification}
    async with connected(make_server(), **options) as client:
        receiver = client._connector.task_receiver
        assert receiver is not None
        asked: list[tuple[str, Any]] = []
        handle = receiver.handle

        async def recording(ev: Any, connection: Any) -> Any:
            asked.append((ev.method, getattr(ev.params, "meta", None)))
            return await handle(ev, connection)

        receiver.handle = recording  # type: ignore[method-assign]
        created = await client.request("tools/call", {"name": "ask", "arguments": {}, "task": {}})
        server_task = created.task.task_id
        await client.request("tasks/result", {"taskId": server_task})
        async with asyncio.timeout(WAIT):
            while "completed" not in statuses:
                await asyncio.sleep(0.01)
    polls = [(method, meta) for method, meta in asked if method.startswith("tasks/")]
    assert polls and all(RELATED not in (meta or {}) for _, meta in polls)
    creating = [meta for method, meta in asked if not method.startswith("tasks/")]
    assert all((meta or {})[RELATED] == {"taskId": server_task} for meta in creating)
    assert statuses == ["input_required", "working", "input_required", "working", "completed"]


async def call_and_take_the_task_request(peer: Any) -> dict[str, Any]:
    """Call `ask` (a plain call), and return the task-augmented request it sends."""
    await peer.send(
        {"jsonrpc": "2.0", "id": "call", "method": "tools/call", "params": {"name": "ask"}}
    )
    request: dict[str, Any] = await peer.receive()
    assert request["method"] == "sampling/createMessage" and "task" in request["params"]
    return request


async def cancels_answered(
    peer: Any, until: tuple[str, ...]
) -> tuple[list[str | None], dict[str, Any] | None]:
    """Read what the server sends (each message's method, or its id) until one of `until`,
    answering each tasks/cancel of task c1 as done; and the answer to the call, if read."""
    seen: list[str | None] = []
    call: dict[str, Any] | None = None
    async with asyncio.timeout(WAIT):
        while not any(name in seen for name in until):
            message = await peer.receive()
            seen.append(message.get("method", message.get("id")))
            if message.get("method") == "tasks/cancel":
                assert message["params"] == {"taskId": "c1"}
                answer = {"jsonrpc": "2.0", "id": message["id"]}
                await peer.send({**answer, "result": task_state("cancelled")})
            elif message.get("id") == "call":
                call = message
    return seen, call


async def test_a_tool_cancelled_as_its_task_answer_arrives_cancels_that_task() -> None:
    """A busy server reads the client's answer (the task it made) and the tool's
    cancellation at once: the tool is cancelled before it has seen the task, which must be
    cancelled all the same, not left working."""
    async with raw_session(make_server(), capabilities=TASK_CAPS) as peer:
        request = await call_and_take_the_task_request(peer)
        # Both queued before the server reads either (an in-memory send does not wait).
        await peer.send(
            {"jsonrpc": "2.0", "id": request["id"], "result": {"task": task_state("working")}}
        )
        await peer.notify("notifications/cancelled", {"requestId": "call"})
        cancel = await peer.receive()
        assert (cancel["method"], cancel["params"]) == ("tasks/cancel", {"taskId": "c1"})
        await peer.send({"jsonrpc": "2.0", "id": cancel["id"], "result": task_state("cancelled")})


async def test_a_tool_cancelled_before_its_task_answer_cancels_the_task_it_names() -> None:
    """The tool is cancelled while the client is still answering with its task: a
    task-augmented request is cancelled with tasks/cancel ("Cancellation": not
    notifications/cancelled), so the server waits for that answer and cancels its task."""
    async with raw_session(make_server(), capabilities=TASK_CAPS) as peer:
        request = await call_and_take_the_task_request(peer)
        await peer.notify("notifications/cancelled", {"requestId": "call"})
        await asyncio.sleep(0.05)  # the server has read the cancellation (either order passes)
        await peer.send(
            {"jsonrpc": "2.0", "id": request["id"], "result": {"task": task_state("working")}}
        )
        cancel = await peer.receive()
        assert (cancel["method"], cancel["params"]) == ("tasks/cancel", {"taskId": "c1"})
        await peer.send({"jsonrpc": "2.0", "id": cancel["id"], "result": task_state("cancelled")})


async def test_a_task_answer_after_the_asks_timeout_is_cancelled_with_tasks_cancel() -> None:
    """The ask's own timeout passes before the client's task answer arrives: as for the
    tool's cancellation, the server waits for that answer (bounded) and cancels the task it
    names; a notifications/cancelled would drop the answer and leave the client's task
    working ("Cancellation")."""
    async with raw_session(make_server(timeout=0.05), capabilities=TASK_CAPS) as peer:
        request = await call_and_take_the_task_request(peer)
        await asyncio.sleep(0.3)  # past the ask's timeout (either order passes)
        await peer.send(
            {"jsonrpc": "2.0", "id": request["id"], "result": {"task": task_state("working")}}
        )
        seen, _ = await cancels_answered(peer, until=("tasks/cancel", "call"))
        assert "tasks/cancel" in seen and "notifications/cancelled" not in seen, seen


async def test_a_tool_cancelled_while_its_task_request_goes_unanswered_cancels_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that never answers the task-augmented request: the server waits for its task
    a bounded time, then cancels the request itself."""
    monkeypatch.setattr("mcpkit.runtime.task_augmented.CANCEL_WAIT", 0.05)
    async with raw_session(make_server(), capabilities=TASK_CAPS) as peer:
        request = await call_and_take_the_task_request(peer)
        await peer.notify("notifications/cancelled", {"requestId": "call"})
        cancelled = await peer.receive()
        assert cancelled["method"] == "notifications/cancelled"
        assert cancelled["params"]["requestId"] == request["id"]


def raw_asking_server() -> Server:
    """A tool that sends a task-augmented sampling request itself, through its session's
    low-level `request` (not `ctx.sample`), with a short timeout."""
    server = Server("raw-asking")

    @server.tool
    async def raw_ask(ctx: Context) -> str:
        params = {
            "messages": [{"role": "user", "content": {"type": "text", "text": "q"}}],
            "maxTokens": 5,
            "task": {"ttl": 60000},
        }
        session = ctx.session
        # Requests to the client outside the answer are a session's (`SessionPeer`) alone.
        assert isinstance(session, ServerSessionHandle)
        try:
            await session.request("sampling/createMessage", params, timeout=0.05)
        except RequestTimeout as exc:
            return f"timed out: {exc}"
        return "answered"

    return server


async def test_a_raw_task_augmented_request_that_times_out_cancels_its_task() -> None:
    """A handler's own task-augmented request through the session's `request`: its timeout
    passes before the client's task answer arrives. The server waits for that answer
    (bounded) and cancels the task it names with tasks/cancel; it sends no
    notifications/cancelled, which would drop the answer and leave the task working
    (basic/utilities/cancellation)."""
    async with raw_session(raw_asking_server(), capabilities=TASK_CAPS) as peer:
        await peer.send(
            {"jsonrpc": "2.0", "id": "call", "method": "tools/call", "params": {"name": "raw_ask"}}
        )
        request: dict[str, Any] = await peer.receive()
        assert request["method"] == "sampling/createMessage" and "task" in request["params"]
        await asyncio.sleep(0.3)  # past the request's timeout
        await peer.send(
            {"jsonrpc": "2.0", "id": request["id"], "result": {"task": task_state("working")}}
        )
        seen, result = await cancels_answered(peer, until=("call",))
        assert "tasks/cancel" in seen and "notifications/cancelled" not in seen, seen
        assert result is not None and result["result"]["content"][0]["text"].startswith(
            "timed out:"
        )
