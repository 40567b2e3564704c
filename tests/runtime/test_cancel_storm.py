"""A request and its notifications/cancelled arriving together leave nothing behind in the
Connection, however many pairs a peer sends, and the session still answers."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import msgspec

from mcpkit import Server
from mcpkit.runtime.connection import Connection
from mcpkit.testing import raw_session

PAIRS = 20_000
GROWTH_BOUND = 3 * 1024 * 1024  # bytes; the leak grew ~30 MB over 20,000 pairs


def make_server() -> Server:
    server = Server("cancel-storm")

    @server.tool()
    async def wait() -> str:
        await asyncio.Event().wait()  # cancelled by the peer, or by the session's end
        return "never"

    return server


def pair(rid: int) -> bytes:
    request = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": "wait", "arguments": {}},
    }
    cancel = {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": rid, "reason": "storm"},
    }
    return msgspec.json.encode(request) + b"\n" + msgspec.json.encode(cancel)


def bookkeeping(conn: Connection) -> dict[str, int]:
    return {
        "handlers": len(conn.handlers),
        "futures": len(conn._awaiting.futures),
        "progress": len(conn._awaiting.progress),
        "timeouts": len(conn._awaiting.timeouts),
        "queued": conn.send_backlog,
    }


async def storm(peer, first: int, count: int) -> None:  # type: ignore[no-untyped-def]
    for rid in range(first, first + count):
        request, cancel = pair(rid).split(b"\n")
        # Both are queued before the server reads either: the handler task is cancelled
        # before its first step.
        await peer.send_bytes(request)
        await peer.send_bytes(cancel)
        if rid % 500 == 0:  # let the server catch up now and then (no answers come back)
            assert (await peer.request("ping"))["result"] == {}


async def test_request_and_cancel_pairs_leave_nothing_behind() -> None:
    server = make_server()
    async with raw_session(server) as peer:
        (handle,) = server.sessions
        conn = handle.connection
        await storm(peer, 1_000_000, 1_000)  # warm up caches and free lists
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await storm(peer, 2_000_000, PAIRS)
            assert (await peer.request("ping"))["result"] == {}
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert bookkeeping(conn) == {
            "handlers": 0,
            "futures": 0,
            "progress": 0,
            "timeouts": 0,
            "queued": 0,
        }
        assert after - before < GROWTH_BOUND, f"grew {after - before} bytes"
        reply = await peer.request("tools/list")
        assert [tool["name"] for tool in reply["result"]["tools"]] == ["wait"]
