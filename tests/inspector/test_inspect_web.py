"""`mcpkit inspect TARGET --web` as a subprocess: it serves the inspector for TARGET, the page's
API answers a client logged in with the printed one-time link and refuses others, and Ctrl-C
ends it."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx
from test_dev import ENV, REPO, WAIT, _logged_in, _tools


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
        async with (
            _logged_in(proc.stderr) as (base, http),
            httpx.AsyncClient(timeout=WAIT) as stranger,
        ):
            refused = await stranger.post(f"{base}/api/state", json={})
            assert refused.status_code == 403
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["initialTarget"] == target
            await http.post(f"{base}/api/connect", json={"target": target})
            assert "add" in await _tools(http, f"{base}/api/request")
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
