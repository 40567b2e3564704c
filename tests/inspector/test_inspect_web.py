"""`mcpkit inspect TARGET --web` as a subprocess: it serves the inspector for TARGET, the page's
API answers a client logged in with the printed one-time link and refuses others, `--protocol`
and `--timeout` are the connection panel's settings, and Ctrl-C ends it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_dev import ENV, REPO, WAIT, _logged_in, _tools

import mcpkit.inspector as inspector
from mcpkit.cli import _verb_client
from mcpkit.cli.main import main


async def test_inspect_web_serves_the_inspector_for_the_target() -> None:
    target = str(REPO / "examples" / "everything.py")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mcpkit", "inspect", target, "--web", "--no-browser"),
        *("--port", "0", "--protocol", "2025-11-25", "--timeout", "30"),
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
            settings = state["result"]["settings"]
            assert (settings["protocol"], settings["timeout"]) == ("2025-11-25", 30.0)
            # a connect that names no settings keeps the last ones: the command line's
            asked = {"target": target}
            connected = (await http.post(f"{base}/api/connect", json=asked)).json()
            assert connected["result"]["protocolVersion"] == "2025-11-25"
            assert not connected["result"]["modern"]
            assert "add" in await _tools(http, f"{base}/api/request")
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize(
    ("words", "protocol", "timeout"),
    [
        ([], "auto", None),  # no --timeout: the page's calls wait as long as the person does
        (["--protocol", "2025-11-25", "--timeout", "12.5"], "2025-11-25", 12.5),
        (["--protocol", "2026-07-28", "--timeout", "0"], "2026-07-28", None),
    ],
)
def test_web_passes_protocol_and_timeout_to_the_panel(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    words: list[str],
    protocol: str,
    timeout: float | None,
) -> None:
    monkeypatch.chdir(tmp_path)  # a target that does not exist is refused before --web starts
    (tmp_path / "server.py").write_text("")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(inspector, "serve_inspector", lambda target, **given: seen.update(given))
    assert main(["inspect", "server.py", "--web", "--no-browser", *words]) == 0
    settings = seen["settings"]
    assert (settings.protocol, settings.timeout) == (protocol, timeout)


def test_without_web_the_common_timeout_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []

    def session(args: Any, parser: Any, body: Any) -> int:
        seen.append(args.timeout)
        return 0

    monkeypatch.setattr(_verb_client, "run_session", session)
    main(["inspect", "server.py"])
    main(["inspect", "server.py", "--timeout", "5"])
    assert seen == [60.0, 5.0]
