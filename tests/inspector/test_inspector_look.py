"""How the inspector page looks and behaves around the edges, in a real headless Chromium: light
and dark, the favicon, parameter descriptions beside their fields, a failed connect's error
panel, a running call and its cancel button, and `mcpkit dev` reconnecting the page after a
save that did not import. Each step saves a screenshot (see _inspector_harness.shoot)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

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
from mcpkit.inspector.serve import _reload  # pyright: ignore[reportPrivateUsage]

pytestmark = browser_marks(90)

GOOD = """from mcpkit import Server

server = Server("dev-demo")


@server.tool()
def first() -> str:
    return "one"
"""
BROKEN_IMPORT = (
    "from mcpkit import Server\nimport helper\n\nserver = Server('broken')\nhelper.boom()\n"
)
HELPER = "def boom():\n    raise ValueError('bad config')\n"


async def background(page: Any) -> tuple[int, ...]:
    """The page's background colour as (r, g, b)."""
    text: str = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in text[text.index("(") + 1 : -1].split(",")[:3])


def dark(rgb: tuple[int, ...]) -> bool:
    return sum(rgb) < 3 * 80


async def test_light_and_dark_a_favicon_and_descriptions_beside_fields(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            refused: list[str] = []
            page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
            await page.emulate_media(color_scheme="light")
            await connect(page)
            assert not dark(await background(page))
            await shoot(page, tmp_path, "server-light")
            await open_tool(page, "order")
            customer = page.locator("label.field[data-path=customer]")
            assert await customer.locator(".help").text_content() == "Who the order is for."
            assert await customer.locator(".type").text_content() == "string"
            address = page.locator("fieldset.group:has(input[name='address.street'])")
            # the parameter's own name and description; its class's name is only its type
            assert await address.locator("legend .name").first.text_content() == "address"
            assert await address.locator("legend .type").first.text_content() == "Address"
            assert await address.locator(".help").first.text_content() == "Where to deliver it."
            assert await page.locator("label.field[data-path=gift] .help").is_visible()
            await shoot(page, tmp_path, "tools-light")
            await page.emulate_media(color_scheme="dark")  # the system's choice, followed
            assert dark(await background(page))
            await shoot(page, tmp_path, "tools-dark")
            await page.click("#theme")  # the toggle overrides it, and is remembered
            assert await page.get_attribute("html", "data-theme") == "light"
            assert not dark(await background(page))
            await page.reload()
            await page.wait_for_selector("body[data-ready]")
            assert await page.get_attribute("html", "data-theme") == "light"
            await page.click("#theme")
            assert dark(await background(page))
            await page.click("#tabs button[data-tab=server]")
            await shoot(page, tmp_path, "server-dark")
            icon = await page.request.get(f"{base}/favicon.ico")
            assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"
            assert (await icon.text()).startswith("<svg")
            assert refused == []  # no 403 for /favicon.ico, nor anything else


async def test_a_failed_connect_shows_its_traceback_and_forgets_the_last_server(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "helper.py").write_text(HELPER)
    broken = project / "broken.py"
    broken.write_text(BROKEN_IMPORT)
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.emulate_media(color_scheme="light")
            await connect(page)
            await open_tool(page, "add")
            await page.fill("#target", str(broken))
            await page.click("#connect")
            await page.click("#confirm-run")  # a file typed in the page runs once confirmed
            panel = page.locator("#error-panel")
            await panel.wait_for(state="visible", timeout=WAIT_MS)
            frames = await panel.locator("pre.user-frames").text_content() or ""
            lines = frames.splitlines()
            # the user's frames come first, line by line; mcpkit's and importlib's are left out
            first_frame = next(line for line in lines if line.lstrip().startswith("File "))
            assert first_frame == f'  File "{broken}", line 5, in <module>'
            assert f'File "{project / "helper.py"}", line 2, in boom' in frames
            assert "ValueError: bad config" in lines
            assert "importlib" not in frames and "mcpkit/cli" not in frames
            # `mcpkit run` prints the traceback from the user's first frame already: nothing
            # of mcpkit's or importlib's is there to leave out, in the panel or the whole error
            assert "importlib" not in (await panel.text_content() or "")
            status = await page.text_content("#status") or ""
            assert "Traceback" not in status and len(status) < 80  # the bar stays short
            # nothing of the server before is left on screen
            assert "showcase" not in (await page.text_content("#tab-server") or "")
            assert await page.locator("#tool-list li").count() == 0
            log = await page.text_content("#log") or ""
            assert "tools/list" not in log
            await shoot(page, tmp_path, "error-light")
            await panel.locator("details summary").click()
            whole = await panel.locator("details pre").text_content() or ""
            assert "ValueError: bad config" in whole and "raised ValueError" in whole
            await page.emulate_media(color_scheme="dark")
            await shoot(page, tmp_path, "error-dark")
            await connect(page, confirm=False)  # a good connect puts the panel away
            assert await panel.is_hidden()


async def test_a_running_call_shows_its_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.emulate_media(color_scheme="light")
            await connect(page)
            await open_tool(page, "slow")
            assert await page.input_value("input[name=seconds]") == "60"
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".tool-form progress[value='1'][max='3']")
            cancel = page.locator(".tool-form button.cancel")
            assert await cancel.is_visible()
            assert await page.locator(".tool-form .running").is_visible()
            assert await page.locator(".tool-form button[type=submit]").is_disabled()
            await shoot(page, tmp_path, "running-call")
            await cancel.click()
            outcome = page.locator(".tool-form .result.is-cancelled")
            await outcome.wait_for(timeout=WAIT_MS)
            assert "notifications/cancelled" in (await outcome.text_content() or "")
            assert await cancel.is_hidden()
            told = page.locator("#log li:has(.method:text-is('notifications/cancelled'))")
            await told.wait_for(timeout=WAIT_MS)
            assert await told.locator(".origin").text_content() == "client"
            assert (await told.locator(".time").text_content() or "").startswith("+")
            first = await page.locator("#log li .time").first.text_content() or ""
            assert first.startswith("+0.")  # times count from the connect
            await shoot(page, tmp_path, "cancelled-call")


async def test_dev_reconnects_the_page_after_a_save_that_did_not_import(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(GOOD)
    session = InspectorHub(initial_target=str(server))
    out = io.StringIO()
    async with served(session) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await page.emulate_media(color_scheme="light")
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            server.write_text(GOOD + "\n@server.tool(\ndef second(:\n")  # saved mid-edit
            await _reload(session, [server], out)
            panel = page.locator("#error-panel")
            await panel.wait_for(state="visible", timeout=WAIT_MS)
            assert f'File "{server}", line ' in (await panel.text_content() or "")
            assert "SyntaxError" in (await panel.text_content() or "")
            assert "changed" in (await page.text_content("#banner") or "")
            await shoot(page, tmp_path, "dev-broken")
            server.write_text(GOOD + '\n\n@server.tool()\ndef second() -> str:\n    return "2"\n')
            await _reload(session, [server], out)
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            assert await panel.is_hidden()
            await open_tool(page, "second")
            await shoot(page, tmp_path, "dev-fixed")
    told = out.getvalue()
    assert "the server did not start again" in told and "the next save tries again" in told
    assert told.rstrip().endswith("mcpkit dev: reloaded")
