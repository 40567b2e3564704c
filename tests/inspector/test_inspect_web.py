"""`mcpkit inspect TARGET --web` as a subprocess: it serves the inspector for TARGET, the page's
API answers with the token and refuses without it, and Ctrl-C ends it."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import httpx
from test_dev import ENV, REPO, WAIT, _line_with, _tools


async def test_inspect_web_serves_the_inspector_for_the_target() -> None:
    target = str(REPO / "examples" / "everything.py")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mcpkit", "inspect", target, "--web", "--no-browser"),
        *("--port", "0"),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    assert proc.stderr is not None
    try:
        line = await _line_with(proc.stderr, r"mcpkit inspector: http://127\.0\.0\.1:\d+/\?token=")
        base, token = re.findall(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)[0]
        async with httpx.AsyncClient(timeout=WAIT) as http:
            refused = await http.post(f"{base}/api/state?token=wrong", json={})
            assert refused.status_code == 403
            state = (await http.post(f"{base}/api/state?token={token}", json={})).json()
            assert state["result"]["initialTarget"] == target
            await http.post(f"{base}/api/connect?token={token}", json={"target": target})
            assert "add" in await _tools(http, f"{base}/api/request?token={token}")
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
