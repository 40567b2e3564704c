"""`--oauth browser` (the default) where no browser can open, as in a shell over SSH: the
authorization URL and the ways around a browser are on stderr at once, not after five silent
minutes (issue 63). Python's webbrowser finds no browser without DISPLAY, WAYLAND_DISPLAY and
TERM but the one BROWSER names, here `false`: webbrowser.open returns False."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import pytest
from _verbs import REPO, WAIT

# tests/http's helpers, importable once _verbs has put their folder on the path
from _running import mcpkit, running  # isort: skip

PROTECTED = ["run", "examples/protected.py", "--transport", "http", "--port", "0"]
NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY", "TERM", "FORCE_COLOR", "TTY_COMPATIBLE")


# A server and a command line started one after another (Python starts, on a busy machine):
# each step has its own bound (WAIT).
@pytest.mark.mcpkit_timeout(WAIT * 2)
async def test_where_no_browser_opens_the_url_and_oauth_headless_are_shown_at_once(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in NO_DISPLAY}
    env.update(PYTHONPATH=str(REPO / "src"), BROWSER="false", XDG_CACHE_HOME=str(tmp_path))
    async with running(mcpkit(*PROTECTED)) as server:
        url = await server.started()
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mcpkit", "list", url,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=REPO,
        )  # fmt: skip
        assert cli.stderr is not None
        try:
            async with asyncio.timeout(WAIT):
                line = (await cli.stderr.readline()).decode()
            waiting = cli.returncode is None
        finally:
            with contextlib.suppress(ProcessLookupError):
                cli.kill()
            async with asyncio.timeout(WAIT):
                await cli.communicate()
    assert waiting  # told while it waits for the redirect, not when the wait ends
    origin = url.removesuffix("/mcp")
    assert line.startswith(f"no browser could be opened: authorize at {origin}/authorize?")
    assert "in a browser on this machine (waiting 300 s for the redirect to http://127." in line
    assert "use --oauth headless" in line
    assert "--header 'Authorization: Bearer TOKEN'" in line
