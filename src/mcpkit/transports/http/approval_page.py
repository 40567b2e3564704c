"""The approval page of `when_cannot_ask="url"` tools (`mcpkit.stores.approvals`): `GET
/mcp-approval?t=TOKEN` shows what the call asks with Approve and Decline buttons, and only the
form's `POST`, carrying the token of that form, decides: opening the link (a preview, a
prefetch, a crawler) approves nothing, and another site cannot post the form for the user.

The page is never framed (a hidden frame could make the user click Approve), never cached,
and sends no Referer (the link's token is in its URL).
"""

from __future__ import annotations

import html
from typing import Final
from urllib.parse import parse_qs, urlsplit

from mcpkit._asgi import Receive, Scope, Send, send_whole
from mcpkit.stores.approvals import Approval, Approvals
from mcpkit.stores.deadline import StoreUnavailable

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
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)
_GONE: Final = "This link is unknown, expired, or used already. Ask the assistant to try again."


_OUTAGE: Final = (
    "This server cannot reach the store that keeps approvals right now. Nothing was decided: "
    "reload this page in a moment."
)


async def serve_approval_page(
    scope: Scope, receive: Receive, send: Send, approvals: Approvals
) -> None:
    """Answer one request to `APPROVAL_PATH` (503 when the store is down: the store's
    timeout bounds every step, so the page never hangs)."""
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
    if not _same_origin(scope):
        await _page(send, 403, "This form can only be sent from its own page.")
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


def _same_origin(scope: Scope) -> bool:
    """A POST whose Origin (sent by browsers with every form POST) names another host than
    the one it was sent to came from another site's page; no Origin is a non-browser."""
    headers: dict[bytes, bytes] = dict(scope.get("headers", ()))
    origin = headers.get(b"origin")
    if origin is None:
        return True
    host = headers.get(b"host", b"").decode("latin-1")
    return bool(urlsplit(origin.decode("latin-1")).netloc == host)


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
