"""examples/apps.py's view hosted by the reference implementation's own host SDK, in Debian's
Chromium, the way a web host does it (SEP-1865): the page's MCP client (the TypeScript SDK's,
declaring the UI extension) reaches the example server over Streamable HTTP, and ext-apps'
`AppBridge` runs the view behind a sandbox proxy on another origin. Checked: the whole
lifecycle on the wire (sandbox, `ui/initialize` and its host context, `initialized`, the tool's
input and result, size changes, a tool call of the view's own reaching the server and its result
the view, a display mode, a host context change, teardown) and the view's DOM at each step."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from interop_harness import HERE, require_node

sys.path.insert(0, str(HERE.parent / "inspector"))
from _inspector_harness import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, browser_marks, serving, shoot

from mcpkit.apps import UI_EXTENSION, VIEW_MIME_TYPE
from mcpkit.protocol.modern import CLIENT_CAPABILITIES_KEY, REVISION_KEY
from mcpkit.transports.deployment.app import McpHttpApp

pytestmark = browser_marks(120)

MODULES = HERE / "node_modules"
APPS = HERE / "apps"
EXAMPLES = HERE.parents[1] / "examples"
FRAME_HEIGHT = 360  # the frame's height before the view says its own (appbridge_host.js)
CITY = "Bergen"  # the tool's input, which the host passes on (not the view's fallback, Oslo)
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>AppBridge host</title>
<link rel="icon" href="data:,"></head>
<body><div id="host"></div><ol id="said"></ol><script type="module" src="/host.js"></script>
</body></html>"""


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("apps_example", EXAMPLES / "apps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its TypedDicts are looked up by module)
    spec.loader.exec_module(module)
    return module


def bundle_host(folder: Path) -> bytes:
    """apps/appbridge_host.js and what it imports from ext-apps and the TypeScript SDK, as one
    browser module (esbuild, from node_modules: no network)."""
    require_node()
    esbuild = MODULES / ".bin" / "esbuild"
    if not esbuild.is_file():
        pytest.fail("tests/interop/node_modules lacks esbuild: (cd tests/interop && npm ci)")
    out = folder / "host.js"
    subprocess.run(
        [
            str(esbuild),
            str(APPS / "appbridge_host.js"),
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


class HostSite:
    """The test host's two origins: on the host's port the page, its bundle and the example
    server (mcpkit's Streamable HTTP app at /mcp, whose POSTed messages it keeps in `posted`);
    on the sandbox's port the sandbox proxy."""

    def __init__(self, bundle: bytes, mcp: McpHttpApp, sandbox_port: int) -> None:
        self.bundle = bundle
        self.mcp = mcp
        self.sandbox_port = sandbox_port
        self.posted: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"  # (served without lifespan: the test enters it)
        path, port = scope["path"], scope["server"][1]
        if port == self.sandbox_port:
            if path == "/sandbox":
                await _answer(send, (APPS / "sandbox_proxy.html").read_bytes(), "text/html")
            else:
                await _answer(send, b"", "text/plain", 404)
        elif path == "/":
            await _answer(send, PAGE.encode(), "text/html")
        elif path == "/host.js":
            await _answer(send, self.bundle, "text/javascript")
        else:
            await self.mcp(scope, self._keeping(scope, receive), send)

    def _keeping(self, scope: dict[str, Any], receive: Any) -> Any:
        chunks: list[bytes] = []

        async def received() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if scope["method"] == "POST" and message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.posted.append(json.loads(b"".join(chunks)))
            return message

        return received


async def _answer(send: Any, body: bytes, kind: str, status: int = 200) -> None:
    headers = [(b"content-type", f"{kind}; charset=utf-8".encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def host_page(
    tmp_path: Path, negotiation: str | None
) -> AsyncIterator[tuple[Any, HostSite, list[str]]]:
    """The example served, the host page open in Chromium, its client negotiating as the
    TypeScript SDK's `versionNegotiation.mode` says (None: its default, the handshake): (the
    page, the site, what the page's frames printed as warnings or errors and the errors they
    threw)."""
    from playwright.async_api import async_playwright

    mcp = load_example().server.http_app("/mcp")
    sandbox = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sandbox.bind(("127.0.0.1", 0))
    sandbox.listen(16)
    site = HostSite(bundle_host(tmp_path), mcp, sandbox.getsockname()[1])
    complaints: list[str] = []
    try:
        async with mcp.lifespan(), serving(site, [sandbox]) as base:
            async with async_playwright() as driver:
                browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 900, "height": 800})
                    page.set_default_timeout(WAIT_MS)
                    page.on("console", lambda m: _complaint(complaints, m.type, m.text))
                    page.on("pageerror", lambda error: complaints.append(f"thrown: {error}"))
                    sandbox_origin = f"http://127.0.0.1:{site.sandbox_port}"
                    asked = f"sandbox={sandbox_origin}&city={CITY}"
                    if negotiation is not None:
                        asked += f"&negotiation={negotiation}"
                    await page.goto(f"{base}/?{asked}")
                    try:
                        yield page, site, complaints
                    except BaseException:
                        # What the host saw, shown with the failure (pytest prints stdout).
                        said = "window.host && [window.host.failed, window.host.events]"
                        print("host:", await page.evaluate(said), "console:", complaints)
                        raise
                finally:
                    await browser.close()
    finally:
        sandbox.close()


def _complaint(complaints: list[str], kind: str, text: str) -> None:
    # Chromium's own note on a frame with allow-scripts and allow-same-origin is expected: the
    # spec asks exactly that of the sandbox proxy's frame (the view's frame has no such pair).
    if kind in ("warning", "error") and "can escape its sandboxing" not in text:
        complaints.append(f"{kind}: {text}")


def sent(wire: list[dict[str, Any]], sender: str, method: str) -> list[tuple[int, dict[str, Any]]]:
    """The messages `sender` sent with `method`, with their places on the wire."""
    return [
        (i, w["message"])
        for i, w in enumerate(wire)
        if w["from"] == sender and w["message"].get("method") == method
    ]


def only(found: list[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    assert len(found) == 1, found
    return found[0]


def answer(wire: list[dict[str, Any]], sender: str, request_id: Any) -> tuple[int, dict[str, Any]]:
    """The response `sender` sent to the request `request_id` (the only one), with its place."""
    return only(
        [
            (i, w["message"])
            for i, w in enumerate(wire)
            if w["from"] == sender
            and "method" not in w["message"]
            and w["message"]["id"] == request_id
        ]
    )


def shown(days: list[dict[str, Any]]) -> list[str]:
    """The view's day boxes for `days`, the day above the weather (JavaScript prints 19.0 as
    19, as `g` does)."""
    return [f"{d['day']}\n{d['celsius']:g} °C, {d['sky']}" for d in days]


# The client's versionNegotiation: its default, the 2025-11-25 handshake; and "auto", which
# finds 2026-07-28 (server/discover) and declares the extension in each request's _meta.
ERAS = {"2025-11-25": None, "2026-07-28": "auto"}


@pytest.mark.parametrize("era", ERAS)
async def test_the_reference_appbridge_hosts_our_example_view_through_a_sandbox_proxy(
    era: str, tmp_path: Path
) -> None:
    example = load_example()
    async with host_page(tmp_path, ERAS[era]) as (page, site, complaints):
        view = page.frame_locator("#sandbox").frame_locator("iframe")
        await view.locator(f"#title >> text=Forecast for {CITY}").wait_for()
        await page.locator("#said >> text=tool result sent").wait_for()
        days = view.locator(".day")
        assert await days.all_inner_texts() == shown(example.forecast(CITY)["days"])
        assert await view.locator("html").get_attribute("data-theme") == "dark"
        assert await view.locator("html").get_attribute("data-mode") == "inline"
        await check_discovery(page, site, era)
        await check_handshake(page, example)
        await check_sizes(page, view)

        await view.locator("#refresh").click()
        await view.locator("#status >> text=refreshed").wait_for()
        assert await days.all_inner_texts() == shown(example.refresh_forecast(CITY)["days"])
        await check_view_call(page, site, example)
        await check_view_read(page, site)

        await view.locator("#fullscreen:enabled").click()
        await view.locator("html[data-mode=fullscreen]").wait_for(state="attached")
        await page.evaluate("window.host.change({theme: 'light'})")
        await view.locator("html[data-theme=light]").wait_for(state="attached")
        await check_context_changes(page)
        # A host that stops offering fullscreen: the view no longer offers to ask for it.
        inline_only = "{displayMode: 'inline', availableDisplayModes: ['inline']}"
        await page.evaluate(f"window.host.change({inline_only})")
        await view.locator("html[data-mode=inline]").wait_for(state="attached")
        assert await view.locator("#fullscreen").is_disabled()
        await shoot(page, tmp_path, f"appbridge-host-{era}")

        assert await page.evaluate("window.host.teardown()") == {}
        wire = await page.evaluate("window.host.wire")
        _, teardown = only(sent(wire, "host", "ui/resource-teardown"))
        assert teardown["params"] == {"reason": "test done"}
        assert answer(wire, "view", teardown["id"])[1]["result"] == {}
        assert await page.evaluate("window.host.failed") is None
        assert complaints == []


async def check_discovery(page: Any, site: HostSite, era: str) -> None:
    """The host's client declared the extension as ext-apps spells it, in the era asked for,
    and ext-apps' helpers read mcpkit's tool metadata and view resource as the example means
    them."""
    requests = [m for m in site.posted if "method" in m and "id" in m]
    if era == "2025-11-25":
        (initialize,) = [m for m in requests if m["method"] == "initialize"]
        assert initialize["params"]["protocolVersion"] == era
        declared = [initialize["params"]["capabilities"]]
    else:
        assert requests[0]["method"] == "server/discover"
        assert {m["params"]["_meta"][REVISION_KEY] for m in requests} == {era}
        declared = [m["params"]["_meta"][CLIENT_CAPABILITIES_KEY] for m in requests]
    for capabilities in declared:
        assert capabilities["extensions"] == {UI_EXTENSION: {"mimeTypes": [VIEW_MIME_TYPE]}}
    assert await page.evaluate("window.host.tools") == [
        {"name": "forecast", "resourceUri": "ui://forecast/view", "appOnly": False},
        {"name": "refresh_forecast", "resourceUri": "ui://forecast/view", "appOnly": True},
    ]
    view = await page.evaluate("window.host.view")
    assert view["uri"] == "ui://forecast/view"
    assert view["mimeType"] == VIEW_MIME_TYPE
    assert view["ui"] == {"prefersBorder": True}
    assert view["html"] == (EXAMPLES / "apps_views" / "forecast.html").read_text(encoding="utf-8")


async def check_handshake(page: Any, example: ModuleType) -> None:
    """Sandbox proxy ready, the view's HTML to it, `ui/initialize` and its result, the view's
    `initialized`, and only then the tool's input and result."""
    wire = await page.evaluate("window.host.wire")
    ready, _ = only(sent(wire, "view", "ui/notifications/sandbox-proxy-ready"))
    loaded, resource = only(sent(wire, "host", "ui/notifications/sandbox-resource-ready"))
    assert ready < loaded
    assert resource["params"]["html"] == (await page.evaluate("window.host.view"))["html"]
    asked, initialize = only(sent(wire, "view", "ui/initialize"))
    assert loaded < asked
    assert initialize["params"] == {
        "protocolVersion": "2026-01-26",
        "appInfo": {"name": "forecast-view", "version": "1.0.0"},
        "appCapabilities": {"availableDisplayModes": ["inline", "fullscreen"]},
    }
    answered, result = answer(wire, "host", initialize["id"])
    assert result["result"]["protocolVersion"] == "2026-01-26"
    assert result["result"]["hostInfo"] == {"name": "appbridge-test-host", "version": "1.0.0"}
    capabilities = {"serverTools": {}, "serverResources": {}, "logging": {}}
    assert result["result"]["hostCapabilities"] == capabilities
    assert result["result"]["hostContext"] == {
        "theme": "dark",
        "displayMode": "inline",
        "availableDisplayModes": ["inline", "fullscreen"],
        "platform": "web",
        "locale": "en-US",
    }
    initialized, _ = only(sent(wire, "view", "ui/notifications/initialized"))
    assert answered < initialized
    # The spec: the host sends the view nothing before `initialized` but the answer; and the
    # view, like ext-apps' own App, nothing but `ui/initialize` (its sizes come after).
    early = wire[loaded + 1 : initialized]
    assert early == [{"from": "view", "message": initialize}, {"from": "host", "message": result}]
    given, tool_input = only(sent(wire, "host", "ui/notifications/tool-input"))
    assert initialized < given and tool_input["params"] == {"arguments": {"city": CITY}}
    resulted, tool_result = only(sent(wire, "host", "ui/notifications/tool-result"))
    assert given < resulted
    assert tool_result["params"]["structuredContent"] == example.forecast(CITY)


async def check_sizes(page: Any, view: Any) -> None:
    """The view's size changes reached AppBridge, which reported each (its schema accepted
    them) and the host sized the frame to the last: to the view's content, shorter than the
    frame it was given at first (FRAME_HEIGHT), which it now fills without overflowing."""
    await page.wait_for_function(
        """() => window.host.sizes.length > 0 && window.host.sizes.length === window.host.wire
        .filter((w) => w.message.method === 'ui/notifications/size-changed').length"""
    )
    wire, sizes, height = await page.evaluate(
        "[window.host.wire, window.host.sizes, document.getElementById('sandbox').style.height]"
    )
    notified = [m["params"] for _, m in sent(wire, "view", "ui/notifications/size-changed")]
    assert notified == sizes
    assert all(s["width"] > 0 and s["height"] > 0 for s in sizes)
    assert height == f"{sizes[-1]['height']}px"
    assert sizes[-1]["height"] < FRAME_HEIGHT
    fits = "document.documentElement.scrollHeight <= window.innerHeight"
    assert await view.locator("html").evaluate(f"() => {fits}")


async def check_view_call(page: Any, site: HostSite, example: ModuleType) -> None:
    """The view's own call of its app-only tool went through AppBridge and the host's client
    to the mcpkit server, and the server's result back to the view."""
    wire = await page.evaluate("window.host.wire")
    _, call = only(sent(wire, "view", "tools/call"))
    assert call["params"] == {"name": "refresh_forecast", "arguments": {"city": CITY}}
    _, result = answer(wire, "host", call["id"])
    assert result["result"]["structuredContent"] == example.refresh_forecast(CITY)
    calls = [m["params"] for m in site.posted if m.get("method") == "tools/call"]
    served = [{k: v for k, v in c.items() if k != "_meta"} for c in calls]
    assert served == [
        {"name": "forecast", "arguments": {"city": CITY}},
        {"name": "refresh_forecast", "arguments": {"city": CITY}},
    ]


# A request from inside the view's frame, as a view with an SDK sends one (the example's view
# reads no resource itself): its answer, once it comes.
ASK_FROM_VIEW = """(request) => new Promise((resolve) => {
  addEventListener("message", (e) => { if (e.data?.id === request.id) resolve(e.data); });
  parent.postMessage({ jsonrpc: "2.0", ...request }, "*");
})"""


async def check_view_read(page: Any, site: HostSite) -> None:
    """A resources/read from the view went through AppBridge and the host's client to the
    server, and the view got the contents."""
    frame = next(f for f in page.frames if f.url == "about:srcdoc")
    uri = "ui://forecast/view"
    asked = {"id": "read-1", "method": "resources/read", "params": {"uri": uri}}
    async with asyncio.timeout(WAIT_MS / 1000):
        got = await frame.evaluate(ASK_FROM_VIEW, asked)
    (contents,) = got["result"]["contents"]
    assert contents["uri"] == uri and contents["mimeType"] == VIEW_MIME_TYPE
    assert contents["text"] == (EXAMPLES / "apps_views" / "forecast.html").read_text("utf-8")
    reads = [m["params"]["uri"] for m in site.posted if m.get("method") == "resources/read"]
    assert reads == [uri, uri]  # the host's own, for the view's HTML, and the view's


async def check_context_changes(page: Any) -> None:
    """The view asked for fullscreen, got it, and heard of it and of the new theme as host
    context changes."""
    wire = await page.evaluate("window.host.wire")
    _, asked = only(sent(wire, "view", "ui/request-display-mode"))
    assert asked["params"] == {"mode": "fullscreen"}
    assert answer(wire, "host", asked["id"])[1]["result"] == {"mode": "fullscreen"}
    changes = [m["params"] for _, m in sent(wire, "host", "ui/notifications/host-context-changed")]
    assert changes == [{"displayMode": "fullscreen"}, {"theme": "light"}]
