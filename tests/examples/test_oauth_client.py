"""The authorization quick start of docs/auth.md as a user runs it: `mcpkit run
examples/protected.py --transport http --port 0` in a subprocess, and examples/oauth_client.py
(a fresh process, so a fresh client with nothing stored) completing the flow against it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from _processes import finished, starts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers

from _running import REPO, WAIT, mcpkit, running

EXAMPLE = REPO / "examples" / "oauth_client.py"


async def run_client(*args: str) -> tuple[int, str, str]:
    """examples/oauth_client.py in a subprocess with this checkout's mcpkit: exit, out, err."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        *args,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT):
        out, err = await finished(proc)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@starts(3)
async def test_the_oauth_client_example_completes_the_flow_against_mcpkit_run() -> None:
    argv = mcpkit("run", "examples/protected.py", "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        code, out, err = await run_client(url)
        again = await run_client(url.replace("127.0.0.1", "localhost"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "tools: whoami"  # rotate_secrets needs admin: not listed
    assert lines[1].startswith("whoami: ")
    who = json.loads(lines[1].removeprefix("whoami: "))
    assert who["subject"] == "dev-user" and who["scopes"] == ["mcp"]
    assert who["client_id"]  # registered dynamically by this run
    assert again[0] == 0 and again[1].splitlines()[0] == "tools: whoami", again[2]
    assert "development authorization server" in server.text  # it says it is not production


async def test_the_oauth_client_example_says_how_to_call_it() -> None:
    code, _, err = await run_client()
    assert code == 1 and "usage: python examples/oauth_client.py http" in err
