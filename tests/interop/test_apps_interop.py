"""MCP Apps against the reference implementation (@modelcontextprotocol/ext-apps) in a real
headless Chromium: the npm reference app servers render and work in mcpkit's inspector.
(The other way, mcpkit's example view in the reference AppBridge: test_appbridge_interop.py.)
Screenshots as in the inspector's browser tests."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from interop_harness import HERE, require_node

# The inspector's browser harness (tests/inspector): the same Chromium, login and steps.
sys.path.insert(0, str(HERE.parent / "inspector"))
from _inspector_harness import (
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

pytestmark = browser_marks(120)

MODULES = HERE / "node_modules"


def reference_server(name: str) -> str:
    """The command that runs an ext-apps reference server over stdio."""
    node = require_node()
    entry = MODULES / "@modelcontextprotocol" / name / "dist" / "index.js"
    if not entry.is_file():
        pytest.fail(f"tests/interop/node_modules lacks @modelcontextprotocol/{name}: npm ci")
    return f"{node} {entry} --stdio"


@pytest.mark.parametrize("name", ["server-basic-vanillajs", "server-basic-react"])
async def test_a_reference_app_server_renders_and_works_in_the_inspector(
    name: str, tmp_path: Path
) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page, reference_server(name))
            await open_tool(page, "get-time")
            await page.click(".tool-form button[type=submit]")
            view = page.frame_locator(".view-frame").frame_locator("iframe")
            iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
            button = view.get_by_role("button", name="Get Server Time")
            await button.wait_for(timeout=WAIT_MS)
            # the tool's result reached the view, and the view calls the server through us
            await view.get_by_text(iso).first.wait_for(timeout=WAIT_MS)
            calls = await page.locator("#log >> text=tools/call").count()
            await button.click()
            # One more tools/call in the log. (Not `wait_for_function`: a string predicate
            # that must poll is run through eval, which the inspector's CSP refuses.)
            more = page.locator("#log li", has_text="tools/call").nth(calls)
            await more.wait_for(state="attached", timeout=WAIT_MS)
            said = page.locator(".view-said")
            await view.get_by_role("button", name="Send Message").click()
            await said.locator("text=This is message text.").wait_for(timeout=WAIT_MS)
            await view.get_by_role("button", name="Send Log").click()
            await said.locator("text=log").wait_for(timeout=WAIT_MS)
            await view.get_by_role("button", name="Open Link").click()
            await page.click(".link-ask .link-cancel", timeout=WAIT_MS)  # the link: not opened
            await said.locator("text=link refused").wait_for(timeout=WAIT_MS)
            await shoot(page, tmp_path, f"reference-{name}")
