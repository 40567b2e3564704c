"""What a 1280x800 window shows, in a real headless Chromium: a tool's view above the fold with
its result in tabs under it (content, structured, raw: each once), long keys of the message log
wrapped inside it, no console error from the page's load to a view's render, and a failed
`mcpkit dev` restart told alike in the banner and the Server panel."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

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

pytestmark = browser_marks(120)

APPS = str(HERE.parents[1] / "examples" / "apps.py")
WINDOW = (1280, 800)


async def box(page: Any, selector: str) -> dict[str, float]:
    found = await page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return dict(found)


async def test_a_view_comes_first_and_its_result_is_in_tabs(tmp_path: Path) -> None:
    errors: list[str] = []
    async with served(InspectorHub()) as (base, app):
        url = login_url(base, app)
        async with browser_page(url, viewport=WINDOW, console_errors=errors) as page:
            await page.emulate_media(color_scheme="light")
            await connect(page, APPS)
            await open_tool(page, "forecast")
            await page.fill("input[name=city]", "Oslo")
            await page.click(".tool-form button[type=submit]")
            frame = page.frame_locator(".view-frame").frame_locator("iframe")
            await frame.locator("#title >> text=Forecast for Oslo").wait_for(timeout=WAIT_MS)
            await page.wait_for_selector(".tool-result", timeout=WAIT_MS)
            view, result = await box(page, ".view"), await box(page, ".tool-result")
            assert view["y"] + view["height"] <= WINDOW[1], view  # all of it, unscrolled
            assert result["y"] >= view["y"] + view["height"]  # the result comes after
            await shoot(page, tmp_path, "view-first-light", full_page=False)
            await page.emulate_media(color_scheme="dark")  # the system's setting: the view too
            await frame.locator("html[data-theme=dark]").wait_for(timeout=WAIT_MS)
            await shoot(page, tmp_path, "view-first-dark", full_page=False)
            tabs = await page.locator(".tool-result .result-tabs button").all_text_contents()
            assert tabs == ["Content", "Structured", "Raw"]
            shown = page.locator(".tool-result .result-pane")
            assert await shown.get_attribute("data-pane") == "content"
            # the structured result is shown once: the content's JSON, as a tree, alone
            assert (await shown.text_content() or "").count("Oslo") == 1
            await page.click(".tool-result .result-tabs button >> text=Structured")
            assert await shown.get_attribute("data-pane") == "structured"
            assert "celsius" in (await shown.text_content() or "")
            await page.click(".tool-result .result-tabs button >> text=Raw")
            raw = await shown.locator("pre.raw").text_content() or ""
            assert '"structuredContent"' in raw and '"content"' in raw
    assert errors == []  # the page's policy and the view's load log nothing


async def test_long_keys_wrap_inside_the_message_log(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app), viewport=WINDOW) as page:
            await page.emulate_media(color_scheme="light")
            await connect(page, str(HERE / "panel_server.py"))
            await open_tool(page, "long_keys")
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".tool-result", timeout=WAIT_MS)
            answer = page.locator("#log li.received").last
            await answer.click()
            await answer.locator(".body .tree").wait_for(timeout=WAIT_MS)
            log = await box(page, "#log")
            for key in await answer.locator(".body summary, .body .leaf").all():
                shown = await key.bounding_box()
                assert shown is not None
                assert shown["x"] + shown["width"] <= log["x"] + log["width"] + 0.5
            overflow = await page.eval_on_selector("#log", "e => e.scrollWidth - e.clientWidth")
            assert overflow == 0  # nothing wider than the log, so nothing clipped
            await answer.scroll_into_view_if_needed()
            await shoot(page, tmp_path, "long-keys", full_page=False)


async def test_a_failed_restart_is_told_alike_in_the_banner_and_the_panel(
    tmp_path: Path,
) -> None:
    server = tmp_path / "server.py"
    server.write_text("from mcpkit import Server\n\nserver = Server('dev-demo')\n")
    session = InspectorHub(initial_target=str(server))
    async with served(session) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            server.write_text("from mcpkit import Server\n\nserver = Server(\n")  # mid-edit
            await _reload(session, [server], io.StringIO())
            await page.wait_for_selector("#error-panel:not([hidden])", timeout=WAIT_MS)
            banner = await page.text_content("#banner") or ""
            panel = await page.text_content("#tab-server") or ""
            for told in (banner, panel):
                assert "the next save tries again" in told, told
                assert "connect again" not in told, told
            await page.fill("#target", str(tmp_path / "missing.py"))
            await page.click("#connect")  # a connect of the person's own: connect again
            await page.wait_for_selector("#tab-server >> text=connect again", timeout=WAIT_MS)
