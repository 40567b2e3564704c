"""The inspector's web app (plain ASGI): the page and its assets, an SSE event stream per page
(its first event: the page's key), and a JSON API, each call checked for the session's cookie
(login.py), a loopback Host, and that the page itself made it; a request to connect to a
command needs the person's confirmation in the page that asked (approval.py); the views'
sandbox origin is served by sandbox.py."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from functools import partial
from importlib import resources
from typing import Any, cast

from mcpkit._asgi import Receive, Scope, Send, send_whole
from mcpkit.errors import McpError
from mcpkit.inspector._request_io import LOOPBACK, header, host_name, origin, query, reply
from mcpkit.inspector.approval import Approvals, ConfirmationNeeded
from mcpkit.inspector.hub import CallCancelled, InspectorHub
from mcpkit.inspector.login import BROWSER_CODE_LIFETIME, Logins
from mcpkit.inspector.panel_settings import ConnectionSettings
from mcpkit.inspector.sandbox import Views, serve_sandbox

__all__ = ["InspectorApp"]

_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/form.js": ("form.js", "text/javascript; charset=utf-8"),
    "/render.js": ("render.js", "text/javascript; charset=utf-8"),
    "/apps.js": ("apps.js", "text/javascript; charset=utf-8"),
    "/asks.js": ("asks.js", "text/javascript; charset=utf-8"),
    "/connection.js": ("connection.js", "text/javascript; charset=utf-8"),
    "/reload.js": ("reload.js", "text/javascript; charset=utf-8"),
    "/answer.js": ("answer.js", "text/javascript; charset=utf-8"),
    "/log.js": ("log.js", "text/javascript; charset=utf-8"),
    "/look.js": ("look.js", "text/javascript; charset=utf-8"),
    "/patterns.js": ("patterns.js", "text/javascript; charset=utf-8"),
    "/pattern-worker.js": ("pattern-worker.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),  # asked for by browsers on every page
}
_MAX_BODY = 4 * 1024 * 1024
#: Seconds between SSE comments that keep an idle stream (and its proxies) open.
_KEEPALIVE = 15.0
#: What browsers say (Sec-Fetch-Site) of a request the page made itself, or the person opened.
_OWN_REQUEST = ("", "same-origin", "none")
_PAGE_POLICY = "default-src 'self'; img-src 'self' data:; media-src data:; frame-ancestors 'none'"
_SECURITY_HEADERS = [
    (b"content-security-policy", _PAGE_POLICY.encode()),
    (b"x-frame-options", b"DENY"),  # no other page (another port of 127.0.0.1 is the same
    # site) may frame the inspector and have the person click in it
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class InspectorApp:
    """`InspectorApp(hub)` is an ASGI app; a browser opens `/?code=<one_time_code()>` and
    is logged in for as long as it runs (a cookie holding `token`)."""

    def __init__(
        self,
        hub: InspectorHub,
        token: str | None = None,
        *,
        on_revoked: Callable[[], None] | None = None,
        sandbox_port: int | None = None,
    ) -> None:
        self.hub = hub
        #: The loopback port of the views' sandbox proxy (MCP Apps): another origin than the
        #: page's, as the extension requires; served by this app too (sandbox.py). None: no
        #: view is rendered (the page shows the tool's result alone).
        self.sandbox_port = sandbox_port
        #: The views the pages show, served on the sandbox port with their policy.
        self.views = Views()
        self.logins = Logins(token)
        #: Targets requests may connect to without a confirmation: the command line's.
        self.approvals = Approvals([hub.initial_target])
        #: Told when an exposed code came back spent and every login was revoked.
        self.on_revoked = on_revoked
        self._revoked = asyncio.Event()  # set (and replaced) at each revocation
        #: The open pages: the key each was sent first on its event stream -> that stream.
        #: A command to confirm is shown on the stream of the page that asked, alone.
        self._pages: dict[str, asyncio.Queue[dict[str, Any] | None]] = {}

    @property
    def token(self) -> str:
        """What a logged-in browser's cookie holds (a new one after a revocation)."""
        return self.logins.token

    def one_time_code(
        self,
        lifetime: float | None = BROWSER_CODE_LIFETIME,
        *,
        exposed: bool = True,
        on_redeemed: Callable[[], None] | None = None,
    ) -> str:
        """A code for `/?code=...` that logs in one browser, once, within `lifetime` seconds
        (None: until used); `exposed`, `on_redeemed`: see `Logins.one_time_code`."""
        return self.logins.one_time_code(lifetime, exposed=exposed, on_redeemed=on_redeemed)

    def _revoke(self) -> None:
        self.logins.revoke()
        self._revoked.set()  # open event streams end
        self._revoked = asyncio.Event()
        if self.on_revoked is not None:
            self.on_revoked()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if not _loopback_host(scope):
            # DNS rebinding: a page of another site, resolved to 127.0.0.1, names its own host
            return await reply(send, 403, {"error": "this inspector answers 127.0.0.1 only"})
        server = scope.get("server")
        if self.sandbox_port is not None and server is not None and server[1] == self.sandbox_port:
            return await serve_sandbox(scope, send, self.views)  # that origin: the views alone
        if path in _ASSETS and path != "/" and method == "GET":
            return await _asset(send, *_ASSETS[path], policy=self._page_policy(scope))
        logging_in = await self._admitted(scope, send)
        if logging_in is None:
            return
        if path == "/" and method == "GET":
            cookie = [self.logins.set_cookie(scope)] if logging_in else []
            return await _asset(send, *_ASSETS["/"], extra=cookie, policy=self._page_policy(scope))
        if path == "/api/events" and method == "GET":
            return await self._events(receive, send)
        if path.startswith("/api/") and method == "POST":
            return await self._api(path.removeprefix("/api/"), scope, receive, send)
        await reply(send, 404, {"error": f"no {method} {path} here"})

    def _page_policy(self, scope: Scope) -> bytes:
        """The page's Content-Security-Policy: its own origin alone, and the sandbox's frames
        by the name the page was opened with (apps.js frames `location.hostname`). Only that
        one: Chromium logs every IPv6 literal in a source list (`http://[::1]:PORT`) as an
        invalid source, and the inspector listens on 127.0.0.1 alone anyway."""
        name = host_name(scope)
        if self.sandbox_port is None or name.startswith("["):
            return _PAGE_POLICY.encode()
        return f"{_PAGE_POLICY}; frame-src http://{name}:{self.sandbox_port}".encode()

    async def _admitted(self, scope: Scope, send: Send) -> bool | None:
        """None if refused (the refusal is sent); else whether the request logs in with a
        one-time code (its page sets the cookie) rather than holding the cookie already."""
        path = scope["path"]
        # a code in the address logs the browser in (and is spent, even if it holds the cookie)
        code = query(scope, "code") if path == "/" and scope["method"] == "GET" else ""
        if code and self.logins.redeem(code):
            return True
        if not self.logins.holds_token(scope):
            if self.logins.reused(code):  # someone may have raced this browser to its link
                self._revoke()
                await _text(send, 403, _RACED)
            elif path == "/":
                await _text(send, 403, _LOGGED_OUT)
            else:
                await reply(send, 403, {"error": "open the link the inspector printed"})
            return None
        if not _made_here(scope):
            await reply(send, 403, {"error": "requests from other sites are refused"})
            return None
        return False

    async def _api(self, action: str, scope: Scope, receive: Receive, send: Send) -> None:
        if header(scope, b"content-type").split(";")[0].strip() != "application/json":
            return await reply(send, 415, {"error": "send JSON (Content-Type: application/json)"})
        body = await _body(receive)
        try:
            args: Any = json.loads(body) if body else {}
        except ValueError:
            return await reply(send, 400, {"error": "the body is not JSON"})
        if body is None or not isinstance(args, dict):
            return await reply(send, 400, {"error": "send a JSON object under 4 MB"})
        try:
            result = await self._act(action, cast("dict[str, Any]", args), scope)
        except ConfirmationNeeded as exc:  # the page shows the command, with a Run button
            return await reply(send, 200, {"confirm": {**exc.as_json(), "shown": self._ask(exc)}})
        except McpError as exc:
            return await reply(send, 200, {"error": {"code": exc.code, "message": exc.message}})
        except CallCancelled as exc:
            return await reply(send, 200, {"cancelled": str(exc)})
        except (KeyError, TypeError, ValueError) as exc:
            return await reply(send, 400, {"error": f"bad request for {action}: {exc}"})
        except Exception as exc:  # a server that cannot start, a URL that refuses us
            return await reply(send, 200, {"error": {"code": -32603, "message": str(exc)}})
        await reply(send, 200, {"result": result})

    async def _act(self, action: str, args: dict[str, Any], scope: Scope) -> Any:
        hub = self.hub
        if action == "state":
            return hub.state()
        if action == "sandbox":
            return {"port": self.sandbox_port}
        if action == "view":  # a view to show: served as is, its policy in a header
            return {"view": self.views.add(str(args["html"]), args.get("csp"), origin(scope))}
        if action == "connect":
            confirm = args.get("confirm")
            confirmation = None if confirm is None else str(confirm)
            page = args.get("page")
            return await hub.connect(
                str(args["target"]),
                ConnectionSettings.from_json(args["settings"]) if "settings" in args else None,
                approve=partial(
                    self.approvals.check,
                    confirmation=confirmation,
                    page=page if isinstance(page, str) and page in self._pages else None,
                ),
            )
        if action == "ping":
            return await hub.ping()
        if action == "disconnect":
            await hub.disconnect()
            return {}
        if action == "request":
            call = args.get("call")
            return await hub.request(str(args["method"]), args.get("params"), call)
        if action == "cancel":
            return {"cancelled": hub.cancel(str(args["call"]))}
        if action == "answer":
            return {"accepted": hub.answer(str(args["id"]), args.get("result"), args.get("error"))}
        raise KeyError(action)

    def _ask(self, asked: ConfirmationNeeded) -> bool:
        """Show the command to confirm on the event stream of the page that asked (and only
        there: the request's answer never holds the nonce); whether it could be."""
        stream = self._pages.get(asked.page) if asked.page is not None else None
        if stream is None:
            return False
        try:
            stream.put_nowait({"type": "confirm", **asked.for_page()})
        except asyncio.QueueFull:  # a page that stopped reading: it is being dropped
            return False
        return True

    async def _events(self, receive: Receive, send: Send) -> None:
        queue = self.hub.subscribe()
        key = secrets.token_urlsafe(18)
        self._pages[key] = queue
        gone = asyncio.get_running_loop().create_task(_disconnected(receive, self._revoked))
        try:
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            first = b": open\n\n" + _event_data({"type": "page", "key": key})
            await send({"type": "http.response.body", "body": first, "more_body": True})
            while not gone.done():
                chunk = await _next_event(queue, gone)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the page went away mid-write
        finally:
            gone.cancel()
            del self._pages[key]
            self.hub.unsubscribe(queue)


