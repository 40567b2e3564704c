"""Issue 19's attacks on the inspector, without a browser: the token read from the browser's
command line (`ps`), a command named by a request, a page on another port of 127.0.0.1, and
`--header` values sent to a server typed in the page later."""

from __future__ import annotations

import asyncio
import io
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from _inspector_harness import SHOWCASE, log_in, served, serving
from test_dev import ENV, REPO, WAIT, _line_with

from mcpkit.cli.target import TargetError
from mcpkit.inspector.app import InspectorApp
from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.serve import _reload  # pyright: ignore[reportPrivateUsage]

FAKE_BROWSER = """#!/bin/sh
# what a browser's process shows every user of the machine: its arguments
printf '%s\\n' "$@" > "$0.argv"
"""


async def test_the_browser_is_given_a_one_time_code_never_the_token(tmp_path: Path) -> None:
    browser = tmp_path / "browser"
    browser.write_text(FAKE_BROWSER)
    browser.chmod(0o755)
    target = str(REPO / "examples" / "everything.py")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mcpkit", "inspect", target, "--web", "--port", "0"),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**ENV, "BROWSER": str(browser)},  # webbrowser.open runs $BROWSER
    )
    assert proc.stderr is not None
    try:
        printed = await _line_with(proc.stderr, r"mcpkit inspector: http://127\.0\.0\.1:\d+/")
        argv_file = Path(f"{browser}.argv")
        async with asyncio.timeout(WAIT):
            while not argv_file.exists() or not argv_file.read_text():
                await asyncio.sleep(0.02)
        (opened,) = argv_file.read_text().split()
        base, _, code = opened.partition("/?code=")
        assert base.startswith("http://127.0.0.1:") and code
        assert code not in printed  # the terminal's link is another one-time code
        async with httpx.AsyncClient(timeout=WAIT) as thief, httpx.AsyncClient() as late:
            page = await thief.get(opened)  # whoever reads `ps` first is let in, once
            assert page.status_code == 200
            (token,) = thief.cookies.values()
            assert token not in opened and token not in printed
            assert "token" not in opened and "token" not in printed
            refused = await late.post(f"{base}/api/state?token={token}", json={})
            assert refused.status_code == 403  # the token in an address admits nobody
            again = await late.get(opened)  # the browser, second: the code is spent ...
            assert again.status_code == 403 and "used already" in again.text
            await _line_with(proc.stderr, r"Every login is revoked")  # ... and the race seen:
            assert (await thief.post(f"{base}/api/state", json={})).status_code == 403
            code = printed.split("?code=")[1].split()[0]
            assert (await late.get(f"{base}/?code={code}")).status_code == 200
            assert (await late.post(f"{base}/api/state", json={})).status_code == 200
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_one_time_code_is_good_once_and_for_a_short_time() -> None:
    async with (
        served(InspectorHub()) as (base, app),
        httpx.AsyncClient() as browser,
        httpx.AsyncClient() as other,
    ):
        state = f"{base}/api/state"
        for code in (app.one_time_code(lifetime=0), "", "%C3%A9"):  # expired, none, not ASCII
            assert (await other.get(f"{base}/?code={code}")).status_code == 403
        printed = app.one_time_code(lifetime=None, exposed=False)  # good until it is used
        assert (await other.get(f"{base}/?code={printed}")).status_code == 200
        spent = app.one_time_code()  # the browser's: its arguments show it to every user
        assert (await browser.get(f"{base}/?code={spent}")).status_code == 200
        assert (await browser.get(f"{base}/?code={spent}")).status_code == 200  # its cookie
        assert (await browser.post(state, json={})).status_code == 200
        async with httpx.AsyncClient() as late:
            assert (await late.get(f"{base}/?code={printed}")).status_code == 403
            assert (await other.post(state, json={})).status_code == 200  # nothing revoked
            # the browser's code again, without its cookie: one of the two raced the other
            raced = await late.get(f"{base}/?code={spent}")
            assert raced.status_code == 403 and "revoked" in raced.text
        for client in (browser, other):  # every login: the token changed
            assert (await client.post(state, json={})).status_code == 403


