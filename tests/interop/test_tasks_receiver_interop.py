"""Interoperability of tasks the server asks the client to run (SEP-1686, "Task-Augmented
Sampling Request") with the TypeScript SDK's experimental tasks, over stdio.

(a) A TypeScript server asks the mcpkit client (`Client(tasks=True)`) for sampling and
elicitation as tasks: `createMessageStream`/`elicitInputStream` with `task`, polling tasks/get,
then tasks/result; tasks/cancel and tasks/list. (b) The mcpkit server asks a TypeScript client
that has a task store (`ctx.sample(..., task=True)`, `ctx.elicit(..., task=True)`), and a
cancelled tool cancels the client's task; a tool run as a task of the server's asks the same
way, its request naming that task.

Known behaviour of the TypeScript SDK (shared/protocol.js `_onrequest`): a receiver with a task
store and a task message queue takes the `related-task` id of every incoming request for one of
its OWN tasks. Over stdio it queues its answer under that id, to be sent on a tasks/result for
it that never comes, so a request from a server's task (which the spec says MUST name the task)
goes unanswered until our timeout; over Streamable HTTP it first looks the id up in its store
and answers -32602 "Task not found". Without a message queue it answers normally, so the TS
client here has none.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from interop_harness import PEERS, REPO, SUBPROCESS_TIMEOUT, peer_env, require_node

from mcpkit import Client
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.types import CreateMessageRequestParams, CreateMessageResult, TextContent

# The peers of this suite are peers/tasks_recv_*: named by the suite first, so started here.
TS_SERVER = "tasks_recv_ts_server.mjs"
TS_CLIENT = "tasks_recv_ts_client.mjs"
MCPKIT_SERVER = "tasks_recv_mcpkit_server.py"
WAIT = 10.0  # seconds; a bound on hangs, not a performance assertion
RELATED = "io.modelcontextprotocol/related-task"


class Host:
    """The mcpkit client's handlers: an LLM that answers, or waits until cancelled."""

    def __init__(self) -> None:
        self.sampled: list[CreateMessageRequestParams] = []
        self.held = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def sample(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.sampled.append(params)
        question = getattr(params.messages[0].content, "text", "")
        if question == "fail":
            raise RuntimeError("the model is down")
        if question == "hold":
            self.held.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        answer = TextContent(text=f"answer to {question}")
        return CreateMessageResult(role="assistant", content=answer, model="interop-llm")

    async def elicit(self, params: Any) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}


def report(result: Any) -> Any:
    assert not result.is_error, result
    return json.loads(result.content[0].text)


async def test_a_ts_server_asks_the_mcpkit_client_for_tasks() -> None:
    host = Host()
    client = Client(
        [require_node(), str(PEERS / TS_SERVER)],
        sampling_handler=host.sample,
        elicitation_handler=host.elicit,
        task_store=MemoryTaskStore(poll_interval=20),
        stderr="capture",
    )
    async with client, asyncio.timeout(WAIT):
        sampled = report(await client.call_tool("sample_as_task", {"question": "MCP?"}))
        elicited = report(await client.call_tool("elicit_as_task", {}))
        failed = report(await client.call_tool("sample_as_task", {"question": "fail"}))
        cancelled = report(await client.call_tool("cancel_sampling", {"question": "hold"}))
        await host.cancelled.wait()  # tasks/cancel stopped our handler
        listed = report(await client.call_tool("list_client_tasks", {}))

    assert sampled["kinds"][0] == "taskCreated" and sampled["kinds"][-1] == "result"
    assert sampled["statuses"][-1] == "completed"
    assert sampled["result"]["content"] == {"type": "text", "text": "answer to MCP?"}
    assert sampled["result"]["_meta"][RELATED] == {"taskId": sampled["taskId"]}
    assert host.sampled[0].task is not None and host.sampled[0].task.ttl == 60_000

    assert elicited["statuses"][-1] == "completed"
    assert (elicited["result"]["action"], elicited["result"]["content"]) == (
        "accept",
        {"name": "Ada"},
    )

    # The SDK reports a failed task by its status, not by the error tasks/result returns.
    assert failed["statuses"][-1] == "failed"
    assert failed["error"]["message"].endswith("failed")

    assert cancelled == {"cancelled": "cancelled", "after": "cancelled", "again": {"code": -32602}}
    assert sorted(listed["statuses"]) == ["cancelled", "completed", "completed", "failed"]


def run_ts_client() -> dict[str, Any]:
    """Run the TypeScript client against the mcpkit server; return its JSON summary."""
    argv = [require_node(), str(PEERS / TS_CLIENT), sys.executable, str(PEERS / MCPKIT_SERVER)]
    try:
        done = subprocess.run(
            argv,
            cwd=REPO,
            env=peer_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the TypeScript client did not finish within {SUBPROCESS_TIMEOUT} s: {exc}")
    if done.returncode != 0:
        pytest.fail(f"the TypeScript client failed:\n{done.stdout}\n{done.stderr}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def test_the_mcpkit_server_asks_a_ts_client_for_tasks() -> None:
    summary = run_ts_client()
    assert summary["llm"] == {"model": "ts-llm", "text": "answer to MCP?"}
    assert summary["user"] == {"action": "accept", "data": {"name": "Ada"}}
    # Every request asked for a task with the ttl; the first three named no task of the
    # server's, the last (from a tool run as the server's task) named that task.
    sampling, elicitation = summary["seen"]["sampling"], summary["seen"]["elicitation"]
    plain = {"task": {"ttl": 60_000}, "related": None}
    assert sampling[:2] == [plain, plain] and elicitation == [plain]
    in_task = summary["in_task"]
    assert in_task["kinds"][0] == "taskCreated" and in_task["kinds"][-1] == "result"
    assert sampling[2] == {"task": {"ttl": 60_000}, "related": {"taskId": in_task["server_task"]}}
    assert in_task["result"] == {"model": "ts-llm", "text": "answer to MCP?"}
    # The aborted call cancelled the tool, whose ctx.sample cancelled the client's task.
    assert summary["held_status"] == "cancelled"
    assert summary["statuses"] == ["completed", "completed", "cancelled"]
