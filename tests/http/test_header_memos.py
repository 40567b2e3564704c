"""What the checks remember of the headers clients sent (their revision, their session's id)
is each app's own (issue 66), and bounded: one app's clients push nothing of another's out,
an ended session leaves nothing behind, and new values each time cost a bounded memory."""

from __future__ import annotations

import asyncio

import httpx
from _serving import WAIT, headers, open_session

from mcpkit import Server
from mcpkit._asgi import MEMO_ENTRIES, MEMO_VALUE_MAX
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.http.checks import HeaderMemos, protocol_version, session_id

URL = "http://127.0.0.1/mcp"
PING = {"jsonrpc": "2.0", "id": 5, "method": "ping"}


def in_process(app: McpHttpApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


async def test_two_apps_remember_their_own_clients_headers_and_forget_ended_sessions() -> None:
    first, second = McpHttpApp(Server("first")), McpHttpApp(Server("second"))
    mine, theirs = first.hosting.header_memos, second.hosting.header_memos
    assert mine is not theirs
    async with asyncio.timeout(WAIT), in_process(first) as client:
        sid = await open_session(client, URL)
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 200
        assert mine.session_ids.get(sid.encode()) == sid
        assert list(mine.revisions.values()) == [headers()["mcp-protocol-version"]]
        assert not theirs.session_ids and not theirs.revisions
        ended = await client.delete(URL, headers=headers(sid))
        assert ended.status_code in (200, 204)
        assert sid.encode() not in mine.session_ids


def test_the_memos_stay_bounded_and_answer_as_the_checks_do_without_them() -> None:
    memos = HeaderMemos()
    for n in range(MEMO_ENTRIES + 50):
        sent = b"session-%d" % n
        each = {b"mcp-session-id": sent, b"mcp-protocol-version": b"%d" % n}
        assert session_id((), required=True, each=each, memos=memos) == sent.decode()
        found = protocol_version((), ("2025-11-25",), each, memos)
        assert found == protocol_version((), ("2025-11-25",), each)  # the same refusal
    assert len(memos.session_ids) == len(memos.revisions) == MEMO_ENTRIES
    long = b"x" * (MEMO_VALUE_MAX + 1)
    assert session_id((), required=True, each={b"mcp-session-id": long}, memos=memos) == (
        session_id((), required=True, each={b"mcp-session-id": long})
    )
    assert long not in memos.session_ids
    bad = {b"mcp-session-id": b"has space"}
    refused = session_id((), required=True, each=bad, memos=memos)
    assert refused == session_id((), required=True, each=bad) and not isinstance(refused, str)
    assert memos.session_ids[b"has space"] is None  # remembered malformed, answered each time
    last = f"session-{MEMO_ENTRIES + 49}"
    memos.forget_session_id(last)
    assert last.encode() not in memos.session_ids
    assert len(memos.session_ids) == MEMO_ENTRIES - 1
