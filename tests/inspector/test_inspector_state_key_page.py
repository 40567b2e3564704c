"""The connection panel's State key field in a real headless Chromium (issue 63): *New* draws a
key, the docs' State example (docs/server.md, notes_state.py) keeps the caller's notes under it
over 2026-07-28, and the key stays in the tab, out of the address."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from _inspector_harness import (
    WAIT_MS,
    browser_marks,
    browser_page,
    login_url,
    open_tool,
    served,
    serving,
)
from test_inspector_state_key import notes_state

from mcpkit.inspector.hub import InspectorHub

pytestmark = browser_marks(120)


async def test_the_panels_field_sends_its_key_and_keeps_it_out_of_the_address(
    tmp_path: Path,
) -> None:
    spec = importlib.util.spec_from_file_location("notes_state", notes_state(tmp_path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    async with serving(module.jotter.http_app()) as server, served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.fill("#target", f"{server}/mcp")
            await page.select_option("#conn-protocol", "2026-07-28")
            await page.click("#conn-state-new")
            key = await page.input_value("#conn-state-key")
            await page.click("#connect")
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            for note in ("milk", "eggs"):
                await open_tool(page, "remember")
                await page.fill("input[name=note]", note)
                await page.click(".tool-form button[type=submit]")
                await page.wait_for_selector(f".result >> text={note}", timeout=WAIT_MS)
            shown = await page.text_content(".result") or ""
            address = page.url
            await page.reload()
            await page.wait_for_selector("body[data-ready]")
            kept = await page.input_value("#conn-state-key")
    assert len(key) == 43  # as secrets.token_urlsafe(32)
    assert "milk" in shown and "eggs" in shown
    assert key not in address
    assert kept == key  # this tab keeps it