async def test_a_page_on_another_port_of_this_machine_cannot_use_the_cookie() -> None:
    # SameSite does not tell ports apart: http://127.0.0.1:8000 is the same site
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient() as http:
        await log_in(http, base, app)
        for site in ("same-site", "cross-site"):
            framed = await http.get(f"{base}/", headers={"Sec-Fetch-Site": site})
            assert framed.status_code == 403
            sent = await http.post(f"{base}/api/state", json={}, headers={"Sec-Fetch-Site": site})
            assert sent.status_code == 403
        own = await http.post(
            f"{base}/api/state", json={}, headers={"Sec-Fetch-Site": "same-origin"}
        )
        assert own.status_code == 200


async def test_a_command_named_by_a_request_runs_only_once_confirmed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    attack = f"sh -c 'touch {marker}'"
    server = f"{sys.executable} -m mcpkit run {SHOWCASE}"
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient(timeout=30) as http:
        await log_in(http, base, app)  # even with the token, a request alone runs nothing

        async def connect(target: str, confirm: str | None = None) -> dict[str, Any]:
            body = {"target": target} | ({"confirm": confirm} if confirm is not None else {})
            reply: dict[str, Any] = (await http.post(f"{base}/api/connect", json=body)).json()
            return reply

        asked = (await connect(attack))["confirm"]
        assert asked["command"] == shlex.join(["sh", "-c", f"touch {marker}"])
        guessed = await connect(attack, confirm="guessed")
        assert "confirm" in guessed and guessed["confirm"]["nonce"] != asked["nonce"]
        other = (await connect(server))["confirm"]
        assert "confirm" in await connect(attack, confirm=other["nonce"])  # not its nonce
        assert not marker.exists() and app.hub.client is None
        # the page shows the command; the person presses Run: the nonce comes back, once
        connected = await connect(server, confirm=(await connect(server))["confirm"]["nonce"])
        assert connected["result"]["serverInfo"]["name"] == "showcase"
        assert "result" in await connect(server)  # confirmed once: not asked again
        file_target = await connect(SHOWCASE)  # a file typed in the page runs Python too
        assert file_target["confirm"]["command"].endswith(f"-m mcpkit run {SHOWCASE}")
        assert (await connect("http://127.0.0.1:9/mcp"))["error"]  # a URL starts nothing
        assert not marker.exists()
    # the target given on the command line (`mcpkit dev server.py`) is not asked about
    async with served(InspectorHub(initial_target=SHOWCASE)) as (base, app):
        async with httpx.AsyncClient(timeout=30) as http:
            await log_in(http, base, app)
            reply = await http.post(f"{base}/api/connect", json={"target": SHOWCASE})
            assert reply.json()["result"]["serverInfo"]["name"] == "showcase"


async def test_a_save_does_not_start_a_target_that_was_never_confirmed(tmp_path: Path) -> None:
    # a file that does not exist yet is nothing to confirm: the connect fails, but `mcpkit dev`
    # keeps the target to try again on the next save
    app = InspectorApp(InspectorHub())
    later, marker = tmp_path / "later.py", tmp_path / "ran"
    with pytest.raises(TargetError):
        await app.hub.connect(str(later), approve=app.approvals.check)
    later.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    out = io.StringIO()
    await _reload(app.hub, [later], out, app.approvals.check)
    assert "nobody confirmed it in the page" in out.getvalue()
    assert not marker.exists() and app.hub.client is None


class HeaderRecorder:
    """An ASGI app that notes the headers of every request and answers 404."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_header_values_go_only_to_the_target_they_were_given_for() -> None:
    given, typed = HeaderRecorder(), HeaderRecorder()
    async with serving(given) as given_base, serving(typed) as typed_base:
        session = InspectorHub(initial_target=f"{given_base}/mcp", headers={"X-Api-Key": "secret"})
        async with served(session) as (base, app), httpx.AsyncClient(timeout=30) as http:
            await log_in(http, base, app)
            await http.post(f"{base}/api/connect", json={"target": f"{typed_base}/mcp"})
            await http.post(f"{base}/api/connect", json={"target": f"{given_base}/mcp"})
    assert typed.seen and given.seen
    assert all("x-api-key" not in headers for headers in typed.seen)
    assert all(headers.get("x-api-key") == "secret" for headers in given.seen)
