"""The client as task receiver (basic/utilities/tasks): a server's task-augmented sampling and
elicitation, and its tasks/get|result|list|cancel, on the wire. A server tool sends each raw
request to the client and returns the raw answer, so the tests see what the server sees."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import connected
from mcpkit.types import CreateMessageRequestParams, CreateMessageResult, TextContent

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")
connected = functools.partial(connected, protocol="2025-11-25")


RELATED = "io.modelcontextprotocol/related-task"
WAIT = 5.0  # seconds; a bound on hangs, not a performance assertion
SAMPLE = {
    "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
    "maxTokens": 10,
}
FORM = {"mode": "form", "message": "Name?", "requestedSchema": {"type": "object"}}


def driver() -> Server:
    """A server whose `send` tool sends one request to the client and returns its answer."""
    server = Server("driver")

    @server.tool
    async def send(ctx: Context, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await ctx.session.connection.request(
                method, params, related=ctx.request_id, timeout=WAIT
            )
        except McpError as exc:
            return {"error": {"code": exc.code, "message": exc.message}}
        except LocalProtocolError as exc:  # refused before it was sent
            return {"refused": str(exc)}
        return {"result": msgspec.to_builtins(result)}

    return server


async def send(client: Client, method: str, params: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool("send", {"method": method, "params": params})
    answer: dict[str, Any] = result.structured_content or {}
    return answer


def ok(answer: dict[str, Any]) -> Any:
    assert "result" in answer, answer
    return answer["result"]


def error_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert "error" in answer, answer
    error: dict[str, Any] = answer["error"]
    return error


class Llm:
    """A sampling handler the test lets answer, or fail."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.started.set()
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        if self.fail is not None:
            raise self.fail
        return CreateMessageResult(role="assistant", content=TextContent(text="hi!"), model="m")


def owner_of(client: Client) -> str:
    """The owner of the client's tasks in its store (one per client)."""
    receiver = client._connector.task_receiver  # pyright: ignore[reportPrivateUsage]
    assert receiver is not None
    return receiver.owner


def accept(params: Any) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


async def created(client: Client, method: str = "sampling/createMessage", **task: Any) -> str:
    params = {**(SAMPLE if method == "sampling/createMessage" else FORM), "task": task}
    reply = ok(await send(client, method, params))
    assert reply["task"]["status"] == "working"
    return str(reply["task"]["taskId"])


# ------------------------------------------------------------------ capabilities


def test_tasks_are_declared_for_the_handlers_given() -> None:
    both = Client(driver(), sampling_handler=Llm(), elicitation_handler=accept, tasks=True)
    assert msgspec.to_builtins(both.capabilities.tasks) == {
        "list": {},
        "cancel": {},
        "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}},
    }
    url_only = Client(driver(), url_elicitation_handler=accept, task_store=MemoryTaskStore())
    assert msgspec.to_builtins(url_only.capabilities.tasks)["requests"] == {
        "elicitation": {"create": {}}
    }
    assert Client(driver(), sampling_handler=Llm()).capabilities.tasks is None


def test_tasks_without_a_handler_to_run_is_a_mistake_named() -> None:
    with pytest.raises(ValueError, match="needs a sampling_handler"):
        Client(driver(), tasks=True)


# ------------------------------------------------------------------ lifecycle


async def test_sampling_as_a_task_from_working_to_its_result() -> None:
    llm = Llm()
    async with connected(driver(), sampling_handler=llm, tasks=True) as client:
        tid = await created(client, ttl=60_000)
        async with asyncio.timeout(WAIT):
            await llm.started.wait()
        got = ok(await send(client, "tasks/get", {"taskId": tid}))
        assert (got["status"], got["ttl"]) == ("working", 60_000)
        assert [t["taskId"] for t in ok(await send(client, "tasks/list", {}))["tasks"]] == [tid]
        llm.go.set()
        result = ok(await send(client, "tasks/result", {"taskId": tid}))
        assert result.pop("_meta") == {RELATED: {"taskId": tid}}  # "MUST include"
        plain = ok(await send(client, "sampling/createMessage", SAMPLE))
        assert result == plain  # exactly what the plain request returns
        assert ok(await send(client, "tasks/get", {"taskId": tid}))["status"] == "completed"


async def test_elicitation_as_a_task_with_a_sync_handler() -> None:
    answered = threading.Event()

    def form(params: Any) -> dict[str, Any]:
        answered.set()
        return {"action": "accept", "content": {"name": "Ada"}}

    async with connected(driver(), elicitation_handler=form, tasks=True) as client:
        tid = await created(client, "elicitation/create")
        result = ok(await send(client, "tasks/result", {"taskId": tid}))
    assert (result["action"], result["content"]) == ("accept", {"name": "Ada"})
    assert answered.is_set()


