"""Issue 19's attacks on the inspector's page, in a real headless Chromium: the one-time login
link, a command typed in the page (run only once confirmed), and a hostile server
(tests/inspector/hostile.py) whose schema pattern backtracks for minutes and whose blob claims
to be an HTML page."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from _inspector_harness import (
    HERE,
    SHOWCASE,
    WAIT_MS,
    browser_marks,
    browser_page,
    login_url,
    open_tool,
    served,
    shoot,
)

from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.launcher import Launcher

pytestmark = browser_marks(90)

HOSTILE = str(HERE / "hostile.py")


async def test_a_one_time_link_logs_in_and_a_typed_command_runs_once_confirmed(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    async with served(InspectorHub()) as (base, app):
        link = login_url(base, app)
        async with browser_page(link) as page:
            assert page.url == f"{base}/"  # the spent code is out of the address bar
            assert await page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
            await page.fill("#target", f"sh -c 'touch {marker}'")
            await page.click("#connect")
            panel = page.locator("#confirm-panel")
            await panel.wait_for(timeout=WAIT_MS)
            shown = await panel.locator("pre.command").text_content()
            assert shown == shlex.join(["sh", "-c", f"touch {marker}"])
            await shoot(page, tmp_path, "confirm-command")
            await page.click("#confirm-cancel")
            assert await panel.is_hidden()
            assert not marker.exists() and app.hub.client is None
            await page.fill("#target", f"{sys.executable} -m mcpkit run {SHOWCASE}")
            await page.click("#connect")
            await page.click("#confirm-run", timeout=WAIT_MS)
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            assert await panel.is_hidden()
            other = await page.context.browser.new_context()
            try:  # another browser with the same link: someone raced one of the two to it
                stranger = await other.new_page()
                refused = await stranger.goto(link)
                assert refused is not None and refused.status == 403
                assert "revoked" in (await stranger.text_content("body") or "")
            finally:
                await other.close()
            # every login is revoked: this page's stream ends, and it says so
            await page.wait_for_selector("#status >> text=logged this browser out")
            assert (await page.request.post(f"{base}/api/state", data={})).status == 403


async def test_a_catastrophic_pattern_does_not_freeze_the_page(tmp_path: Path) -> None:
    async with served(InspectorHub(initial_target=HOSTILE)) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            await open_tool(page, "shout")
            word = page.locator("label.field[data-path=word]")
            await page.fill("input[name=word]", "b")  # a quick check still names the problem
            await page.click(".tool-form button[type=submit]")
            await word.locator(".error >> text=must match").wait_for(timeout=WAIT_MS)
            # a backtracking engine takes about 2**29 steps on this (16 s froze the page)
            await page.fill("input[name=word]", "a" * 29 + "!")
            started = time.monotonic()
            await page.click(".tool-form button[type=submit]")
            note = word.locator(".note")
            await note.wait_for(timeout=WAIT_MS)
            assert await page.evaluate("1 + 1") == 2  # the page answers at once
            took = time.monotonic() - started
            print(f"a catastrophic pattern held the form for {took:.2f} s")
            assert took < 5, took  # the check is stopped after 200 ms; 5 s for a busy machine
            assert "too slow to check" in (await note.text_content() or "")
            # the server decides: it refuses the word, and says so
            refusal = page.locator(".tool-form .outcome .is-error")
            await refusal.wait_for(timeout=WAIT_MS)
            await shoot(page, tmp_path, "slow-pattern")
            await page.fill("input[name=word]", "aaaa")  # a new worker, after the stopped one
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".tool-form .outcome >> text=AAAA", timeout=WAIT_MS)
            assert await note.is_hidden()


async def test_an_html_blob_is_offered_as_text_not_as_a_page(tmp_path: Path) -> None:
    async with served(InspectorHub(initial_target=HOSTILE)) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            await page.click("#tabs button[data-tab=resources]")
            await page.click("#resource-list button.item >> text='evil://files/page.html'")
            link = page.locator("#resource-view a[download]")
            await link.wait_for(timeout=WAIT_MS)
            shown = await page.locator("#resource-view pre").text_content() or ""
            assert shown.startswith("<script>")  # its text, shown as text
            assert (await link.get_attribute("href") or "").startswith("data:text/plain;")
            async with page.expect_download() as downloading:
                await link.click()
            download = await downloading.value
            assert download.suggested_filename == "page.html.txt"
            assert await page.title() == "mcpkit inspector"
            await shoot(page, tmp_path, "html-blob")


async def test_the_launcher_file_logs_in_and_a_scripted_click_runs_nothing(
    tmp_path: Path,
) -> None:
    # Issue 39: the browser is given a private file holding the link, never the link itself
    marker = tmp_path / "ran"
    async with served(InspectorHub()) as (base, app):
        launcher = Launcher(f"{base}/?code={app.one_time_code()}")
        try:
            async with browser_page(launcher.url) as page:
                assert page.url == f"{base}/"  # the file's link followed, its code spent
                await page.fill("#target", f"sh -c 'touch {marker}'")
                await page.click("#connect")
                panel = page.locator("#confirm-panel")
                await page.locator("#confirm-run").wait_for(timeout=WAIT_MS)
                # a click a script makes is not the person's: the Run button ignores it
                await page.evaluate("document.getElementById('confirm-run').click()")
                assert await panel.is_visible()
                await page.click("#confirm-cancel")
                assert not marker.exists() and app.hub.client is None
        finally:
            launcher.remove()
