"""The official Python SDK's and the TypeScript SDK's Streamable HTTP clients against mcpkit's
HTTP server serving examples/everything.py: started as `mcpkit run ... --transport http --port
0` (the command line end to end) and in this process with uvicorn.

Each client lists tools, calls `add` (structured output and a log message) and `slow` (progress
on the call's own stream), reads two resources, gets a prompt, and answers the server's
sampling, form elicitation, URL elicitation and roots requests from tools: each answer reaches
the server on a POST of its own. Both clients build the same summary; one check judges both.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _processes import finished
from interop_harness import SUBPROCESS_TIMEOUT, peer_env, require_node, require_python_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _running import mcpkit, running
from _serving import serving

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EVERYTHING = REPO / "examples" / "everything.py"
NOTIFICATION_WAIT = 5.0  # seconds; notification callbacks may run after the call returns
QUESTION = "What is MCP?"
FORM_ANSWER = {
    "name": "Ada",
    "age": 36,
    "color": "red",
    "size": "l",
    "toppings": ["ham"],
    "newsletter": True,
}
ROOTS = [{"uri": "file:///interop/project", "name": "project"}]

pytestmark = pytest.mark.filterwarnings(
    # Sampling, roots and logging are deprecated by 2026-07-28; these sessions use 2025-11-25.
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)


def check(summary: dict[str, Any], client: str) -> None:
    assert summary["client"] == client
    assert summary["protocol_version"] == "2025-11-25"
    if client == "ts":  # the official client does not expose its session id
        assert summary["session"] is True
    assert summary["server_name"] == "everything"
    assert {"add", "slow", "ask_model", "sign_up", "connect_account", "roots"} <= set(
        summary["tools"]
    )
    assert summary["add"] == {"structured": {"result": 5}, "logs": [["info", "adding 2 and 3"]]}
    assert summary["slow"] == {"text": "done", "progress": [[1, 2], [2, 2]]}
    assert summary["config"] == {"text": '{"theme":"dark"}', "mime_type": "application/json"}
    assert summary["note"] == "Hello!"
    assert summary["review"] == [["user", "Please review this python code:\nx = 1"]]
    assert summary["sampling"] == {
        "requests": [[["user", QUESTION]]],
        "result": f"answer to {QUESTION}",
    }
    fields = ["age", "color", "name", "newsletter", "size", "toppings"]
    assert summary["form"] == {"requests": [fields], "result": "Ada, 36, red, l, ['ham'], True"}
    assert summary["url"] == {
        "requests": [{"url": "https://example.com/connect", "elicitation_id": "acct-1"}],
        "result": "connect: accept",
        "completed": ["acct-1"],
    }
    assert summary["roots"] == {"result": ["file:///interop/project"]}


# ------------------------------------------------------------- the two clients


async def ts_summary(url: str) -> dict[str, Any]:
    """Run the TypeScript peer against `url` (as a subprocess, awaited: this loop may be the
    one serving `url`)."""
    proc = await asyncio.create_subprocess_exec(
        require_node(),
        str(HERE / "peers" / "http_server_ts_client.mjs"),
        url,
        cwd=HERE,
        env=peer_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        out, err = await finished(proc)
    assert proc.returncode == 0, f"TypeScript client failed:\n{err.decode()}"
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


class Recorder:
    """The official client's callbacks, and what the server sent to each."""

    def __init__(self) -> None:
        self.sampling: list[Any] = []
        self.forms: list[Any] = []
        self.urls: list[Any] = []
        self.completed: list[str] = []
        self.logs: list[Any] = []
        self.changed = asyncio.Event()

    async def sample(self, context: Any, params: Any) -> Any:
        import mcp_types as types

        self.sampling.append([[m.role, m.content.text] for m in params.messages])
        question = params.messages[-1].content.text
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"answer to {question}"),
            model="interop-llm",
            stop_reason="endTurn",
        )

    async def elicit(self, context: Any, params: Any) -> Any:
        import mcp_types as types

        if isinstance(params, types.ElicitRequestURLParams):
            self.urls.append({"url": params.url, "elicitation_id": params.elicitation_id})
            return types.ElicitResult(action="accept")
        self.forms.append(sorted(params.requested_schema["properties"]))
        return types.ElicitResult(action="accept", content=dict(FORM_ANSWER))

    async def list_roots(self, context: Any) -> Any:
        import mcp_types as types

        return types.ListRootsResult(roots=[types.Root(**root) for root in ROOTS])

    async def log(self, params: Any) -> None:
        self.logs.append([params.level, params.data])
        self.changed.set()

    async def on_message(self, message: Any) -> None:
        import mcp_types as types

        if isinstance(message, types.ElicitCompleteNotification):
            self.completed.append(message.params.elicitation_id)
            self.changed.set()

    async def wait_until(self, done: Callable[[], bool]) -> None:
        """Wait, bounded, for notification callbacks the SDK runs as tasks of their own."""
        try:
            async with asyncio.timeout(NOTIFICATION_WAIT):
                while not done():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            pass


