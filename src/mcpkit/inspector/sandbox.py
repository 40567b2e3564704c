"""The views' sandbox origin (MCP Apps): the proxy page the inspector's page frames, and each
view's HTML exactly as the server sent it, with the view's Content-Security-Policy (built from
its `_meta.ui.csp`) as an HTTP header. A policy put in the document's text can be sidestepped
by the document (a script before `<head>`, a `<header>` taken for `<head>`); a header cannot."""

from __future__ import annotations

import json
import re
import secrets
from collections import OrderedDict
from importlib import resources
from typing import Any, cast

from mcpkit._asgi import Scope, Send, send_whole
from mcpkit.inspector._request_io import LOOPBACK, origin, query, reply

__all__ = ["MAX_VIEWS", "Views", "serve_sandbox", "view_policy"]

#: Views kept to be loaded (the latest ones); each is loaded by the frame showing it.
MAX_VIEWS = 16
#: What a view may do in its frame, whoever frames it: scripts and forms, in an origin of
#: its own (no access to the sandbox's page or storage).
_VIEW_SANDBOX = "sandbox allow-scripts allow-forms"
#: An origin a policy may name: a scheme, a host (a leading *. for its subdomains), a port.
_ORIGIN = re.compile(r"(https?|wss?)://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?")
_DEFAULT_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; "
    "object-src 'none'; base-uri 'self'; form-action 'none'"
)


def view_policy(csp: object) -> str:
    """The Content-Security-Policy of a view whose `_meta.ui.csp` is `csp` (SEP-1865): the
    origins it declares for each use, and nothing else (a form posts only where the view may
    connect); the restrictive default without one.
    A declared origin that is not `scheme://host[:port]` is left out."""
    if not isinstance(csp, dict):
        return _DEFAULT_POLICY
    declared = cast("dict[str, Any]", csp)

    def origins(key: str) -> str:
        found: Any = declared.get(key)
        listed = cast("list[object]", found) if isinstance(found, list) else []
        return " ".join(o for o in listed if isinstance(o, str) and _ORIGIN.fullmatch(o))

    res = origins("resourceDomains")
    connect = origins("connectDomains") or "'none'"
    frames = origins("frameDomains") or "'none'"
    bases = origins("baseUriDomains") or "'self'"
    directives = [
        "default-src 'none'",
        f"script-src 'self' 'unsafe-inline' {res}",
        f"style-src 'self' 'unsafe-inline' {res}",
        f"connect-src {connect}",
        f"img-src 'self' data: {res}",
        f"font-src 'self' {res}",
        f"media-src 'self' data: {res}",
        f"frame-src {frames}",
        "object-src 'none'",
        f"base-uri {bases}",
        # A form is allowed (`allow-forms`), but sends data only where a fetch may: else a
        # submitted form would carry out what connect-src keeps in.
        f"form-action {connect}",
    ]
    return "; ".join(d.rstrip() for d in directives)


class Views:
    """The views the page asked to show: each under a key nobody can guess, with its policy
    and the origin of the page that shows it; the latest MAX_VIEWS are kept."""

    def __init__(self) -> None:
        self._views: OrderedDict[str, tuple[bytes, str, str]] = OrderedDict()

    def add(self, html: str, csp: object, page_origin: str) -> str:
        """Keep a view's `html`, to be served with the policy of `csp`, framed by the page
        at `page_origin` (through the sandbox proxy) alone; its key."""
        key = secrets.token_urlsafe(18)
        self._views[key] = (html.encode("utf-8", "replace"), view_policy(csp), page_origin)
        while len(self._views) > MAX_VIEWS:
            self._views.popitem(last=False)
        return key

    def get(self, key: str) -> tuple[bytes, str, str] | None:
        return self._views.get(key)


async def serve_sandbox(scope: Scope, send: Send, views: Views) -> None:
    """Answer a request to the sandbox origin: `/sandbox` (the proxy page) or `/view/KEY` (a
    view's HTML, untouched, its policy in the header); nothing else."""
    path, method = scope["path"], scope["method"]
    if path == "/sandbox" and method == "GET":
        return await _proxy(scope, send)
    key = path.removeprefix("/view/")
    found = views.get(key) if key != path and method == "GET" else None
    if found is None:
        return await reply(send, 404, {"error": "the sandbox serves /sandbox and its views"})
    body, policy, page_origin = found
    # framed by the proxy (this origin) inside the inspector's page, by nothing else
    ancestors = f"frame-ancestors {origin(scope)} {page_origin}"
    await _send_page(send, body, f"{policy}; {ancestors}; {_VIEW_SANDBOX}")


async def _proxy(scope: Scope, send: Send) -> None:
    """The sandbox proxy page (MCP Apps, `static/sandbox.html`): it frames a view served here
    and passes messages between it and the inspector page. Framed only by the inspector's
    page; it holds no secret (the login cookie is HttpOnly, and the API refuses this origin)."""
    host = query(scope, "host")
    if not _inspector_origin(host, scope):
        return await reply(send, 400, {"error": "host= names the inspector's origin"})
    data = resources.files("mcpkit.inspector").joinpath("static", "sandbox.html").read_text()
    body = data.replace("__INSPECTOR_ORIGIN__", json.dumps(host)).encode()
    await _send_page(send, body, f"frame-ancestors {host}")


async def _send_page(send: Send, body: bytes, policy: str) -> None:
    """An HTML page of the sandbox origin under `policy` (its Content-Security-Policy),
    never cached, sniffed or referred."""
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"cache-control", b"no-store"),
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    await send_whole(send, 200, body, headers)


def _inspector_origin(origin: str, scope: Scope) -> bool:
    """Whether `origin` is the inspector page's: a loopback name, and another port than the
    sandbox's own (the one the page was served from)."""
    scheme, _, rest = origin.partition("://")
    name, _, port = rest.rpartition(":")
    sandbox = scope.get("server")
    return (
        scheme == "http"
        and name in LOOPBACK
        and port.isdigit()
        and (sandbox is None or int(port) != sandbox[1])
    )
