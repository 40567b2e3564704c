"""RateLimit (mcpkit.server.middleware.rate_limit): token buckets per session or per identity,
the error a refused request gets, its log record, and memory that a flood of keys cannot grow."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken, McpError
from mcpkit.protocol.events import RequestInfo
from mcpkit.server.middleware.rate_limit import RATE_LIMITED, RateLimit
from mcpkit.testing import raw_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _inprocess import asgi_request, final_answer
from _serving import headers, serving


def make_server(limit: RateLimit) -> Server:
    server = Server("limited", middleware=[limit])

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    return server


def add_call() -> dict[str, Any]:
    return {"name": "add", "arguments": {"a": 1, "b": 2}}


async def test_a_burst_then_the_rate_then_an_error_naming_when_to_retry(
    fake_clock: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    clock = cast("Any", fake_clock)
    limit = RateLimit(rate=2, burst=3, per="session")
    async with raw_session(make_server(limit)) as peer:
        for _ in range(3):
            assert "result" in await peer.request("tools/call", add_call())
        with caplog.at_level(logging.WARNING, logger="mcpkit.ratelimit"):
            refused = await peer.request("tools/call", add_call())
            again = await peer.request("tools/call", add_call())
        error = refused["error"]
        assert error["code"] == RATE_LIMITED == -31429
        assert error["data"] == {"retryAfter": 0.5, "rate": 2.0, "burst": 3}
        assert "retry after 0.5 s" in error["message"]
        assert again["error"]["code"] == RATE_LIMITED
        # One record per run of refusals, naming the method and the key.
        records = [r for r in caplog.records if r.name == "mcpkit.ratelimit"]
        assert len(records) == 1 and "tools/call" in records[0].getMessage()
        clock.advance(0.5)
        assert "result" in await peer.request("tools/call", add_call())
        assert "error" in await peer.request("tools/call", add_call())
        clock.advance(10)  # refills to the burst, no further
        for _ in range(3):
            assert "result" in await peer.request("tools/call", add_call())
        assert "error" in await peer.request("tools/call", add_call())


async def test_only_the_methods_chosen_are_counted(fake_clock: Any) -> None:
    limit = RateLimit(rate=1, burst=1, methods={"tools/call"})
    async with raw_session(make_server(limit)) as peer:
        assert "result" in await peer.request("tools/call", add_call())
        assert "error" in await peer.request("tools/call", add_call())
        for _ in range(5):
            assert "result" in await peer.request("tools/list")
        assert "result" in await peer.request("ping")


async def test_each_session_has_its_own_bucket(fake_clock: Any) -> None:
    server = make_server(RateLimit(rate=1, burst=1))
    async with Client(server) as first, Client(server) as second:
        await first.call_tool("add", {"a": 1, "b": 1})
        await second.call_tool("add", {"a": 1, "b": 1})
        with pytest.raises(McpError) as refused:
            await first.call_tool("add", {"a": 1, "b": 1})
        assert refused.value.code == RATE_LIMITED
        assert refused.value.data == {"retryAfter": 1.0, "rate": 1.0, "burst": 1}


class _Tokens:
    """A verifier that knows two people: alice (two tokens) and bob."""

    table: ClassVar[dict[str, AccessToken]] = {
        "alice-1": AccessToken(subject="alice", client_id="app"),
        "alice-2": AccessToken(subject="alice", client_id="other-app"),
        "bob": AccessToken(subject="bob", client_id="app"),
    }

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        found = self.table.get(token)
        if found is None:
            raise InvalidToken("unknown token")
        return found


async def test_an_identity_shares_its_bucket_across_sessions_over_http() -> None:
    server = Server(
        "limited", auth=ProtectedResource(verifier=_Tokens()), middleware=[RateLimit(0.001, 2)]
    )

    @server.tool()
    def whoami(ctx: Context) -> str:
        assert ctx.auth is not None
        return str(ctx.auth.subject)

    async with serving(server.http_app()) as base:
        url = f"{base}/mcp"

        def as_(token: str) -> Client:
            return Client(url, headers={"authorization": f"Bearer {token}"})

        async with as_("alice-1") as a1, as_("alice-2") as a2, as_("bob") as bob:
            assert (await a1.call_tool("whoami")).content[0].text == "alice"  # type: ignore[union-attr]
            await a2.call_tool("whoami")
            with pytest.raises(McpError) as refused:
                await a1.call_tool("whoami")  # alice's third, in another session
            assert refused.value.code == RATE_LIMITED
            assert (await bob.call_tool("whoami")).content[0].text == "bob"  # type: ignore[union-attr]


async def test_over_http_each_session_has_its_own_bucket() -> None:
    limit = RateLimit(0.001, 1, per="session")
    server = make_server(limit)
    async with serving(server.http_app()) as base:
        async with (
            Client(f"{base}/mcp", protocol="2025-11-25") as first,
            Client(f"{base}/mcp", protocol="2025-11-25") as second,
        ):
            await first.call_tool("add", {"a": 1, "b": 1})
            await second.call_tool("add", {"a": 1, "b": 1})
            with pytest.raises(McpError) as refused:
                await second.call_tool("add", {"a": 1, "b": 1})
            assert refused.value.code == RATE_LIMITED
    assert len(limit) == 2


async def test_over_http_a_2026_client_without_a_token_is_limited_by_its_address() -> None:
    """2026-07-28 requests have no session (each POST is served on its own): without a token,
    their bucket is the client's address, never one per request."""
    limit = RateLimit(0.001, 2, per="session")
    server = make_server(limit)
    async with serving(server.http_app()) as base:
        async with Client(f"{base}/mcp") as first, Client(f"{base}/mcp") as second:
            assert first.protocol_version == "2026-07-28"
            await first.call_tool("add", {"a": 1, "b": 1})
            await second.call_tool("add", {"a": 1, "b": 1})
            with pytest.raises(McpError) as refused:
                await first.call_tool("add", {"a": 1, "b": 1})  # the address's third
            assert refused.value.code == RATE_LIMITED
    assert len(limit) == 1