def first_text(result: Any) -> str | None:
    return next((block.text for block in result.content if block.type == "text"), None)


async def official_summary(url: str) -> dict[str, Any]:
    """The same scenario with the official Python SDK's client, in this process."""
    require_python_sdk()
    from mcp import Client

    rec = Recorder()
    progress: list[list[float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append([done, total])

    # The 2025-11-25 scenario (URL elicitation's completion notice is gone from 2026-07-28);
    # test_interop_eras.py runs this client in each era against one endpoint.
    client = Client(
        url,
        mode="legacy",
        read_timeout_seconds=10.0,
        sampling_callback=rec.sample,
        elicitation_callback=rec.elicit,
        list_roots_callback=rec.list_roots,
        logging_callback=rec.log,
        message_handler=rec.on_message,
    )
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), client:
        info = client.server_info
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        added = await client.call_tool("add", {"a": 2, "b": 3})
        await rec.wait_until(lambda: len(rec.logs) >= 1)
        slow = await client.call_tool("slow", {"seconds": 0.2}, progress_callback=on_progress)
        (config,) = (await client.read_resource("config://app")).contents
        (note,) = (await client.read_resource("notes://welcome")).contents
        review = await client.get_prompt("review", {"code": "x = 1"})
        sampled = first_text(await client.call_tool("ask_model", {"question": QUESTION}))
        signed_up = first_text(await client.call_tool("sign_up", {}))
        connected = first_text(await client.call_tool("connect_account", {}))
        await rec.wait_until(lambda: len(rec.completed) >= 1)
        roots = await client.call_tool("roots", {})
        return {
            "client": "official",
            "protocol_version": client.protocol_version,
            "server_name": info.name if info else None,
            "tools": tools,
            "add": {"structured": added.structured_content, "logs": rec.logs},
            # The SDK runs progress callbacks as tasks; those it ran came in order.
            "slow": {"text": first_text(slow), "progress": sorted(progress)},
            "config": {"text": getattr(config, "text", None), "mime_type": config.mime_type},
            "note": getattr(note, "text", None),
            "review": [[m.role, getattr(m.content, "text", None)] for m in review.messages],
            "sampling": {"requests": rec.sampling, "result": sampled},
            "form": {"requests": rec.forms, "result": signed_up},
            "url": {"requests": rec.urls, "result": connected, "completed": rec.completed},
            "roots": roots.structured_content,
        }


CLIENTS = {"ts": ts_summary, "official": official_summary}


# ------------------------------------------------------------------ the servers


async def test_the_clients_use_mcpkit_run_over_http() -> None:
    """One `mcpkit run` subprocess serves both clients, one after the other."""
    argv = mcpkit("run", str(EVERYTHING), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        for name, summarize in CLIENTS.items():
            check(await summarize(url), name)
        assert await server.stop() == 0
    assert "stopped by SIGTERM" in server.text and "Traceback" not in server.text


def load_everything(name: str) -> Any:
    """A fresh copy of examples/everything.py (its notes and lifespan are its own), as module
    `name`, kept in sys.modules: dataclasses and type hints look their module up there."""
    spec = importlib.util.spec_from_file_location(name, EVERYTHING)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_each_client_uses_the_app_in_process(name: str) -> None:
    app = load_everything(f"everything_for_{name}").server.http_app()
    async with serving(app) as base:
        check(await CLIENTS[name](base + "/mcp"), name)
    assert len(app.sessions) == 0  # the client's DELETE (or the shutdown) ended its session
