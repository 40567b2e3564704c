"""The browser step of the authorization code flow: a `RedirectHandler` sends the user to the
authorization URL and returns the query the authorization server redirected back with.
`LoopbackBrowser` is for interactive hosts (RFC 8252 section 7.3), `HeadlessRedirect` for tests
and services whose authorization server approves without a person."""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable
from urllib.parse import parse_qs, parse_qsl, urlsplit

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.errors import AuthorizationFailed

__all__ = [
    "AuthorizationResponse",
    "ClosingRedirect",
    "HeadlessRedirect",
    "LoopbackBrowser",
    "RedirectHandler",
]

#: Characters of a redirect's query read at most.
_QUERY_LIMIT: Final = 16 * 1024
#: Bytes of a redirect request's head read at most.
_HEAD_LIMIT: Final = 16 * 1024
_PAGE: Final = (
    b"<!doctype html><meta charset=utf-8><title>Authorization</title>"
    b"<p>%s You may close this window.</p>"
)


@dataclass(frozen=True)
class AuthorizationResponse:
    """The query of the redirect back to the client (RFC 6749 section 4.1.2, RFC 9207)."""

    code: str | None = None
    state: str | None = None
    iss: str | None = None
    error: str | None = None
    error_description: str | None = None

    @classmethod
    def from_query(cls, query: str) -> AuthorizationResponse:
        """The fields of a redirect's query; the first of a repeated one counts, and only the
        first _QUERY_LIMIT characters are read (a hostile redirect is not a memory bomb)."""
        values: dict[str, str] = {}
        for name, value in parse_qsl(query[:_QUERY_LIMIT], keep_blank_values=True):
            values.setdefault(name, value)

        def one(name: str) -> str | None:
            return values.get(name)

        return cls(one("code"), one("state"), one("iss"), one("error"), one("error_description"))


@runtime_checkable
class RedirectHandler(Protocol):
    """Takes the user through the authorization server's page and brings back its answer."""

    async def redirect_uri(self) -> str:
        """The redirect URI to register and send; ready to receive once this returns."""
        ...

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        """Send the user to `authorization_url`; the redirect's query (bounded in time)."""
        ...


@runtime_checkable
class ClosingRedirect(RedirectHandler, Protocol):
    """A redirect handler that holds something to release once a flow has ended, however it
    ended (`LoopbackBrowser`: its listener)."""

    async def aclose(self) -> None: ...


class HeadlessRedirect:
    """Follows the authorization URL with HTTP requests, without a browser, until the
    authorization server redirects to `redirect_uri`, and reads the answer from `Location`:
    for authorization servers that approve at once (the development one, test fixtures)."""

    def __init__(
        self,
        redirect_uri: str = "http://127.0.0.1/callback",
        *,
        http_client: httpx.AsyncClient | None = None,
        max_redirects: int = 5,
        timeout: float = 30.0,
    ) -> None:
        self._redirect_uri = redirect_uri
        self._http = http_client
        self._max_redirects = max_redirects
        self._timeout = timeout

    async def redirect_uri(self) -> str:
        return self._redirect_uri

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        if self._http is not None:
            return await self._follow(self._http, authorization_url)
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            return await self._follow(http, authorization_url)

    async def _follow(self, http: httpx.AsyncClient, url: str) -> AuthorizationResponse:
        target = urlsplit(self._redirect_uri)
        for _ in range(self._max_redirects + 1):
            try:
                response = await http.get(url, follow_redirects=False, timeout=self._timeout)
            except httpx.HTTPError as exc:
                raise AuthorizationFailed("access_denied", f"GET {url} failed: {exc!r}") from None
            location = response.headers.get("location")
            if not response.is_redirect or location is None:
                raise AuthorizationFailed(
                    "access_denied",
                    f"{url} answered HTTP {response.status_code} instead of redirecting: it "
                    "needs a person; use LoopbackBrowser",
                    status=response.status_code,
                )
            url = str(httpx.URL(url).join(location))
            got = urlsplit(url)
            if (got.scheme, got.netloc, got.path) == (target.scheme, target.netloc, target.path):
                return AuthorizationResponse.from_query(got.query)
        raise AuthorizationFailed(
            "access_denied", f"more than {self._max_redirects} redirects before {target.geturl()}"
        )


