"""The inspector page in a real headless Chromium, driven panel by panel against a server that
offers every feature (tests/inspector/showcase.py); screenshots go to a temporary folder whose
path each test prints, or to $MCPKIT_SCREENSHOTS to look at them by hand."""

from __future__ import annotations

from pathlib import Path

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
from playwright.async_api import expect

from mcpkit.inspector.hub import InspectorHub

pytestmark = browser_marks(90)


async def test_connect_see_the_server_call_a_tool_and_watch_the_log(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page)
            server = await page.text_content("#tab-server")
            assert server is not None and "showcase" in server and "Try every panel." in server
            assert "listChanged" in server  # capabilities, as a tree
            await open_tool(page, "add")
            await page.fill("input[name=a]", "2")
            await page.fill("input[name=b]", "40")
            before = int(await page.text_content("#message-count") or "0")
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".result >> text=42", timeout=WAIT_MS)
            # the tool's log message arrives as a notification
            await page.wait_for_selector("#notifications li >> text=notifications/message")
            after = int(await page.text_content("#message-count") or "0")
            assert after >= before + 2  # the request and its response, at least
            log = await page.text_content("#log")
            assert log is not None and "response to tools/call" in log and " ms" in log
            await shoot(page, tmp_path, "tool-call")
            app.hub.publish("reload", files=["/work/server.py"])  # as `mcpkit dev` does
            banner = page.locator("#banner")
            await banner.wait_for(state="visible")
            assert "/work/server.py changed" in (await banner.text_content() or "")
            await page.click("#disconnect")
            await page.wait_for_selector("#status >> text=not connected")
            assert app.hub.client is None


async def test_a_nested_form_validates_before_sending_then_calls(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page)
            await open_tool(page, "order")
            assert await page.input_value("input[name='address.city']") == "Paris"  # default
            sent = int(await page.text_content("#message-count") or "0")
            await page.click(".tool-form button[type=submit]")
            summary = page.locator(".tool-form > .error")
            await summary.wait_for(timeout=WAIT_MS)
            assert "customer: required" in (await summary.text_content() or "")
            assert "address.street: required" in (await summary.text_content() or "")
            await shoot(page, tmp_path, "validation")
            assert int(await page.text_content("#message-count") or "0") == sent  # not sent
            await page.fill("input[name=customer]", "Ada")
            await page.fill("input[name='address.street']", "1 Rue de Rivoli")
            await page.click(".tool-form fieldset button.add")
            await page.fill("input[name='items[0].sku']", "book")
            await page.fill("input[name='items[0].quantity']", "0")
            await page.click(".tool-form button[type=submit]")
            assert "must be at least 1" in (await summary.text_content() or "")
            await page.fill("input[name='items[0].quantity']", "3")
            await page.select_option("select[name=speed]", label="express")
            await page.check("input[name=gift]")
            await page.click(".tool-form button[type=submit]")
            result = page.locator(".result >> text=Ada at 1 Rue de Rivoli, Paris: 3xbook")
            await result.wait_for(timeout=WAIT_MS)
            assert "(express, gift=True)" in (await result.text_content() or "")
            await shoot(page, tmp_path, "nested-form")


