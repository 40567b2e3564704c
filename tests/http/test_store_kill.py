"""`mcpkit run --store sqlite:///...` (then `redis://...`) killed with SIGKILL mid-task, then
started again on the same store and port: the client's session goes on, a task that had
finished keeps its result, and the task the dead process was running is failed once its
lease lapses (the store's `?lease=1`), never left `working` (issue 23, "Durability")."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from _processes import starts
from _redis_server import shared_store_url
from _running import mcpkit, running

from mcpkit import Client
from mcpkit.stores.tasks import LAPSED

SERVER = """
import asyncio

from mcpkit import Server

server = Server("durable")


@server.tool(task=True)
async def slow() -> str:
    await asyncio.sleep(600)
    return "never"


@server.tool(task=True)
async def quick(n: int) -> str:
    return f"done {n}"
"""
WAIT = 30.0


@starts(2)
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_killed_server_restarted_on_its_store_loses_no_task(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "durable.py").write_text(SERVER)
    store = shared_store_url(kind, tmp_path, request, db=4, lease=1)
    argv = [*mcpkit("run", "durable.py", "--transport", "http"), "--store", store]
    async with asyncio.timeout(WAIT * 3):
        async with running([*argv, "--port", "0"], cwd=tmp_path) as first:
            url = await first.started()
            client = Client(url, protocol="2025-11-25")
            await client.__aenter__()
            try:
                finished = await client.call_tool_as_task("quick", {"n": 7})
                assert (await finished.wait()).status == "completed"
                cut = await client.call_tool_as_task("slow")
                assert cut.status == "working"
                sid = client.session_id
                await first.stop(signal.SIGKILL)

                port = url.rsplit(":", 1)[1].split("/")[0]
                async with running([*argv, "--port", port], cwd=tmp_path) as second:
                    await second.started()
                    assert client.session_id == sid
                    assert (await client.task_result(finished.id)).text == "done 7"
                    task = await client.get_task(cut.id)
                    for _ in range(int(WAIT / 0.2)):  # the lease is 1 s: bounded by WAIT
                        task = await client.get_task(cut.id)
                        if task.status != "working":
                            break
                        await asyncio.sleep(0.2)
                    assert (task.status, task.status_message) == ("failed", LAPSED)
            finally:
                await client.__aexit__(None, None, None)
