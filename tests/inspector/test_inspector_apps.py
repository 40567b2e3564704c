"""The inspector as an MCP Apps host, in a real headless Chromium: examples/apps.py's view
renders in the sandbox proxy (another origin), gets its tool input and result, calls a tool
for views alone, follows theme and display mode; a probe view reaches only the origins its
CSP declares and calls only the tools a view may call. Screenshots as in the other browser
tests."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _inspector_harness import (
    HERE,
    WAIT_MS,
    browser_marks,
    browser_page,
    connect,
    login_url,
    open_tool,
    served,
    shoot,
)

from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.serve import _reload  # pyright: ignore[reportPrivateUsage]
from mcpkit.inspector.watch import files_to_watch

pytestmark = browser_marks(120)

APPS = str(HERE.parents[1] / "examples" / "apps.py")


async def test_the_example_view_renders_calls_its_tool_and_follows_the_host(
    tmp_path: Path,
) -> None:
    async with origin(b"ok") as undeclared, served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page, APPS)
            await page.click("#tabs button[data-tab=tools]")
            listed = await page.text_content("#tool-list")
            assert listed is not None and "[for its view only]" in listed
            await open_tool(page, "forecast")
            await page.fill("input[name=city]", "Oslo")
            await page.click(".tool-form button[type=submit]")
            frame = page.frame_locator(".view-frame").frame_locator("iframe")
            await frame.locator("#title >> text=Forecast for Oslo").wait_for(timeout=WAIT_MS)
            assert await frame.locator(".day").count() == 3
            assert "18.5" in (await frame.locator(".day").first.text_content() or "")
            # the refresh button calls refresh_forecast, a tool for the view alone
            await frame.locator("#refresh").click()
            await frame.locator("#status >> text=refreshed").wait_for(timeout=WAIT_MS)
            assert "19" in (await frame.locator(".day").first.text_content() or "")
            await shoot(page, tmp_path, "apps-inline")
            # the theme toggle reaches the view
            before = await frame.locator("html").get_attribute("data-theme")
            await page.click("#theme")
            await frame.locator(f"html:not([data-theme='{before}'])").wait_for(timeout=WAIT_MS)
            # fullscreen, asked by the view
            await frame.locator("#fullscreen").click()
            await page.wait_for_selector(".view.fullscreen", timeout=WAIT_MS)
            await frame.locator("html[data-mode=fullscreen]").wait_for(timeout=WAIT_MS)
            await shoot(page, tmp_path, "apps-fullscreen")
            # and back, asked by the view again
            await frame.locator("#fullscreen >> text=Back inline").click()
            await frame.locator("html[data-mode=inline]").wait_for(timeout=WAIT_MS)
            # its CSP (it declares no origin) stops a script of the view reaching one
            inner = next(f for f in page.frames if "/view/" in f.url)
            reached = await inner.evaluate(
                f"fetch({undeclared!r}).then(() => 'reached', () => 'blocked')"
            )
            assert reached == "blocked"


@contextlib.asynccontextmanager
async def origin(body: bytes) -> AsyncIterator[str]:
    """A loopback HTTP origin answering every request with `body`, to any origin (CORS)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\naccess-control-allow-origin: *\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_view_reaches_only_what_its_csp_declares_and_calls_only_app_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with origin(b"ok") as allowed, origin(b"ok") as blocked:
        monkeypatch.setenv("MCPKIT_TEST_ALLOWED", allowed)
        monkeypatch.setenv("MCPKIT_TEST_BLOCKED", blocked)
        async with served(InspectorHub()) as (base, app):
            async with browser_page(login_url(base, app)) as page:
                await connect(page, str(HERE / "apps_server.py"))
                # Issue 39: a script before <head>, or a <header> and no <head>, put the
                # policy's <meta> where Chromium ignores it, and the view reached any origin
                views = {
                    "probe": "view",
                    "probe_script_first": "script-first",
                    "probe_header_no_head": "header-no-head",
                }
                for tool, view in views.items():
                    await open_tool(page, tool)
                    await page.click(".tool-form button[type=submit]")
                    shown = page.locator(".view", has=page.locator(f"text='ui://probe/{view}'"))
                    said = shown.locator(".view-said")
                    await said.locator("text=app_only:").wait_for(timeout=WAIT_MS)
                    text = await said.text_content() or ""
                    assert "allowed: 200" in text, (tool, text)
                    assert "blocked: failed" in text, (tool, text)
                    assert "model_only: refused" in text, (tool, text)
                    assert "app_only: for the view" in text, (tool, text)
                    if tool == "probe_script_first":
                        assert "early: failed" in text, (tool, text)
                await page.wait_for_selector("#notifications >> text=view: log")
                await shoot(page, tmp_path, "apps-probe")


