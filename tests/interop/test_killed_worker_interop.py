"""The TypeScript SDK's client (v1, StreamableHTTPClientTransport) calling a tool on `mcpkit
run --workers 2` with a SQLite store, whose worker it SIGKILLs after three progress messages:
the transport resumes the cut stream with Last-Event-ID on the other worker, gets each
message once, and its call is rejected with the error of a stopped process (issue 23,
"Durability"); the session goes on. The official Python SDK's client has the same test in
tests/http/test_http_workers.py."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from interop_harness import PEERS, SUBPROCESS_TIMEOUT, require_node, run_summary

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _running import mcpkit, running  # isort: skip
from _steps_server import STEPS  # isort: skip
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.transports.deployment.relay import STOPPED


async def test_the_typescript_client_gets_what_was_logged_then_the_stopped_error(
    tmp_path: Path,
) -> None:
    node = require_node()
    (tmp_path / "steps.py").write_text(STEPS)
    store = f"sqlite:///{tmp_path / 'state.db'}?lease=1"
    argv = mcpkit("run", "steps.py", "--transport", "http", "--port", "0", "--workers", "2")
    async with (
        asyncio.timeout(SUBPROCESS_TIMEOUT * 2),
        running([*argv, "--store", store], cwd=tmp_path) as sup,
    ):
        url = await sup.started()
        client = [node, str(PEERS / "killed_worker_ts_client.mjs"), url]
        summary = await asyncio.to_thread(run_summary, client, "the TypeScript client")
    runner = summary["progress"][0].rsplit(" ", 1)[1]
    assert summary["progress"] == [f"step {n} by {runner}" for n in (1, 2, 3)]
    assert summary["error"]["code"] == INTERNAL_ERROR
    assert summary["error"]["message"].endswith(STOPPED)
    assert summary["tools"] == ["steps"]
