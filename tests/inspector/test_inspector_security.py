"""Issues 19 and 39's attacks on the inspector, without a browser: a login read from the
browser's command line (`ps`, /proc), a command named by a request and its confirmation echoed
back, a page on another port of 127.0.0.1, and `--header` values sent to a server typed in the
page later."""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import os
import re
import shlex
import signal
import stat
import sys
import tempfile
import urllib.parse
import webbrowser
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from _inspector_harness import SHOWCASE, log_in, served, serving
from test_dev import ENV, REPO, WAIT, _line_with

from mcpkit.client.target import TargetError
from mcpkit.inspector.app import InspectorApp
from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.launcher import Launcher
from mcpkit.inspector.serve import (
    _launch_browser,  # pyright: ignore[reportPrivateUsage]
    _reload,  # pyright: ignore[reportPrivateUsage]
)

FAKE_BROWSER = """#!/bin/sh
# what a browser's process shows every user of the machine: its arguments
printf '%s\\n' "$@" > "$0.argv"
"""


async def test_the_browsers_arguments_hold_no_credential(tmp_path: Path) -> None:
    # Issue 39: another local process read the browser's one-time code from /proc 0.01 s
    # after it appeared, and logged in with it. Now the browser is given a file only this
    # user can read; that file holds the link.
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
        base = printed.split()[-1].split("/?code=")[0]
        argv_file = Path(f"{browser}.argv")
        async with asyncio.timeout(WAIT):
            while not argv_file.exists() or not argv_file.read_text():
                await asyncio.sleep(0.02)
        (opened,) = argv_file.read_text().split()
        assert opened.startswith("file:///") and "code" not in opened
        launcher = Path(urllib.parse.urlparse(opened).path)
        # what another user sees is a name: the file and its folder are this user's alone
        assert stat.S_IMODE(launcher.stat().st_mode) == 0o600
        assert stat.S_IMODE(launcher.parent.stat().st_mode) == 0o700
        assert launcher.stat().st_uid == os.getuid()
        async with httpx.AsyncClient(timeout=WAIT) as thief, httpx.AsyncClient() as browsing:
            # the attacker tries every word it could read as a code: none logs in
            for word in {opened, *re.split(r"[/?=&.:]", opened)} - {""}:
                assert (await thief.get(f"{base}/", params={"code": word})).status_code == 403
            # the browser reads the file (its owner may) and follows its link
            (link,) = re.findall(r'url=([^"]+)"', launcher.read_text())
            link = html.unescape(link)
            assert link.startswith(f"{base}/?code=") and link not in printed
            assert (await browsing.get(link)).status_code == 200
            assert (await browsing.post(f"{base}/api/state", json={})).status_code == 200
            assert not launcher.parent.exists()  # deleted once used
            (token,) = browsing.cookies.values()
            assert token not in printed and token not in link
            refused = await thief.post(f"{base}/api/state?token={token}", json={})
            assert refused.status_code == 403  # the token in an address admits nobody
            again = await thief.get(link)  # the link used a second time: someone raced it
            assert again.status_code == 403 and "used already" in again.text
            await _line_with(proc.stderr, r"Every login is revoked")
            assert (await browsing.post(f"{base}/api/state", json={})).status_code == 403
            code = printed.split("?code=")[1].split()[0]
            assert (await browsing.get(f"{base}/?code={code}")).status_code == 200
            assert (await browsing.post(f"{base}/api/state", json={})).status_code == 200
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_the_launcher_is_private_and_removed_at_exit() -> None:
    # a browser that never opened it: the inspector deletes it when it stops
    launcher = Launcher('http://127.0.0.1:1/?code=a&b=<"x">')
    try:
        assert stat.S_IMODE(launcher.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(launcher.folder.stat().st_mode) == 0o700
        text = launcher.path.read_text()
        assert 'url=http://127.0.0.1:1/?code=a&amp;b=&lt;&quot;x&quot;&gt;"' in text
    finally:
        launcher.remove()
    assert not launcher.folder.exists()
    launcher.remove()  # again: nothing to do


def test_no_launcher_file_means_no_browser_never_a_link_in_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    out = io.StringIO()
    assert _launch_browser(InspectorApp(InspectorHub()), "http://127.0.0.1:1", out) is None
    assert "not opening a browser" in out.getvalue() and opened == []


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


class PageStream:
    """The event stream of a page, read as the page reads it; `key` is the page's own."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines
        self.key = ""

    async def next(self, kind: str) -> dict[str, Any]:
        """The next event of type `kind` (the others are skipped)."""
        async with asyncio.timeout(WAIT):
            async for line in self._lines:
                if line.startswith("data: "):
                    event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                    if event["type"] == kind:
                        return event
        raise AssertionError(f"the event stream ended before a {kind} event")


@contextlib.asynccontextmanager
async def page_stream(http: httpx.AsyncClient, base: str) -> AsyncIterator[PageStream]:
    async with http.stream("GET", f"{base}/api/events") as response:
        assert response.status_code == 200
        stream = PageStream(response.aiter_lines())
        stream.key = (await stream.next("page"))["key"]
        yield stream


def _strings(value: Any) -> set[str]:
    """Every string in a JSON value, keys and values."""
    if isinstance(value, dict):
        pairs = cast("dict[str, Any]", value).items()
        return {text for key, item in pairs for text in {key, *_strings(item)}}
    if isinstance(value, list):
        return {text for item in cast("list[Any]", value) for text in _strings(item)}
    return {value} if isinstance(value, str) else set()


async def test_a_command_named_by_a_request_runs_only_once_confirmed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    attack = f"sh -c 'touch {marker}'"
    server = f"{sys.executable} -m mcpkit run {SHOWCASE}"
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient(timeout=30) as http:
        await log_in(http, base, app)  # even with the token, a request alone runs nothing

        async def connect(
            target: str, confirm: str | None = None, page: str | None = None
        ) -> dict[str, Any]:
            body: dict[str, Any] = {"target": target, "page": page}
            if confirm is not None:
                body["confirm"] = confirm
            reply: dict[str, Any] = (await http.post(f"{base}/api/connect", json=body)).json()
            return reply

        async with page_stream(http, base) as page, page_stream(http, base) as other:

            async def refused(target: str, confirm: str | None, key: str | None) -> str:
                """Asked again: the nonce the page that asked (if `page`) is shown now."""
                answer = (await connect(target, confirm, key))["confirm"]
                assert answer["shown"] == (key is not None) and "nonce" not in answer
                return (await page.next("confirm"))["nonce"] if key == page.key else ""

            # Issue 39: the answer held the nonce, and the caller echoed it back to run `sh`
            answer = await connect(attack)
            command = shlex.join(["sh", "-c", f"touch {marker}"])
            assert answer == {"confirm": {"target": attack, "command": command, "shown": False}}
            for word in _strings(answer):
                for key in (None, page.key):
                    await refused(attack, word, key)
            nonce = await refused(attack, None, page.key)  # on the page that asked alone
            assert nonce not in str(answer)
            # its nonce from another page (or none) runs nothing, and is spent
            for key in (other.key, None, page.key):
                await refused(attack, nonce, key)
            not_its = await refused(server, None, page.key)  # another command's nonce
            await refused(attack, not_its, page.key)
            assert not marker.exists() and app.hub.client is None
            # the person presses Run in the page: the nonce comes back from it, once
            nonce = await refused(server, None, page.key)
            connected = await connect(server, confirm=nonce, page=page.key)
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
