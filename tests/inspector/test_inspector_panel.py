"""The connection panel in a real headless Chromium: its era, environment variables and headers
survive a reload (the address keeps the names, this tab's sessionStorage the values) and apply at
the next connect, as the server sees them; Ping answers in either era."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _inspector_harness import (
    HERE,
    WAIT_MS,
    browser_marks,
    browser_page,
    login_url,
    open_tool,
    served,
    serving,
    shoot,
)

from mcpkit.inspector.hub import InspectorHub

pytestmark = browser_marks(120)

PANEL_SERVER = str(HERE / "panel_server.py")
SCREENSHOTS = (1280, 800)


async def sent_methods(page: Any) -> list[str]:
    """The methods of the requests the inspector sent, in the message log's order."""
    rows = page.locator("#log li.sent .method")
    return [text for text in await rows.all_text_contents() if "response" not in text]


async def press_connect(page: Any, *, confirm: bool) -> None:
    """Connect again, as the panel now says (disconnected first: the wait is for this connect)."""
    if await page.is_enabled("#disconnect"):
        await page.click("#disconnect")
        await page.wait_for_selector("#status:not(.connected)", timeout=WAIT_MS)
    await page.click("#connect")
    if confirm:
        await page.click("#confirm-run", timeout=WAIT_MS)
    await page.wait_for_selector("#status.connected", timeout=WAIT_MS)


async def test_the_era_and_environment_survive_a_reload_and_apply(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app), viewport=SCREENSHOTS) as page:
            await page.emulate_media(color_scheme="light")
            await page.fill("#target", PANEL_SERVER)
            await page.select_option("#conn-protocol", "2025-11-25")
            await page.click("#conn-extra summary")
            await page.click("#conn-add")
            await page.fill(".pair-name", "MCPKIT_PANEL_MARK")
            await page.fill(".pair-value", "from-the-panel")
            await shoot(page, tmp_path, "panel-light", full_page=False)
            await page.emulate_media(color_scheme="dark")
            await shoot(page, tmp_path, "panel-dark", full_page=False)
            await page.click("#conn-extra summary")  # folded again
            await page.click("#connect")
            # the variable changes what runs: the command to confirm names it
            command = await page.text_content("#confirm-panel pre.command") or ""
            assert command.startswith("MCPKIT_PANEL_MARK=from-the-panel ")
            await page.click("#confirm-run")
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            assert "mark=from-the-panel" in (await page.text_content("#tab-server") or "")
            assert (await sent_methods(page))[0] == "initialize"
            assert "2025-11-25" in (await page.text_content(".facts") or "")
            address = page.url
            assert "protocol=2025-11-25" in address and "env=MCPKIT_PANEL_MARK" in address
            assert "from-the-panel" not in address  # a value is kept out of the address

            await page.reload()
            await page.wait_for_selector("body[data-ready]")
            assert await page.input_value("#conn-protocol") == "2025-11-25"
            assert await page.input_value(".pair-name") == "MCPKIT_PANEL_MARK"
            assert await page.input_value(".pair-value") == "from-the-panel"
            assert await page.input_value("#target") == PANEL_SERVER

            await page.click("#conn-ping")
            await page.wait_for_selector("#conn-ping-result.ok", timeout=WAIT_MS)
            assert "answered ping in" in (await page.text_content("#conn-ping-result") or "")
            await shoot(page, tmp_path, "panel-connected-dark", full_page=False)
            await page.emulate_media(color_scheme="light")
            await shoot(page, tmp_path, "panel-connected-light", full_page=False)

            await page.select_option("#conn-protocol", "2026-07-28")
            await press_connect(page, confirm=False)  # confirmed with this variable before
            methods = await sent_methods(page)
            assert methods[0] == "server/discover" and "initialize" not in methods
            assert "2026-07-28" in (await page.text_content(".facts") or "")
            assert "mark=from-the-panel" in (await page.text_content("#tab-server") or "")
            assert "protocol=2026-07-28" in page.url
            await page.click("#conn-ping")
            await page.wait_for_selector("#conn-ping-result.ok", timeout=WAIT_MS)
            told = await page.text_content("#conn-ping-result") or ""
            assert "answered server/discover in" in told


@contextlib.asynccontextmanager
async def panel_over_http() -> AsyncIterator[str]:
    """panel_server.py's server over Streamable HTTP on 127.0.0.1: its URL."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("panel_server", PANEL_SERVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    async with serving(module.server.http_app()) as base:
        yield f"{base}/mcp"


async def test_headers_go_to_a_url_and_their_values_stay_out_of_the_address(
    tmp_path: Path,
) -> None:
    async with panel_over_http() as url, served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            # an address edited by hand: what the panel does not offer is its default
            await page.goto(f"{base}/#protocol=1999-01-01&transport=sse&timeout=soon")
            await page.reload()  # a new fragment alone loads nothing
            await page.wait_for_selector("body[data-ready]")
            assert await page.input_value("#conn-protocol") == "auto"
            assert await page.input_value("#conn-transport") == "sse"
            assert await page.input_value("#conn-timeout") == ""
            await page.fill("#target", url)
            await page.select_option("#conn-transport", "streamable-http")
            await page.click("#conn-extra summary")
            assert await page.text_content("#conn-extra-label") == "Headers"
            await page.click("#conn-add")
            await page.fill(".pair-name", "Authorization")
            await page.fill(".pair-value", "Bearer s3cret")
            await press_connect(page, confirm=False)  # a URL starts nothing: not asked
            assert "headers=Authorization" in page.url and "s3cret" not in page.url
            await page.reload()
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            assert await page.input_value("#conn-transport") == "streamable-http"
            await press_connect(page, confirm=False)  # the value came back from this tab
            await open_tool(page, "authorization")
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".tool-result", timeout=WAIT_MS)
            assert "Bearer s3cret" in (await page.text_content(".tool-result") or "")
