"""SIGTERM to `mcpkit run examples/everything.py --transport http` with streams open that
never end on their own (a 2025-11-25 GET stream, a 2026-07-28 `subscriptions/listen`, a
legacy `/sse` stream): each ends at once, the listen with its answer (its graceful end,
where it used to be cut after the calls' grace), and the process exits cleanly."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
from _running import REPO, WAIT, mcpkit, running
from _serving import headers, open_session, sse_messages

LISTEN_ID = 7
LISTEN = {
    "jsonrpc": "2.0",
    "id": LISTEN_ID,
    "method": "subscriptions/listen",
    "params": {
        "notifications": {"toolsListChanged": True},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "shutdown-test", "version": "1"},
        },
    },
}
LISTEN_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "subscriptions/listen",
}


async def _first_event(lines: Any) -> str:
    async for line in lines:
        if line.startswith(("data: ", "event: ")):
            return str(line)
    raise AssertionError("the stream ended before its first event")


async def test_sigterm_ends_get_listen_and_legacy_streams_at_once_and_the_process_exits() -> None:
    argv = mcpkit("run", str(REPO / "examples" / "everything.py"), "--transport", "http")
    async with running([*argv, "--port", "0"]) as server:
        url = await server.started()
        base = url.removesuffix("/mcp")
        async with asyncio.timeout(WAIT), httpx.AsyncClient(timeout=WAIT) as client:
            sid = await open_session(client, url)
            async with (
                client.stream("GET", url, headers=headers(sid)) as get,
                client.stream("POST", url, json=LISTEN, headers=LISTEN_HEADERS) as listen,
                client.stream("GET", f"{base}/sse", headers={"accept": "text/event-stream"}) as sse,
            ):
                assert (get.status_code, listen.status_code, sse.status_code) == (200, 200, 200)
                listen_lines = listen.aiter_lines()
                acknowledged = await _first_event(listen_lines)  # the listen is open
                assert "notifications/subscriptions/acknowledged" in acknowledged
                sse_lines = sse.aiter_lines()
                assert (await _first_event(sse_lines)).startswith("event: endpoint")
                server.proc.send_signal(signal.SIGTERM)
                # Each stream ends (the reads return) rather than waiting for the calls' grace.
                ended_get = (await get.aread()).decode()
                rest = "\n".join([line async for line in listen_lines])
                _ = [line async for line in sse_lines]
        assert "retry: " in ended_get and sse_messages(ended_get) == []
        # The listen is answered: the client knows its subscription ended, not that a
        # connection broke.
        (answer,) = sse_messages(rest)
        assert answer["id"] == LISTEN_ID and "result" in answer, rest
        assert await server.exited() == 0
    assert "graceful shutdown exceeded" not in server.text
    assert "stopped by SIGTERM" in server.text
