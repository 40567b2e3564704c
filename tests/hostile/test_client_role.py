"""The real Client against a fake server that writes raw bytes: invalid UTF-8, deep JSON,
garbage and invalid answers never end the client's session. A call whose answer is invalid
fails at once with a clear McpError (not a timeout, not a closed connection), and the next
call works; the client answers bad requests as a server would (spec: basic/index)."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from hostile.harness import PEERS, WAIT
from mcpkit import Client, McpError, RequestTimeout

FAKE = [sys.executable, str(PEERS / "fake_server.py")]
CALL_TIMEOUT = 3.0  # seconds: an unanswered call fails as a timeout, which the tests refuse


def make_client(*args: str) -> Client:
    # The fake server speaks 2025-11-25 alone and, like some legacy servers, says nothing to
    # server/discover: pinned, the client opens with initialize instead of waiting out the
    # probe (PROBE_TIMEOUT, tested in tests/client/test_client_modern.py).
    return Client(
        [*FAKE, *args],
        protocol="2025-11-25",
        max_message_size=64 * 1024,
        timeout=CALL_TIMEOUT,
        init_timeout=WAIT,
        stderr="capture",
    )


def text_of(result: object) -> str:
    return "".join(getattr(item, "text", "") for item in getattr(result, "content", []))


async def test_junk_from_the_server_does_not_break_the_client() -> None:
    async with asyncio.timeout(WAIT * 2):
        async with make_client() as client:
            assert text_of(await client.call_tool("junk")) == "ok"
            assert text_of(await client.call_tool("echo")) == "ok"
            await client.ping()


async def test_junk_right_after_the_handshake_does_not_break_the_client() -> None:
    async with asyncio.timeout(WAIT * 2):
        async with make_client("junk") as client:
            await client.ping()
            assert text_of(await client.call_tool("echo")) == "ok"
            await client.ping()


@pytest.mark.parametrize(
    "kind", ["utf8", "deep", "truncated", "wrong-shape", "oversize", "utf8-error"]
)
async def test_an_invalid_answer_fails_its_call_and_the_session_goes_on(kind: str) -> None:
    async with asyncio.timeout(WAIT * 2):
        async with make_client() as client:
            with pytest.raises(McpError) as caught:
                await client.call_tool(kind)
            assert not isinstance(caught.value, RequestTimeout), (
                f"the call waited for its timeout instead of failing: {caught.value}"
            )
            assert caught.value.message
            assert text_of(await client.call_tool("echo")) == "ok"
            await client.ping()


async def test_the_client_answers_bad_requests_like_a_server() -> None:
    async with asyncio.timeout(WAIT * 2):
        async with make_client() as client:
            answers = json.loads(text_of(await client.call_tool("probe-client")))
            await client.ping()
    got = [(a.get("id"), a.get("error", {}).get("code")) for a in answers]
    assert got == [
        ("p1", -32700),
        ("p2", -32600),
        ("p3", -32700),
        (None, -32600),
        ("fake-ping", None),
    ], answers