async def test_a_view_shown_while_its_tool_runs_hears_that_the_call_was_cancelled(
    tmp_path: Path,
) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page, str(HERE / "apps_server.py"))
            await open_tool(page, "wait_long")
            await page.fill("input[name=seconds]", "30")
            await page.click(".tool-form button[type=submit]")
            view = page.frame_locator(".view-frame").frame_locator("iframe")
            await view.locator("#state >> text=waiting 30").wait_for(timeout=WAIT_MS)
            await page.click(".tool-form button.cancel")
            await view.locator("#state >> text=cancelled: cancelled in the inspector").wait_for(
                timeout=WAIT_MS
            )
            await shoot(page, tmp_path, "apps-cancelled")


async def test_mcpkit_dev_shows_the_view_again_when_its_html_changes(tmp_path: Path) -> None:
    view = tmp_path / "views" / "main.html"
    view.parent.mkdir()
    view.write_text("<html><body><p id='v'>first</p></body></html>")
    server = tmp_path / "server.py"
    server.write_text(
        "from pathlib import Path\nfrom mcpkit import Server\n\nserver = Server('live')\n"
        "server.add_view('ui://live/main', Path(__file__).parent / 'views' / 'main.html')\n\n\n"
        "@server.tool(view='ui://live/main')\ndef show() -> str:\n    return 'shown'\n"
    )
    assert view in files_to_watch(server)
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page, str(server))
            await open_tool(page, "show")
            await page.click(".tool-form button[type=submit]")
            frame = page.frame_locator(".view-frame").frame_locator("iframe")
            await frame.locator("#v >> text=first").wait_for(timeout=WAIT_MS)
            view.write_text("<html><body><p id='v'>second</p></body></html>")
            await _reload(app.hub, [view], io.StringIO(), app.approvals.check)  # as dev does
            await frame.locator("#v >> text=second").wait_for(timeout=WAIT_MS)


async def test_a_view_asks_to_open_links_the_host_shown_a_few_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 39: the confirm dialog showed https://accounts.example.com@evil.example/ as is
    async with origin(b"ok") as site:
        monkeypatch.setenv("MCPKIT_TEST_ALLOWED", site)
        async with served(InspectorHub()) as (base, app):
            async with browser_page(login_url(base, app)) as page:
                await connect(page, str(HERE / "apps_server.py"))
                for tool, view, opening in [
                    ("links", "links", False),
                    ("links_again", "links-again", True),
                ]:
                    await open_tool(page, tool)
                    await page.click(".tool-form button[type=submit]")
                    shown = page.locator(".view", has=page.locator(f"text='ui://probe/{view}'"))
                    ask = shown.locator(".link-ask")
                    await ask.wait_for(timeout=WAIT_MS)
                    said = shown.locator(".view-said")
                    await said.locator("text=second:").wait_for(timeout=WAIT_MS)
                    assert await ask.locator(".link-host").text_content() == site[len("http://") :]
                    assert await ask.locator(".link-url").text_content() == f"{site}/page"
                    await shoot(page, tmp_path, f"apps-link-{view}")
                    if opening:
                        async with page.context.expect_page() as opened:
                            await ask.locator(".link-open").click()
                        assert (await opened.value).url == f"{site}/page"
                    else:
                        await ask.locator(".link-cancel").click()
                    await said.locator("text=links done").wait_for(timeout=WAIT_MS)
                    text = await said.text_content() or ""
                    assert "userinfo: Invalid URL: a link with a user name" in text, text
                    assert "scheme: Invalid URL: javascript: links are not opened" in text, text
                    assert "second: A link is already waiting" in text, text
                    first = "first: opened" if opening else "first: Link opening denied by user"
                    assert first in text, text
                    assert "fourth: Too many links: a view may ask at most 3 a minute" in text
                    assert await shown.locator(".link-ask").count() == 0
                    # six messages said above, and the view's budget is 60 a minute
                    inside = shown.frame_locator(".view-frame").frame_locator("iframe")
                    flood = inside.locator("body[data-flood]")
                    await flood.wait_for(timeout=WAIT_MS)
                    assert await flood.get_attribute("data-flood") == (
                        "54 more shown; Too many messages: a view may show at most 60 a minute"
                    )
