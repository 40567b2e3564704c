"""What a legacy client's POST to `messages_path?session_id=...` is checked against and
answered with: the one session id of the query, the method, the refusals naming what is
wrong, and the hand-over of the body to its session.

Apart from `endpoint` (the routes, the stream, the session registry) because each piece
here is a plain function of a request or a session, with no state of the endpoint's; the
GET's method check (`only_method`) is shared by both paths.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Final

from mcpkit._asgi import Scope, Send, send_whole
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.transports.http._exchange import send_refusal
from mcpkit.transports.http.checks import MAX_SESSION_ID_LENGTH, Refusal, refuse
from mcpkit.transports.legacy_sse.legacy_session import LegacySession

__all__ = ["busy_session", "only_method", "query_session", "submit", "unknown_session"]

#: The 400 for a body refused as a whole carries the JSON-RPC error the session wrote.
_JSON: Final = ((b"content-type", b"application/json"),)
# The ids `new_session_id` makes are URL-safe base64; anything else names no session.
# Checked before the lookup, so a hostile query (huge, or full of odd bytes) is refused with a
# 400 without touching the registry, and never echoed back in a message at full length.
_SESSION_ID: Final = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_SESSION_ID_LENGTH}}}")


async def submit(session: LegacySession, body: bytes, info: RequestInfo, send: Send) -> None:
    """202 once the session has read the body (every answer goes on the stream), 400
    with the JSON-RPC error when the body as a whole is refused (not JSON-RPC).

    Waiting for the read, rather than answering 202 at once, is the back-pressure: a
    client that POSTs faster than its session reads waits on its own requests, and
    `full` bounds how many can wait. A session that ended first gets a 404.
    """
    try:
        refused = await session.channel.submit(body, info)
    except ConnectionClosed:
        refused = None
    if refused is None:
        await send_refusal(send, _ended())
    elif refused:
        await send_refusal(send, Refusal(400, "not a JSON-RPC message", refused[0], _JSON))
    else:
        session.prune()
        await send_whole(send, 202, b"Accepted", ((b"content-type", b"text/plain"),))


def query_session(scope: Scope) -> str | Refusal:
    """The one `session_id` of the query, or the 400 saying what is wrong with it.

    Two ids are refused, not resolved: a proxy or attacker adding a second must not pick
    which session the body goes to.
    """
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    try:
        values = urllib.parse.parse_qs(query, max_num_fields=20).get("session_id", [])
    except ValueError:  # more than 20 fields: no client of ours sends them
        values = ["?"]
    if not values:
        return refuse(
            400,
            "no session_id in the query: POST to the URL the stream's endpoint event named",
        )
    if len(values) > 1 or not _SESSION_ID.fullmatch(values[0]):
        return refuse(400, "session_id is malformed: send it as the endpoint event gave it")
    return values[0]


def only_method(method: str, allowed: str) -> Refusal | None:
    """405 with Allow for any other method (RFC 9110 requires the header with a 405)."""
    if method == allowed:
        return None
    message = f"method {method[:20]!r} is not offered here: use {allowed}"
    return refuse(405, message, headers=((b"allow", allowed.encode()),))


def unknown_session(sid: str) -> Refusal:
    """404 for an id that names no live session of this identity. Another owner's session
    gets the same answer, so a client cannot learn which ids exist."""
    return refuse(
        404,
        f"session {sid[:MAX_SESSION_ID_LENGTH]!r} is unknown or ended: open a new SSE stream",
    )


def _ended() -> Refusal:
    """404 for a body whose session ended while it waited; the client must reconnect."""
    return refuse(404, "the session ended before reading this message: open a new SSE stream")


def busy_session() -> Refusal:
    """429 while the session is `full`: the client should read its stream, then retry."""
    return refuse(
        429,
        "too many messages of this session wait to be read: read the SSE stream, whose "
        "unread answers keep the session from reading more",
        headers=((b"retry-after", b"1"),),
    )