async def test_in_memory_each_2026_client_has_its_own_bucket() -> None:
    """A 2026-07-28 request in memory (or over stdio) belongs to no session either, but its
    connection is its one client's, and lasts: the connection's bucket is the client's."""
    limit = RateLimit(0.001, 1, per="session")
    server = make_server(limit)
    async with Client(server) as first, Client(server) as second:
        assert first.protocol_version == "2026-07-28"
        await first.call_tool("add", {"a": 1, "b": 1})
        await second.call_tool("add", {"a": 1, "b": 1})
        with pytest.raises(McpError) as refused:
            await first.call_tool("add", {"a": 1, "b": 1})
        assert refused.value.code == RATE_LIMITED
    assert len(limit) == 2


def _without_address(app: Any) -> Any:
    """`app` served as by an ASGI server that knows no client address (a Unix socket's)."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "client": None}, receive, send)

    return served


@pytest.mark.parametrize("revision", ["2026-07-28", "2025-11-25"])
async def test_over_http_requests_with_no_session_and_no_address_share_one_bucket(
    revision: str,
) -> None:
    """A request over HTTP that has no session (2026-07-28, or one a stateless app serves with
    a session made for it alone) and whose client's address the server does not know draws on
    the one bucket all such requests share: never on one of its own, which nothing would
    ever empty."""
    limit = RateLimit(0.001, 2, per="session")
    server = make_server(limit)
    app = _without_address(server.http_app(stateless=revision != "2026-07-28"))
    params: dict[str, Any] = add_call()
    sent = headers(host="127.0.0.1:8000", **{"mcp-protocol-version": revision})
    if revision == "2026-07-28":
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": revision,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        sent.update({"mcp-method": "tools/call", "mcp-name": "add"})
    body = msgspec.json.encode(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    )
    answers = [final_answer(await asgi_request(app, "POST", sent, body)) for _ in range(3)]
    assert ["result" in answer for answer in answers] == [True, True, False], answers
    assert answers[2]["error"]["code"] == RATE_LIMITED
    assert len(limit) == 1


def _request(key: str, *, subject: str | None = None) -> Context:
    """A stand-in Context with what RateLimit reads: the method, the HTTP session's id, the
    token, and the server's store (which keeps no shared buckets)."""
    auth = AccessToken(subject=subject) if subject is not None else None
    info = RequestInfo("http", headers=[(b"mcp-session-id", key.encode())])
    return cast(
        "Context",
        SimpleNamespace(
            method="tools/call",
            auth=auth,
            request_info=info,
            server=SimpleNamespace(store=SimpleNamespace(buckets=None)),
        ),
    )


async def _flood(limit: RateLimit, keys: range, *, identity: bool) -> None:
    async def inner(params: Any) -> Any:
        return params

    for i in keys:
        ctx = _request(f"s{i}", subject=f"user{i}" if identity else None)
        await limit(ctx, None, inner)


@pytest.mark.parametrize("identity", [False, True])
async def test_a_flood_of_keys_is_held_in_bounded_memory(identity: bool) -> None:
    limit = RateLimit(rate=1, burst=5, max_keys=1_000, clock=lambda: 0.0)
    tracemalloc.start()
    try:
        await _flood(limit, range(2_000), identity=identity)  # full: each new key evicts one
        gc.collect()
        before = tracemalloc.take_snapshot()
        await _flood(limit, range(2_000, 52_000), identity=identity)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert len(limit) == 1_000
    # 50,000 new keys, each a bucket of about 150 bytes if kept: 7.5 MB. Kept: none more.
    assert grown < 64_000, grown


async def test_idle_full_buckets_are_dropped_before_any_active_one() -> None:
    now = [0.0]
    limit = RateLimit(rate=1, burst=2, max_keys=100, clock=lambda: now[0])

    async def inner(params: Any) -> Any:
        return params

    await limit(_request("old"), None, inner)
    now[0] = 10.0  # "old" is full again: the same as no bucket
    await limit(_request("new"), None, inner)
    assert len(limit) == 1


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="rate must be a positive"):
        RateLimit(0)
    with pytest.raises(ValueError, match="burst must be at least 1"):
        RateLimit(1, 0)
    with pytest.raises(ValueError, match='per must be "identity" or "session"'):
        RateLimit(1, per=cast("Any", "ip"))
    assert RateLimit(2.5).burst == 3
