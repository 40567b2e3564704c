"""Requests that carry their own terms (2026-07-28), each part fuzzed, sent one after another
on one connection as stdio carries them, before or after a 2025-11-25 `initialize` on that
same connection: every answer is well-formed JSON-RPC and never an internal error, and the
connection goes on answering (`server/discover`, or `ping` once initialized). The HTTP side
is test_http_fuzz_2026.py."""

from __future__ import annotations

import asyncio
from typing import Any

from _fuzz_2026 import META, REVISION, make_server, requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit.testing import raw_session

SERVER = make_server()
DISCOVER = {
    "jsonrpc": "2.0",
    "id": "alive",
    "method": "server/discover",
    "params": {"_meta": {META + "protocolVersion": REVISION, META + "clientCapabilities": {}}},
}


PING = {"jsonrpc": "2.0", "id": "alive", "method": "ping"}


def assert_well_formed(message: Any) -> None:
    assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
    if "method" in message:
        return  # a notification (progress, say) or a request of the server's
    assert ("result" in message) != ("error" in message), message
    if "error" in message:
        error = message["error"]
        assert isinstance(error["code"], int) and isinstance(error["message"], str), message
        assert error["code"] != -32603, message  # never "internal"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests, min_size=1, max_size=4), st.booleans())
def test_fuzzed_requests_on_one_connection_get_well_formed_answers(
    sent: list[dict[str, Any]], initialized: bool
) -> None:
    async def run() -> None:
        async with raw_session(SERVER, initialize=initialized, timeout=5) as peer:
            for message in sent:
                await peer.send(message)
            # A connection that initialized speaks its session's revision; one that did not
            # still discovers.
            await peer.send(PING if initialized else DISCOVER)
            alive = await peer.response_to("alive")
            assert "result" in alive, alive
            while True:  # what came before, and what is still coming: bounded by quiet
                try:
                    assert_well_formed(await asyncio.wait_for(peer.receive(), 0.05))
                except TimeoutError:
                    break
        # Tasks the requests started wind down (bounded by the run's wait_for).
        while SERVER.task_runner or SERVER.sessions:
            await asyncio.sleep(0.01)
        assert len(SERVER.task_runner) == 0 and not SERVER.sessions

    asyncio.run(asyncio.wait_for(run(), 20))
