"""The browser step: `LoopbackBrowser` receives the redirect on 127.0.0.1 (real requests; the
browser is replaced by an injected opener), times out and cancels cleanly; `HeadlessRedirect`
reads the answer from `Location` (RFC 8252 section 7.3, RFC 6749 section 4.1.2)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from mcpkit.auth.client.redirect import AuthorizationResponse, HeadlessRedirect, LoopbackBrowser
from mcpkit.errors import AuthorizationFailed

WAIT = 10.0


class Browser:
    """Stands in for `webbrowser.open`: follows the authorization URL by visiting `visit`
    (computed from the URL it was given) with a real HTTP request."""

    def __init__(self, *visits: str) -> None:
        self.visits = visits
        self.opened: list[str] = []
        self.answers: list[httpx.Response] = []
        self.task: asyncio.Task[None] | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        self.task = asyncio.get_running_loop().create_task(self._visit())
        return True

    async def _visit(self) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            for visit in self.visits:
                self.answers.append(await http.get(visit))


async def test_the_redirect_is_received_on_loopback_and_answered_with_a_page() -> None:
    browser = Browser()
    handler = LoopbackBrowser(timeout=WAIT, open_browser=browser)
    uri = await handler.redirect_uri()
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/callback")
    browser.visits = (f"{uri}?code=abc&state=xyz&iss=https%3A%2F%2Fauth.example.com",)
    answer = await handler.authorize("https://auth.example.com/authorize?x=1")
    assert answer == AuthorizationResponse(code="abc", state="xyz", iss="https://auth.example.com")
    assert browser.opened == ["https://auth.example.com/authorize?x=1"]
    assert browser.task is not None
    await asyncio.wait_for(browser.task, WAIT)
    assert browser.answers[0].status_code == 200 and "complete" in browser.answers[0].text


async def test_stray_requests_do_not_complete_it() -> None:
    browser = Browser()
    handler = LoopbackBrowser(timeout=WAIT, open_browser=browser)
    uri = await handler.redirect_uri()
    base = uri.removesuffix("/callback")
    browser.visits = (
        f"{base}/favicon.ico",
        f"{uri}?state=only",
        f"{uri}?error=access_denied&state=s",
    )
    answer = await handler.authorize("https://auth.example.com/authorize")
    assert answer.error == "access_denied" and answer.code is None
    assert browser.task is not None
    await asyncio.wait_for(browser.task, WAIT)
    assert [r.status_code for r in browser.answers] == [404, 400, 200]


async def test_a_redirect_with_another_state_is_ignored_and_the_wait_goes_on() -> None:
    # Issue 19: the first redirect completed the flow, so any local process that found the
    # port could abort every login with a wrong state.
    browser = Browser()
    handler = LoopbackBrowser(timeout=WAIT, open_browser=browser)
    uri = await handler.redirect_uri()
    browser.visits = (
        f"{uri}?code=planted&state=wrong",
        f"{uri}?error=access_denied",  # no state at all
        f"{uri}?code=real&state=s3cr3t",
    )
    answer = await handler.authorize("https://auth.example.com/authorize?state=s3cr3t&x=1")
    assert answer.code == "real" and answer.state == "s3cr3t"
    assert browser.task is not None
    await asyncio.wait_for(browser.task, WAIT)
    assert [r.status_code for r in browser.answers] == [400, 400, 200]
    assert "not for the authorization in progress" in browser.answers[0].text


async def test_garbage_on_the_port_gets_a_400_and_the_wait_goes_on() -> None:
    handler = LoopbackBrowser(timeout=WAIT, open_browser=lambda url: True)
    uri = await handler.redirect_uri()
    waiting = asyncio.get_running_loop().create_task(handler.authorize("https://a.example/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", handler.port)
    writer.write(b"\xff\xfe garbage\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), WAIT)).startswith(b"HTTP/1.1 405")
    writer.close()
    assert not waiting.done()
    async with httpx.AsyncClient() as http:
        await http.get(f"{uri}?code=c&state=s")
    assert (await asyncio.wait_for(waiting, WAIT)).code == "c"


async def test_it_times_out_cleanly_and_frees_the_port() -> None:
    handler = LoopbackBrowser(timeout=0.05, open_browser=lambda url: True)
    await handler.redirect_uri()
    port = handler.port
    with pytest.raises(AuthorizationFailed, match=r"within 0\.05 s"):
        await handler.authorize("https://a.example/")
    _assert_free(port)


async def test_where_no_browser_opens_the_url_and_the_hint_are_shown_at_once() -> None:
    # Issue 63: over SSH, webbrowser.open returned False, was ignored, and the user waited
    # five minutes in silence for "no authorization came back".
    shown: list[str] = []
    told = asyncio.Event()

    def show(line: str) -> None:
        shown.append(line)
        told.set()

    handler = LoopbackBrowser(timeout=WAIT, open_browser=lambda url: False, show=show, hint="do X")
    url = "https://auth.example.com/authorize?state=s"
    waiting = asyncio.get_running_loop().create_task(handler.authorize(url))
    await asyncio.wait_for(told.wait(), WAIT)
    assert not waiting.done()  # shown while it waits, not when the wait ends
    uri = f"http://127.0.0.1:{handler.port}/callback"
    assert shown == [
        f"no browser could be opened: authorize at {url} in a browser on this machine "
        f"(waiting {WAIT:g} s for the redirect to {uri}); do X"
    ]
    async with httpx.AsyncClient() as http:
        await http.get(f"{uri}?code=c&state=s")
    assert (await asyncio.wait_for(waiting, WAIT)).code == "c"


async def test_an_opened_browser_is_shown_the_url_too_and_the_timeout_names_the_hint() -> None:
    shown: list[str] = []
    handler = LoopbackBrowser(timeout=0.05, open_browser=lambda url: True, show=shown.append)
    with pytest.raises(AuthorizationFailed) as raised:
        await handler.authorize("https://a.example/authorize")
    assert shown[0].startswith("authorize in the browser that opened, or at https://a.example/")
    assert "(no browser" not in str(raised.value)
    unopened = LoopbackBrowser(timeout=0.05, open_browser=lambda url: False, hint="do X")
    with pytest.raises(AuthorizationFailed) as raised:
        await unopened.authorize("https://a.example/authorize")
    assert str(raised.value).endswith("within 0.05 s (no browser could be opened): do X")


async def test_cancelling_it_frees_the_port() -> None:
    opened = asyncio.Event()
    handler = LoopbackBrowser(timeout=WAIT, open_browser=lambda url: opened.set())
    task = asyncio.get_running_loop().create_task(handler.authorize("https://a.example/"))
    await asyncio.wait_for(opened.wait(), WAIT)
    port = handler.port
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _assert_free(port)


def _assert_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


async def test_headless_reads_the_answer_from_location_after_redirects() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/authorize":
            return httpx.Response(302, headers={"location": "/login?next=1"})
        if request.url.path == "/login":
            return httpx.Response(
                303, headers={"location": "http://127.0.0.1/callback?code=k&state=s"}
            )
        raise AssertionError(f"followed to {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        answer = await HeadlessRedirect(http_client=http).authorize(
            "https://auth.example/authorize"
        )
    assert (answer.code, answer.state) == ("k", "s")


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (httpx.Response(200, text="<form>log in</form>"), "needs a person"),
        (httpx.Response(302, headers={"location": "/authorize"}), "more than 5 redirects"),
    ],
)
async def test_headless_refuses_a_page_or_a_loop(answer: httpx.Response, match: str) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answer)) as http:
        with pytest.raises(AuthorizationFailed, match=match):
            await HeadlessRedirect(http_client=http).authorize("https://auth.example/authorize")


def test_a_response_query_keeps_the_first_of_repeated_fields() -> None:
    answer = AuthorizationResponse.from_query("code=a&code=b&state=&iss=x&" + "z=1&" * 100)
    assert (answer.code, answer.state, answer.iss) == ("a", "", "x")
