"""MCP Apps against the reference implementation (@modelcontextprotocol/ext-apps), both ways,
in a real headless Chromium: the npm reference app servers render and work in mcpkit's
inspector, and mcpkit's example app renders in a page that hosts it with the reference
AppBridge. Screenshots as in the inspector's browser tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    serving,
    shoot,
)

from mcpkit import Client
from mcpkit.apps import HOST_EXTENSIONS
from mcpkit.inspector.hub import InspectorHub

pytestmark = browser_marks(120)

MODULES = HERE / "node_modules"
EXAMPLES = HERE.parents[1] / "examples"


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
            page.on("dialog", lambda dialog: dialog.dismiss())  # the link: not opened
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
            await said.locator("text=link refused").wait_for(timeout=WAIT_MS)
            await shoot(page, tmp_path, f"reference-{name}")


class BridgeBackend:
    """The AppBridge page's server: the page, its bundle, and POST /rpc to examples/apps.py
    through an mcpkit Client that declares the extension."""

    def __init__(self, bundle: bytes, client: Client) -> None:
        self.bundle = bundle
        self.client = client

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/":
            body, kind = PAGE.encode(), b"text/html; charset=utf-8"
        elif path == "/host.js":
            body, kind = self.bundle, b"text/javascript"
        elif path == "/rpc":
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            asked = json.loads(b"".join(chunks))
            try:
                result = await self.client.request(asked["method"], asked["params"])
                body = json.dumps({"result": _plain(result)}).encode()
            except Exception as exc:
                body = json.dumps({"error": str(exc)}).encode()
            kind = b"application/json"
        else:
            body, kind = b"", b"text/plain"
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]}
        )
        await send({"type": "http.response.body", "body": body})


def _plain(value: Any) -> Any:
    import msgspec

    return msgspec.to_builtins(value)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>AppBridge host</title></head>
<body><div id="host"></div><ol id="said"></ol><script type="module" src="/host.js"></script>
</body></html>"""


def bundle_host(folder: Path) -> bytes:
    """bridge_host.js and the AppBridge it imports, as one browser module (esbuild)."""
    require_node()
    esbuild = MODULES / ".bin" / "esbuild"
    if not esbuild.is_file():
        pytest.fail("tests/interop/node_modules lacks esbuild: npm ci")
    out = folder / "host.js"
    subprocess.run(
        [
            str(esbuild),
            str(HERE / "apps" / "bridge_host.js"),
            "--bundle",
            "--format=esm",
            "--platform=browser",
            "--log-level=error",
            f"--outfile={out}",
        ],
        check=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(MODULES)},
    )
    return out.read_bytes()


async def test_our_example_view_renders_in_a_page_hosting_it_with_the_reference_appbridge(
    tmp_path: Path,
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("apps_example", EXAMPLES / "apps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its TypedDicts are looked up by module)
    spec.loader.exec_module(module)
    bundle = bundle_host(tmp_path)
    async with Client(module.server, extensions=HOST_EXTENSIONS) as client:
        async with serving(BridgeBackend(bundle, client)) as base:
            from _inspector_harness import CHROMIUM, CHROMIUM_ARGS
            from playwright.async_api import async_playwright

            async with async_playwright() as driver:
                browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 900, "height": 700})
                    await page.goto(base)
                    said = page.locator("#said")
                    await said.locator("text=initialized").wait_for(timeout=WAIT_MS)
                    view = page.frame_locator("iframe")
                    await view.locator("#title >> text=Forecast for Oslo").wait_for(timeout=WAIT_MS)
                    assert await view.locator(".day").count() == 3
                    assert await view.locator("html").get_attribute("data-theme") == "dark"
                    await view.locator("#refresh").click()
                    await view.locator("#status >> text=refreshed").wait_for(timeout=WAIT_MS)
                    await said.locator("text=tools/call refresh_forecast").wait_for()
                    await view.locator("#fullscreen").click()
                    await said.locator("text=display fullscreen").wait_for(timeout=WAIT_MS)
                    await view.locator("#mode >> text=mode: fullscreen").wait_for(timeout=WAIT_MS)
                    await shoot(page, tmp_path, "appbridge-host")
                finally:
                    await browser.close()
