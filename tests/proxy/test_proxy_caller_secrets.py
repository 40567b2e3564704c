"""A proxy never passes its caller's secrets to its upstream: the per-caller state key
(`_meta["io.mcpkit/stateKey"]`, docs/server.md "State") reaches the proxy's own state and
stays there, over a 2025-11-25 session and over 2026-07-28 requests, while the rest of the
client's `_meta` goes up as before."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest
from _serving import WAIT, serving
from test_proxy_2026 import answer_of, call, post

from mcpkit import Client, Context, Server
from mcpkit.protocol.unread_meta import UNREAD_TYPES, unread_type_of
from mcpkit.proxy import ProxyServer
from mcpkit.proxy.caller_secrets import without_caller_secrets
from mcpkit.server.catalog.calling.tool_calls import ModernCallToolParams
from mcpkit.server.state.caller import STATE_KEY_META
from mcpkit.types import CallToolRequestParams

SECRET = "s" * 43
KEPT = {"b": 1}


def recording_upstream() -> tuple[Server, list[dict[str, Any]]]:
    """A third-party server whose tool records the `_meta` of every call it receives."""
    seen: list[dict[str, Any]] = []
    upstream = Server("third-party")

    @upstream.tool()
    def record(ctx: Context) -> str:
        seen.append(dict(ctx.meta or {}))
        return "recorded"

    return upstream, seen


async def test_a_session_clients_state_key_stays_with_the_proxy() -> None:
    upstream, seen = recording_upstream()
    meta = {STATE_KEY_META: SECRET, "example.com/trace": "t1"}
    async with asyncio.timeout(WAIT), Client(ProxyServer(upstream), protocol="2025-11-25") as c:
        result = await c.call_tool("record", {}, meta=meta)
    assert not result.is_error
    (received,) = seen
    assert STATE_KEY_META not in received  # before: the upstream had the caller's secret
    assert received["example.com/trace"] == "t1"  # the rest of `_meta` still goes up


async def test_a_2026_callers_state_key_stays_with_the_proxy() -> None:
    upstream, seen = recording_upstream()
    proxy = ProxyServer(upstream)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            body, headers = call(1, "record", {})
            body["params"]["_meta"][STATE_KEY_META] = SECRET
            _, found = await post(client, (body, headers))
    assert answer_of(found)["result"]["content"][0]["text"] == "recorded"
    (received,) = seen
    assert STATE_KEY_META not in received


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "t", "_meta": {STATE_KEY_META: SECRET}}, {"name": "t"}),
        ({"name": "t", "_meta": {STATE_KEY_META: SECRET, **KEPT}}, {"name": "t", "_meta": KEPT}),
        ({"name": "t", "_meta": {"a": 1}}, {"name": "t", "_meta": {"a": 1}}),
        (None, None),
    ],
)
def test_only_the_secret_entries_are_taken_out(params: Any, expected: Any) -> None:
    assert without_caller_secrets(params) == expected


def test_a_struct_keeps_its_type() -> None:
    params = CallToolRequestParams(name="t", meta={STATE_KEY_META: SECRET, "a": 1})
    stripped = without_caller_secrets(params)
    assert isinstance(stripped, CallToolRequestParams)
    assert stripped.meta == {"a": 1} and params.meta is not None and STATE_KEY_META in params.meta


def test_params_whose_meta_is_still_undecoded_lose_the_secret_too() -> None:
    # A server's own 2026-07-28 reads leave a call's `_meta` undecoded until it is read
    # (`mcpkit.protocol.unread_meta`): the secret is found in it all the same.
    twin = unread_type_of(ModernCallToolParams)
    body = msgspec.json.encode({"name": "t", "_meta": {STATE_KEY_META: SECRET, **KEPT}})
    params = msgspec.json.decode(body, type=twin)
    assert type(params) in UNREAD_TYPES  # (a twin: its `_meta` is not decoded yet)
    stripped = without_caller_secrets(params)
    assert isinstance(stripped, ModernCallToolParams) and stripped.meta == KEPT
