"""Idle sessions cost little and give it all back: thousands of sessions opened (with a call
whose stream is kept for resumption) and deleted leave the memory they took, measured with
tracemalloc, and no stream, stored event or task behind. The app is driven in-process."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
from _inprocess import asgi_request
from _serving import INITIALIZE, WAIT, headers

from mcpkit import Server
from mcpkit.stores.event_log import MemoryEventStore
from mcpkit.transports.deployment.app import McpHttpApp

N_SESSIONS = 1000
_INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
_CALL = msgspec.json.encode(
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}},
    }
)


async def request(
    app: McpHttpApp, method: str, sid: str | None = None, body: bytes = b""
) -> list[dict[str, Any]]:
    """One request through the ASGI app: the messages it sent back."""
    found = headers(sid, host="127.0.0.1")
    async with asyncio.timeout(WAIT):
        return await asgi_request(app, method, found, body)


def header(sent: Sequence[dict[str, Any]], name: bytes) -> str:
    return dict(sent[0]["headers"])[name].decode()


async def open_and_call(app: McpHttpApp) -> str:
    sent = await request(app, "POST", body=msgspec.json.encode(INITIALIZE))
    sid = header(sent, b"mcp-session-id")
    await request(app, "POST", sid, _INITIALIZED)
    answer = await request(app, "POST", sid, _CALL)
    assert b"hi" in b"".join(m.get("body", b"") for m in answer)
    return sid


def make_app() -> tuple[McpHttpApp, MemoryEventStore]:
    server = Server("memory-test")

    @server.tool()
    def echo(text: str) -> str:
        """Says it back."""
        return text

    store = MemoryEventStore()
    return McpHttpApp(server, event_store=store), store


async def open_and_delete(app: McpHttpApp, store: MemoryEventStore) -> tuple[int, int]:
    """Open N_SESSIONS sessions with a call each, then delete them: the bytes they held, and
    the bytes still held once they are gone (tracemalloc must be on)."""
    before = tracemalloc.get_traced_memory()[0]
    sids = [await open_and_call(app) for _ in range(N_SESSIONS)]
    connections = [session.handle.connection for _, session in app.sessions.items()]
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    # The call's stream is kept to resume (the initialize's is not resumable).
    assert len(app.sessions) == N_SESSIONS and len(store) == N_SESSIONS
    for sid in sids:
        assert (await request(app, "DELETE", sid))[0]["status"] == 200
    del sids
    assert all(connection.closed for connection in connections)
    del connections
    # One turn of the loop: asyncio drops cancelled timers (each session's sweep of its
    # resumable streams) from its heap only when it next runs, not when they are cancelled.
    await asyncio.sleep(0)
    gc.collect()
    return held, tracemalloc.get_traced_memory()[0] - before


# Each request bounded, not the whole (the plugin's 30 s): 6,000 requests under tracemalloc
# take several times longer on a busy machine, and that is not a hang.
@pytest.mark.mcpkit_timeout(0)
async def test_sessions_opened_and_deleted_give_their_memory_back() -> None:
    app, store = make_app()
    for sid in [await open_and_call(app) for _ in range(50)]:  # warm caches and free lists
        await request(app, "DELETE", sid)
    gc.collect()
    tracemalloc.start()
    try:
        held, left = await open_and_delete(app, store)
        _, left_again = await open_and_delete(app, store)
    finally:
        tracemalloc.stop()
    assert len(app.sessions) == 0 and len(store) == 0 and len(app.server.sessions) == 0
    # What stays after the first round is the tables of the registries, sized for N_SESSIONS
    # and reused: a second round adds next to nothing.
    assert left < held / 20, (held / N_SESSIONS, left / N_SESSIONS)
    assert left_again - left < held / 100, (left / N_SESSIONS, left_again / N_SESSIONS)
