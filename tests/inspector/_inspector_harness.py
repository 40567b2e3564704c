"""What the inspector tests share: the app served by uvicorn on 127.0.0.1, a page of it in a
real headless Chromium (Debian's, never a downloaded one), and the steps the page tests repeat;
screenshots go to the test's folder, or to $MCPKIT_SCREENSHOTS to look at them by hand."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mcpkit.inspector.app import InspectorApp
from mcpkit.inspector.hub import InspectorHub

HERE = Path(__file__).resolve().parent
SHOWCASE = str(HERE / "showcase.py")
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 10_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_marks(seconds: int = 90) -> list[Any]:
    """What a module of browser tests is marked with: skipped without Debian's Chromium
    (scripts/test installs it) or Playwright, and given `seconds` (a browser on two shared
    cores)."""
    return [
        pytest.mark.skipif(
            shutil.which(CHROMIUM) is None or importlib.util.find_spec("playwright") is None,
            reason="Debian's chromium or playwright is not installed (scripts/test)",
        ),
        pytest.mark.mcpkit_timeout(seconds),
    ]


@contextlib.asynccontextmanager
async def served(session: InspectorHub) -> AsyncIterator[tuple[str, InspectorApp]]:
    """The inspector for `session` at a fresh port, with its views' sandbox at another (as
    `mcpkit inspect --web` serves it): (its base URL, the app)."""
    sandbox = _listening()
    app = InspectorApp(session, sandbox_port=sandbox.getsockname()[1])
    try:
        async with serving(app, [sandbox]) as base:
            yield base, app
    finally:
        sandbox.close()
        await session.disconnect()


def _listening() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextlib.asynccontextmanager
async def serving(app: Any, more: list[socket.socket] | None = None) -> AsyncIterator[str]:
    """The ASGI `app` served by uvicorn on 127.0.0.1 at a fresh port (and on the sockets
    `more`): its base URL."""
    sock = _listening()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=1)
    )
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock, *(more or [])]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


def login_url(base: str, app: InspectorApp) -> str:
    """A one-time link that logs a browser in, as the inspector prints one."""
    return f"{base}/?code={app.one_time_code()}"


async def log_in(http: httpx.AsyncClient, base: str, app: InspectorApp) -> None:
    """Log `http` in as a browser is: a one-time link, exchanged for the cookie."""
    page = await http.get(login_url(base, app))
    assert page.status_code == 200 and http.cookies, page.text


@contextlib.asynccontextmanager
async def browser_page(
    url: str,
    *,
    viewport: tuple[int, int] = (1400, 1000),
    console_errors: list[str] | None = None,
) -> AsyncIterator[Any]:
    """A page of Chromium at `url` in a window of `viewport` pixels, once the page has opened
    its event stream; `console_errors` gets every error the console logs (a refused policy,
    say) and every uncaught exception, from the first load on."""
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            width, height = viewport
            page = await browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(10_000)
            if console_errors is not None:
                errors = console_errors
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            await page.goto(url)
            await page.wait_for_selector("body[data-ready]", timeout=10_000)
            yield page
        finally:
            await browser.close()


async def shoot(page: Any, folder: Path, name: str, *, full_page: bool = True) -> None:
    chosen = os.environ.get("MCPKIT_SCREENSHOTS")
    if chosen:
        folder = Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")


async def connect(page: Any, target: str = SHOWCASE, *, confirm: bool = True) -> None:
    """Connect the page to `target`; `confirm`: the page asks first (a file or a command not
    given on the command line, and not confirmed before), and the test runs it."""
    await page.fill("#target", target)
    await page.click("#connect")
    if confirm:
        await page.click("#confirm-run", timeout=WAIT_MS)
    await page.wait_for_selector("#status.connected", timeout=WAIT_MS)


async def open_tool(page: Any, name: str) -> None:
    await page.click("#tabs button[data-tab=tools]")
    await page.click(f"#tool-list button.item >> text='{name}'", timeout=WAIT_MS)
    await page.wait_for_selector(".tool-form", timeout=WAIT_MS)
