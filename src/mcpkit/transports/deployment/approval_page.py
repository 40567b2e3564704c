"""The approval page of `when_cannot_ask="url"` tools (`mcpkit.stores.approvals`): `GET
/mcp-approval?t=TOKEN` shows what the call asks with Approve and Decline buttons, and only the
form's `POST`, carrying the token of that form, decides: opening the link (a preview, a
prefetch, a crawler) approves nothing, and another site cannot post the form for the user.
The `POST` must also come from the page itself as a browser says so (its `Origin` is the
page's own, or its `Sec-Fetch-Site` is `same-origin`): a model's web-fetch tool, which sends
neither, cannot approve the call it made by opening the link and posting the form.

The page is never framed (a hidden frame could make the user click Approve), never cached,
and sends a Referer to its own origin only (the link's token is in its URL).
"""

from __future__ import annotations

import html
from typing import Final
from urllib.parse import parse_qs

from mcpkit._asgi import Receive, Scope, Send, send_whole, values_of
from mcpkit.stores.approvals import Approval, Approvals, approval_page_origin
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.transports.guards.origin import OriginPolicy, normalized_origin

__all__ = ["serve_approval_page"]

#: The most a form's POST may carry (two tokens and a word).
_MAX_BODY: Final = 4096

_HEADERS: Final = (
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    # Not no-referrer: under it a browser sends `Origin: null` with the form's POST, which
    # then could not show it came from this page; same-origin keeps the token from others.
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
)
_GONE: Final = "This link is unknown, expired, or used already. Ask the assistant to try again."


_OUTAGE: Final = (
    "This server cannot reach the store that keeps approvals right now. Nothing was decided: "
    "reload this page in a moment."
)


_NOT_A_BROWSER: Final = (
    "This decision was not sent from the approval page in a browser, so nothing was decided. "
    "Open the link in your web browser and press a button there."
)
_NOT_SERVED: Final = (
    "This server does not serve the host this link names (its allowed_hosts setting)."
)


async def serve_approval_page(
    scope: Scope,
    receive: Receive,
    send: Send,
    approvals: Approvals,
    policy: OriginPolicy | None = None,
) -> None:
    """Answer one request to `APPROVAL_PATH` (503 when the store is down: the store's
    timeout bounds every step, so the page never hangs). With `policy` (the HTTP app's),
    a `Host` it does not serve is refused as at the MCP endpoint."""
    headers = scope.get("headers", ())
    hosts = values_of(headers, b"host")
    if policy is not None and policy.enabled and policy.check_host:
        status = 400 if len(hosts) != 1 else policy.host_problem(hosts[0])
        if status is not None:
            await _page(send, status, _NOT_SERVED)
            return
    try:
        await _serve(scope, receive, send, approvals)
    except StoreUnavailable:
        await _page(send, 503, _OUTAGE)


async def _serve(scope: Scope, receive: Receive, send: Send, approvals: Approvals) -> None:
    method: str = scope["method"]
    if method == "GET":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        approval = await approvals.shown(query.get("t", [""])[0])
        if approval is None:
            await _page(send, 404, _GONE)
        else:
            await _page(send, 200, _form(approval), raw=True)
        return
    if method != "POST":
        await send_whole(send, 405, b"", ((b"allow", b"GET, POST"),))
        return
    if not _from_own_page(scope):
        await _page(send, 403, _NOT_A_BROWSER)
        return
    body = await _body(receive)
    if body is None:
        await _page(send, 413, "Too large.")
        return
    fields = parse_qs(body.decode("latin-1"))
    answer = fields.get("decision", [""])[0]
    decided = await approvals.decide(
        fields.get("t", [""])[0],
        fields.get("f", [""])[0],
        "approved" if answer == "approve" else "declined",
    )
    if decided is None:
        await _page(send, 404, _GONE)
        return
    said = "approved" if decided.decision == "approved" else "declined"
    await _page(send, 200, f"You {said} it. Go back to the assistant and tell it so.")


def _form(approval: Approval) -> str:
    tool = html.escape(approval.tool)
    return (
        f"<p>A call of <b>{tool}</b> asks:</p><blockquote>{html.escape(approval.message)}"
        '</blockquote><form method="post">'
        f'<input type="hidden" name="t" value="{html.escape(approval.token)}">'
        f'<input type="hidden" name="f" value="{html.escape(approval.form_token)}">'
        '<button name="decision" value="approve">Approve</button> '
        '<button name="decision" value="decline">Decline</button></form>'
    )


async def _page(send: Send, status: int, text: str, *, raw: bool = False) -> None:
    content = text if raw else f"<p>{html.escape(text)}</p>"
    page = f'<!doctype html><meta charset="utf-8"><title>Approval</title>{content}'
    await send_whole(send, status, page.encode(), _HEADERS)


def _from_own_page(scope: Scope) -> bool:
    """Whether a POST says, as browsers do, that it was sent by the page itself: its Origin
    (sent by browsers with every form POST) is the page's own, or, where it is `null` or
    missing, its `Sec-Fetch-Site` is `same-origin`. A Sec-Fetch-Site other than that is
    another site's page (or none: a typed URL), whatever the Origin says."""
    headers = scope.get("headers", ())
    sites = values_of(headers, b"sec-fetch-site")
    origins = values_of(headers, b"origin")
    hosts = values_of(headers, b"host")
    if len(sites) > 1 or len(origins) > 1 or len(hosts) != 1:
        return False  # a browser sends one of each
    same_origin = sites == [b"same-origin"]
    if sites and not same_origin:
        return False
    if not origins or origins[0].strip().lower() == b"null":
        return same_origin
    proto = values_of(headers, b"x-forwarded-proto")
    own = approval_page_origin(
        hosts[0].decode("latin-1"), proto[0].decode("latin-1") if proto else None
    )
    theirs = normalized_origin(origins[0])
    return theirs is not None and theirs == normalized_origin(own.encode("latin-1"))


async def _body(receive: Receive) -> bytes | None:
    """The request's body, or None past `_MAX_BODY` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