async def test_images_links_resources_templates_and_prompts(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page)
            await open_tool(page, "picture")
            await page.click(".tool-form button[type=submit]")
            image = page.locator(".result img.content")
            await image.wait_for(timeout=WAIT_MS)
            # (Not `wait_for_function`: a string predicate that must poll is run through eval,
            # which the inspector's CSP refuses; `expect` polls without it.)
            await expect(image).to_have_js_property("naturalWidth", 8, timeout=WAIT_MS)
            await shoot(page, tmp_path, "image")
            await page.click(".result .resource-link")  # follows the link: reads config://app
            await page.wait_for_selector("#resource-view >> text=theme", timeout=WAIT_MS)
            await page.click("#resource-list button.item >> text='config://app'")
            await page.wait_for_selector("#resource-view >> text=retries: 3", timeout=WAIT_MS)
            await page.click("#template-list button.item >> text='notes://{name}'")
            await page.fill(".template-form input[name=name]", "groceries")
            await page.click(".template-form button[type=submit]")
            await page.wait_for_selector(
                "#resource-view >> text=the note called groceries", timeout=WAIT_MS
            )
            await shoot(page, tmp_path, "resources")
            await page.click("#tabs button[data-tab=prompts]")
            await page.click("#prompt-list button.item >> text='review'", timeout=WAIT_MS)
            await page.fill(".prompt-form input[name=code]", "print(1)")
            await page.fill(".prompt-form input[name=language]", "go")
            await page.click(".prompt-form button[type=submit]")
            message = page.locator(".prompt-form .message")
            await message.wait_for(timeout=WAIT_MS)
            text = await message.text_content() or ""
            assert "user" in text and "Please review this go code" in text and "print(1)" in text
            await shoot(page, tmp_path, "prompt")


async def test_progress_sampling_and_elicitation_answered_by_hand(tmp_path: Path) -> None:
    async with served(InspectorHub()) as (base, app):
        async with browser_page(login_url(base, app)) as page:
            await connect(page)
            await open_tool(page, "ask_model")
            await page.fill("input[name=question]", "What is MCP?")
            await page.click(".tool-form button[type=submit]")
            # the tool reported 1 of 2, then asked for sampling: both show while it waits
            await page.wait_for_selector(".tool-form progress[value='1'][max='2']", timeout=WAIT_MS)
            ask = page.locator(".server-request")
            await ask.wait_for(timeout=WAIT_MS)
            assert "What is MCP?" in (await ask.text_content() or "")
            await shoot(page, tmp_path, "sampling")
            await page.fill(".sampling-reply", "a protocol")
            await page.click(".server-request button.send")
            await page.wait_for_selector(".result >> text=model said: a protocol", timeout=WAIT_MS)
            await page.wait_for_selector(".server-request", state="detached", timeout=WAIT_MS)
            await open_tool(page, "sign_up")
            await page.click(".tool-form button[type=submit]")
            await ask.wait_for(timeout=WAIT_MS)
            await page.click(".server-request button.accept")  # the name is required
            assert "Fix 1 field(s) first" in (await ask.text_content() or "")
            await page.fill(".server-request input[name=name]", "Grace")
            await page.select_option(".server-request select[name=size]", label="l")
            await shoot(page, tmp_path, "elicitation")
            await page.click(".server-request button.accept")
            await page.wait_for_selector(".result >> text=signed up Grace (l)", timeout=WAIT_MS)


async def test_the_everything_example_url_elicitation_and_embedded_resources(
    tmp_path: Path,
) -> None:
    everything = str(Path(__file__).resolve().parents[2] / "examples" / "everything.py")
    async with served(InspectorHub(initial_target=everything)) as (base, app):
        # given a TARGET on the command line, the page connects to it by itself
        async with browser_page(login_url(base, app)) as page:
            await page.wait_for_selector("#status.connected", timeout=WAIT_MS)
            await open_tool(page, "connect_account")
            await page.click(".tool-form button[type=submit]")
            ask = page.locator(".server-request")
            await ask.wait_for()
            link = ask.locator("a")
            assert await link.get_attribute("href") == "https://example.com/connect"
            await shoot(page, tmp_path, "url-elicitation")
            await page.click(".server-request button.accept")
            await page.wait_for_selector(".result >> text=connect: accept")
            await open_tool(page, "files")
            await page.click(".tool-form button[type=submit]")
            await page.wait_for_selector(".result >> text=embedded notes://welcome")
            await page.wait_for_selector(".result >> text=Hello!")
            await page.click(".result .resource-link")
            await page.wait_for_selector("#resource-view >> text=config://app")
            await shoot(page, tmp_path, "everything")