@pytest.mark.parametrize(
    "failure", [RuntimeError("no model"), McpError(codes.INVALID_PARAMS, "bad prompt")]
)
async def test_a_failing_handler_fails_the_task_with_the_plain_error(failure: Exception) -> None:
    llm = Llm(fail=failure)
    llm.go.set()
    async with connected(driver(), sampling_handler=llm, tasks=True) as client:
        tid = await created(client)
        as_task = error_of(await send(client, "tasks/result", {"taskId": tid}))
        plain = error_of(await send(client, "sampling/createMessage", SAMPLE))
        got = ok(await send(client, "tasks/get", {"taskId": tid}))
    assert as_task == plain
    assert got["status"] == "failed" and got["statusMessage"]


async def test_tasks_cancel_stops_the_handler() -> None:
    llm = Llm()
    async with connected(driver(), sampling_handler=llm, tasks=True) as client:
        tid = await created(client)
        async with asyncio.timeout(WAIT):
            await llm.started.wait()
        assert ok(await send(client, "tasks/cancel", {"taskId": tid}))["status"] == "cancelled"
        async with asyncio.timeout(WAIT):
            await llm.cancelled.wait()
        again = error_of(await send(client, "tasks/cancel", {"taskId": tid}))
        assert again["code"] == codes.INVALID_PARAMS  # already terminal
        assert ok(await send(client, "tasks/get", {"taskId": tid}))["status"] == "cancelled"


async def test_closing_the_client_stops_its_tasks() -> None:
    llm = Llm()
    store = MemoryTaskStore()
    async with connected(driver(), sampling_handler=llm, task_store=store) as client:
        tid = await created(client)
        owner = owner_of(client)
        async with asyncio.timeout(WAIT):
            await llm.started.wait()
    assert llm.cancelled.is_set()
    assert (await store.get(owner, tid)).status == "failed"


# ------------------------------------------------------------------ hostile servers


async def test_unknown_and_absurd_task_ids_are_invalid_params() -> None:
    async with connected(driver(), sampling_handler=Llm(), tasks=True) as client:
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            for task_id in ("nope", "x" * 1_000_000):
                error = error_of(await send(client, method, {"taskId": task_id}))
                assert error["code"] == codes.INVALID_PARAMS
                assert len(error["message"]) < 200


async def test_a_task_of_another_client_is_unknown() -> None:
    """Two clients share one store (a host with two servers): neither server sees the other's
    tasks ("Task Isolation and Access Control")."""
    store = MemoryTaskStore()
    llm = Llm()
    llm.go.set()
    async with (
        connected(driver(), sampling_handler=llm, task_store=store) as first,
        connected(driver(), sampling_handler=llm, task_store=store) as second,
    ):
        tid = await created(first)
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            error = error_of(await send(second, method, {"taskId": tid}))
            assert error["code"] == codes.INVALID_PARAMS
        assert ok(await send(second, "tasks/list", {}))["tasks"] == []
        assert ok(await send(first, "tasks/result", {"taskId": tid}))["model"] == "m"


async def test_a_bad_ttl_is_invalid_params() -> None:
    async with connected(driver(), sampling_handler=Llm(), tasks=True) as client:
        params = {**SAMPLE, "task": {"ttl": -1}}
        error = error_of(await send(client, "sampling/createMessage", params))
    assert error["code"] == codes.INVALID_PARAMS


async def test_a_client_without_tasks_is_not_asked_about_them() -> None:
    llm = Llm()
    llm.go.set()
    async with connected(driver(), sampling_handler=llm) as client:
        refused = await send(client, "tasks/get", {"taskId": "x"})
        assert "did not declare the 'tasks' capability" in refused["refused"]
        refused = await send(client, "sampling/createMessage", {**SAMPLE, "task": {}})
        assert "tasks.requests.sampling.createMessage" in refused["refused"]


async def test_a_flood_of_tasks_stops_at_the_stores_bound() -> None:
    """A server that creates tasks and never fetches them fills its share of the store: while
    they work it is refused (-32603); finished ones make room, oldest first, so the client
    never grows past the bound ("Resource Management")."""
    llm = Llm()
    store = MemoryTaskStore(max_tasks_per_owner=5)
    async with connected(driver(), sampling_handler=llm, task_store=store) as client:
        first = [await created(client) for _ in range(5)]
        error = error_of(await send(client, "sampling/createMessage", {**SAMPLE, "task": {}}))
        assert error["code"] == codes.INTERNAL_ERROR and "max_tasks_per_owner" in error["message"]
        llm.go.set()
        assert ok(await send(client, "sampling/createMessage", SAMPLE))["model"] == "m"
        for task_id in first:  # bounded: tasks/result waits for each to finish
            ok(await send(client, "tasks/result", {"taskId": task_id}))
        newer = await created(client)
        assert len(store) == 5
        assert error_of(await send(client, "tasks/get", {"taskId": first[0]}))
        ok(await send(client, "tasks/get", {"taskId": newer}))
