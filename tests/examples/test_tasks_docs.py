"""docs/tasks.md and examples/tasks.py work as written: the client scripts run as they are
and print what the doc says; the server blocks serve what the text says through a Client."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from _doc_scripts import REPO, run_script, script_blocks

from mcpkit import Client, LocalProtocolError, McpError, Server
from mcpkit.protocol import codes
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import raw_session

DOC = REPO / "docs" / "tasks.md"


def blocks() -> dict[str, str]:
    return script_blocks(DOC)


def run_module(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_tasks"}
    exec(compile(source, str(DOC), "exec"), namespace)  # our own docs, as a reader runs them
    return namespace


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tasks_client.py", ["3 pages", "working", "completed 2 pages", "2 pages"]),
        ("tasks_both_ways.py", ["short"]),
    ],
)
def test_the_client_scripts_print_what_the_doc_says(
    tmp_path: Path, name: str, expected: list[str]
) -> None:
    lines = run_script(tmp_path, name, blocks()[name]).splitlines()
    for text in expected:
        assert any(line.endswith(text) for line in lines), (text, lines)


async def test_the_server_block_serves_tasks() -> None:
    server: Server = run_module(blocks()["tasks_server.py"])["server"]

    def answer(params: Any) -> dict[str, Any]:
        return {"action": "accept", "content": {"format": "html"}}

    async with Client(server, elicitation_handler=answer, protocol="2025-11-25") as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert tools["render"].execution is not None
        assert tools["render"].execution.task_support == "optional"
        assert (await client.call_tool("render", {"frames": 2})).text == "rendered 2 frames"
        assert (await client.call_tool("report", {}, task=True)).text == "report as html"
        with pytest.raises(McpError) as refused:
            await client.call_tool("report", {})
        assert refused.value.code == codes.METHOD_NOT_FOUND


def test_the_store_block_sets_the_bounds() -> None:
    source = next(
        b
        for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
        if "MemoryTaskStore(" in b
    )
    server: Server = run_module(source)["server"]
    store = server.task_runner.store
    assert isinstance(store, MemoryTaskStore)


async def test_the_example_server() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("example_tasks", REPO / "examples" / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def answer(params: Any) -> dict[str, Any]:
        return {"action": "accept", "content": {"format": "html"}}

    seen: list[float] = []
    async with Client(module.server, elicitation_handler=answer, protocol="2025-11-25") as client:
        task = await client.call_tool_as_task(
            "render_video", {"frames": 3}, progress=lambda p, t, m: seen.append(p)
        )
        assert (await task.result(timeout=10)).text == "rendered 3 frames"
        assert seen[-1] == 3
        failed = await client.call_tool_as_task("render_video", {"frames": 0})
        assert (await failed.wait(timeout=10)).status == "failed"
        assert (await failed.result()).is_error
        report = await client.call_tool("nightly_report", {}, task=True)
        assert report.text == "report ready as html"
        with pytest.raises(McpError):
            await client.call_tool("status", {}, task=True)
        assert (await client.call_tool("status", {})).text == "all systems nominal"

    # The same server to a 2026-07-28 client: the server starts the tasks (the extension),
    # call_tool follows them, and the 2025 task calls say why they are not there.
    async with Client(module.server, elicitation_handler=answer) as client:
        assert client.protocol_version == "2026-07-28"
        assert (await client.call_tool("nightly_report", {})).text == "report ready as html"
        assert (await client.call_tool("render_video", {"frames": 2})).text == "rendered 2 frames"
        with pytest.raises(LocalProtocolError, match="protocol='2025-11-25'"):
            await client.call_tool_as_task("render_video", {"frames": 3})
        with pytest.raises(LocalProtocolError, match="2025-11-25"):
            await client.list_tasks()


async def test_the_2026_block_asks_first_then_runs_as_a_task() -> None:
    server: Server = run_module(blocks()["tasks_2026.py"])["server"]
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {
            "elicitation": {},
            "extensions": {"io.modelcontextprotocol/tasks": {}},
        },
    }
    async with raw_session(server, initialize=False) as peer:
        params: dict[str, Any] = {"name": "export", "_meta": meta}
        asked = (await peer.request("tools/call", params))["result"]
        assert asked["resultType"] == "input_required" and list(asked["inputRequests"]) == [
            "format"
        ]
        answer = {"format": {"action": "accept", "content": {"format": "tar"}}}
        retry = {**params, "inputResponses": answer, "requestState": asked["requestState"]}
        handle = (await peer.request("tools/call", retry))["result"]
        assert handle["resultType"] == "task" and handle["status"] == "working"
        get = {"taskId": handle["taskId"], "_meta": meta}
        for _ in range(500):
            task = (await peer.request("tasks/get", get))["result"]
            if task["status"] == "completed":
                break
            await asyncio.sleep(0.01)
        assert task["result"]["content"][0]["text"] == "exported as tar"