class LoopbackBrowser:
    """Opens the authorization URL in the user's browser and receives the redirect on
    http://127.0.0.1:<port><path> (RFC 8252 section 7.3); `port` 0 picks a free one, kept for
    later flows. Waits at most `timeout` seconds; cancelling the flow closes the listener.
    Only a redirect carrying the `state` of the authorization URL completes it: another
    local process that finds the port and sends a wrong one gets a 400 page, and the
    listener keeps waiting. `open_browser` is `webbrowser.open` unless given (tests, hosts
    with their own window); its returning False means no browser could be opened.

    `show`, when given, is told in one line, as soon as the browser was tried, the
    authorization URL and whether a browser opened, so that a person where none can open (a
    shell over SSH) need not wait in silence: a command line prints it. `hint` says what to
    do where no browser can open, in that line and in the error when nothing came back."""

    def __init__(
        self,
        *,
        port: int = 0,
        path: str = "/callback",
        timeout: float = 300.0,
        open_browser: Callable[[str], object] | None = None,
        show: Callable[[str], object] | None = None,
        hint: str = "",
    ) -> None:
        self.port = port
        self.path = path
        self.timeout = timeout
        self._open = open_browser or webbrowser.open
        self._show = show
        self._hint = hint
        self._server: asyncio.Server | None = None
        self._answer: asyncio.Future[AuthorizationResponse] | None = None
        self._state: str | None = None  # what the redirect must carry

    async def redirect_uri(self) -> str:
        await self._listen()
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        uri = await self.redirect_uri()
        assert self._answer is not None
        states = parse_qs(urlsplit(authorization_url).query).get("state", [])
        self._state = states[0] if len(states) == 1 else None
        opened = True
        try:
            opened = self._open(authorization_url) is not False
            if self._show is not None:
                self._show(self._waiting(authorization_url, uri, opened))
            async with asyncio.timeout(self.timeout):
                return await asyncio.shield(self._answer)
        except TimeoutError:
            unopened = "" if opened else " (no browser could be opened)"
            hint = f": {self._hint}" if self._hint else ""
            raise AuthorizationFailed(
                "access_denied",
                f"no authorization came back to {uri} within {self.timeout:g} s{unopened}{hint}",
            ) from None
        finally:
            await self.aclose()

    def _waiting(self, authorization_url: str, uri: str, opened: bool) -> str:
        """The line `show` is told: where to authorize, and for how long it is waited for."""
        wait = f"waiting {self.timeout:g} s for the redirect to {uri}"
        if opened:
            return f"authorize in the browser that opened, or at {authorization_url} ({wait})"
        hint = f"; {self._hint}" if self._hint else ""
        return (
            f"no browser could be opened: authorize at {authorization_url} in a browser on "
            f"this machine ({wait}){hint}"
        )

    async def aclose(self) -> None:
        """Stop listening (done after each authorization; idempotent)."""
        server, self._server = self._server, None
        self._answer = None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._answer = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
            status, message = self._take(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            status, message = b"400 Bad Request", b"That was not an HTTP request."
        body = _PAGE % message
        writer.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-type: text/html; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        try:
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    def _take(self, head: bytes) -> tuple[bytes, bytes]:
        """Answer one request head; a GET to our path with `code` or `error` completes it."""
        line = head[: min(len(head), _HEAD_LIMIT)].split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            return b"405 Method Not Allowed", b"Only the authorization redirect comes here."
        target = urlsplit(parts[1])
        if target.path != self.path:
            return b"404 Not Found", b"Nothing here."
        answer = AuthorizationResponse.from_query(target.query)
        if answer.code is None and answer.error is None:
            return b"400 Bad Request", b"This redirect carries no authorization."
        if self._state is not None and answer.state != self._state:
            # Not the authorization in progress (RFC 6749 section 10.12): ignored, and the
            # real redirect may still come.
            return b"400 Bad Request", b"This redirect is not for the authorization in progress."
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(answer)
        if answer.error is not None:
            return b"200 OK", b"Authorization was refused."
        return b"200 OK", b"Authorization is complete."