async def _next_event(
    queue: asyncio.Queue[dict[str, Any] | None], gone: asyncio.Task[None]
) -> bytes | None:
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, gone}, timeout=_KEEPALIVE, return_when="FIRST_COMPLETED")
    if getter not in done:
        getter.cancel()
        return None if gone in done else b": keepalive\n\n"
    event = getter.result()
    return None if event is None else _event_data(event)


def _event_data(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, default=str).encode() + b"\n\n"


async def _disconnected(receive: Receive, revoked: asyncio.Event) -> None:
    """Until the page goes away, or its login is revoked."""

    async def hung_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    ended = asyncio.ensure_future(hung_up())
    waiting = asyncio.ensure_future(revoked.wait())
    try:
        await asyncio.wait({ended, waiting}, return_when="FIRST_COMPLETED")
    finally:
        ended.cancel()
        waiting.cancel()


def _loopback_host(scope: Scope) -> bool:
    return host_name(scope) in LOOPBACK


def _made_here(scope: Scope) -> bool:
    """Whether the page itself sent this (or the person opened it): browsers send Origin on
    every POST and cross-origin fetch, and Sec-Fetch-Site on every request. The cookie is
    SameSite, but every port of 127.0.0.1 is the same site: a page served on another port
    is refused here. Clients that are not browsers send neither."""
    origin = header(scope, b"origin")
    if origin and origin != "http://" + header(scope, b"host"):
        return False
    return header(scope, b"sec-fetch-site") in _OWN_REQUEST


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


_LOGGED_OUT = """This browser is not logged in to the mcpkit inspector.

Open the link the inspector printed in its terminal (http://127.0.0.1:PORT/?code=...). Each
link logs in one browser, once; the browser then stays logged in until it closes. A link that
was used already (or the one given to the browser, after 60 seconds) is refused: start the
inspector again for a new one.
"""


_RACED = """This one-time link was used already, by another browser: someone who read it may
have opened it first.

Every login to this inspector is now revoked. Open the link the inspector printed in its
terminal (that one is never shown to other users).
"""


async def _asset(
    send: Send,
    name: str,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
    policy: bytes | None = None,
) -> None:
    data = resources.files("mcpkit.inspector").joinpath("static", name).read_bytes()
    security = _SECURITY_HEADERS
    if policy is not None:
        security = [(b"content-security-policy", policy), *_SECURITY_HEADERS[1:]]
    headers = [
        (b"content-type", content_type.encode()),
        (b"cache-control", b"no-store"),
        *security,
        *(extra or []),
    ]
    await send_whole(send, 200, data, headers)


async def _text(send: Send, status: int, text: str) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"cache-control", b"no-store"),
        *_SECURITY_HEADERS,
    ]
    await send_whole(send, status, text.encode(), headers)
