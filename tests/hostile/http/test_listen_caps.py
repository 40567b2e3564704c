"""2026-07-28 requests held open (issue 39): `subscriptions/listen` streams and calls in flight
are capped per client (a client past its cap loses its own oldest listen, answered), a listen's
filter is bounded (refused naming the limit) and what an open listen holds stays small, and
max_connections pressure falls on the address holding the most. Served on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from _resource_helpers import ALICE, BOB, scoped_server
from _serving import ONLY_MCPKIT, WAIT, headers, serving

from mcpkit import Server
from mcpkit.cli.commands.run import http_options, register
from mcpkit.errors import McpError
from mcpkit.server.catalog.listeners import (
    MAX_LISTEN_FILTER_BYTES,
    MAX_RESOURCE_SUBSCRIPTIONS,
    check_filter,
)
from mcpkit.transports.deployment.app import McpHttpApp

REVISION = "2026-07-28"
LISTEN_HEADERS = headers(**{"mcp-protocol-version": REVISION, "mcp-method": "subscriptions/listen"})
DISCOVER_HEADERS = headers(**{"mcp-protocol-version": REVISION, "mcp-method": "server/discover"})


def watched_server() -> Server:
    server = Server("listens")

    @server.resource("notes://{name}")
    def note(name: str) -> str:
        return name

    return server


def request(method: str, rid: object, params: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": method,
        "params": {**(params or {}), "_meta": meta},
    }


def listen(rid: object, uris: list[str] | None = None) -> dict[str, Any]:
    wanted: dict[str, Any] = {"toolsListChanged": True}
    if uris is not None:
        wanted["resourceSubscriptions"] = uris
    return request("subscriptions/listen", rid, {"notifications": wanted})


class OpenListen:
    """A listen whose acknowledgement was read; `rest()` reads it to its end."""

    def __init__(self, response: httpx.Response, lines: AsyncIterator[str]) -> None:
        self.response = response
        self.lines = lines

    async def rest(self) -> list[Any]:
        return [
            msgspec.json.decode(line[6:]) async for line in self.lines if line.startswith("data: ")
        ]


@contextlib.asynccontextmanager
async def listens(
    client: httpx.AsyncClient, url: str, count: int, token: str | None = None
) -> AsyncIterator[list[OpenListen]]:
    """`count` listens opened one after another (with `token`), each acknowledged; closed on
    leaving."""
    sent = (
        LISTEN_HEADERS if token is None else {**LISTEN_HEADERS, "authorization": f"Bearer {token}"}
    )
    async with contextlib.AsyncExitStack() as stack:
        opened: list[OpenListen] = []
        for i in range(count):
            response = await stack.enter_async_context(
                client.stream("POST", url, json=listen(f"L{i}"), headers=sent)
            )
            assert response.status_code == 200
            lines = response.aiter_lines()
            line = ""
            while not line.startswith("data: "):
                line = await anext(lines)
            assert "subscriptions/acknowledged" in line
            opened.append(OpenListen(response, lines))
        yield opened


def other_address() -> httpx.AsyncClient:
    """A client from 127.0.0.2 (loopback too): another address than the tests' 127.0.0.1."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    return httpx.AsyncClient(transport=transport, timeout=WAIT)


def unlimited() -> httpx.AsyncClient:
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=WAIT)


async def test_a_client_past_its_cap_loses_its_own_oldest_listens_and_others_are_served() -> None:
    # Before: one client held 2,000 listens; nothing counted them.
    server = watched_server()
    app = McpHttpApp(server, max_requests_per_address=5)
    async with asyncio.timeout(WAIT * 2), serving(app) as base, unlimited() as client:
        url = base + "/mcp"
        async with listens(client, url, 12) as held:
            assert len(server.listeners) <= 5
            # The oldest ended cleanly: each was answered (subscriptions/listen's result).
            for i, ended in enumerate(held[:7]):
                (*_, answer) = await ended.rest()
                assert answer["id"] == f"L{i}" and "result" in answer, answer
            assert len(server.listeners) == 5
            # A request from the same address still gets through (its oldest listen made
            # room: calls and listens share the budget), and so does one from another
            # address; the newest listens stay open.
            discover = request("server/discover", 1)
            mine = await client.post(url, json=discover, headers=DISCOVER_HEADERS)
            assert mine.status_code == 200, mine.text
            async with other_address() as other:
                theirs = await other.post(url, json=discover, headers=DISCOVER_HEADERS)
                assert theirs.status_code == 200, theirs.text
            assert {listen.request_id for listen in server.listeners._open} == {
                f"L{i}" for i in range(8, 12)
            }


async def test_with_auth_each_user_has_its_own_cap_whatever_its_address() -> None:
    server, _ = scoped_server()
    app = server.http_app(max_requests_per_user=2)
    async with asyncio.timeout(WAIT * 2), serving(app) as base, unlimited() as client:
        url = base + "/mcp"
        async with listens(client, url, 6, ALICE) as alices, listens(client, url, 1, BOB):
            assert len(server.listeners) == 3  # two of alice's (her newest), bob's
            for ended in alices[:4]:
                (*_, answer) = await ended.rest()
                assert "result" in answer, answer


async def test_a_client_whose_requests_are_all_calls_gets_503_naming_the_setting() -> None:
    # 2026-07-28 calls, and the POSTs of a stateless app (2025-11-25), which no session counts.
    modern_call = request("tools/call", 1, {"name": "hold"})
    modern_headers = headers(
        **{"mcp-protocol-version": REVISION, "mcp-method": "tools/call", "mcp-name": "hold"}
    )
    stateless_call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "hold"}}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    for stateless, call, call_headers, quick, quick_headers in (
        (False, modern_call, modern_headers, request("server/discover", 2), DISCOVER_HEADERS),
        (True, stateless_call, headers(), listing, headers()),
    ):
        server = Server("calls")
        release = asyncio.Event()

        @server.tool()
        async def hold() -> str:
            await release.wait()  # noqa: B023  (each server its own event)
            return "done"

        app = McpHttpApp(server, max_requests_per_address=2, stateless=stateless)
        async with asyncio.timeout(WAIT), serving(app) as base, unlimited() as client:
            url = base + "/mcp"
            calls = [
                asyncio.create_task(client.post(url, json=call, headers=call_headers))
                for _ in range(2)
            ]
            while app._own_calls.count(("address", "127.0.0.1")) < 2:
                await asyncio.sleep(0.01)  # bounded by the timeout above
            refused = await client.post(url, json=call, headers=call_headers)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert "max_requests_per_address" in refused.json()["error"]["message"]
            # Another address is served all the same.
            async with other_address() as other:
                theirs = await other.post(url, json=quick, headers=quick_headers)
                assert theirs.status_code == 200, theirs.text
            release.set()
            assert all(r.status_code == 200 for r in await asyncio.gather(*calls))
            assert app._own_calls.count(("address", "127.0.0.1")) == 0


async def test_an_oversized_filter_is_refused_naming_the_limit() -> None:
    # Before: 1,000 URIs of 1 KiB each were accepted (and silently cut past 1,000).
    app = McpHttpApp(watched_server())
    async with asyncio.timeout(WAIT), serving(app) as base, unlimited() as client:
        url = base + "/mcp"
        cases = {
            "MAX_RESOURCE_SUBSCRIPTIONS": [
                f"notes://{i}" for i in range(MAX_RESOURCE_SUBSCRIPTIONS + 1)
            ],
            "MAX_LISTEN_ID_BYTES": ["notes://" + "a" * 5000],
            "MAX_LISTEN_FILTER_BYTES": [f"notes://{i}-" + "a" * 1000 for i in range(100)],
        }
        for limit, uris in cases.items():
            answer = await client.post(url, json=listen(1, uris), headers=LISTEN_HEADERS)
            assert answer.status_code == 400, limit
            error = answer.json()["error"]
            assert error["code"] == -32602 and limit in error["message"], error
            assert error["data"]["limit"] == limit


def test_task_ids_count_against_the_same_limits() -> None:
    check_filter({"taskIds": ["t"] * MAX_RESOURCE_SUBSCRIPTIONS})  # at the limit: fine
    with pytest.raises(McpError) as too_many:
        check_filter({"taskIds": ["t"] * (MAX_RESOURCE_SUBSCRIPTIONS + 1)})
    assert too_many.value.code == -32602 and "MAX_RESOURCE_SUBSCRIPTIONS" in str(too_many.value)
    # URIs and task ids share the bytes: each half of the budget passes, both together not.
    half = ["x" * 1024] * (MAX_LISTEN_FILTER_BYTES // 2048)
    check_filter({"taskIds": half})
    with pytest.raises(McpError, match="MAX_LISTEN_FILTER_BYTES"):
        check_filter({"taskIds": half, "resourceSubscriptions": [*half, "y"]})


async def test_what_an_open_listen_holds_is_bounded() -> None:
    # Before: ~2 MiB held per listen of 1,000 URIs of 1 KiB (the URIs and the whole body).
    # Now the largest filter allowed, in a body padded to 1 MiB: only the filter stays.
    server = watched_server()
    app = McpHttpApp(server)
    count = 10
    per_uri = 1000
    uris = [
        f"notes://{i}-" + "u" * (per_uri - 12) for i in range(MAX_LISTEN_FILTER_BYTES // per_uri)
    ]
    # Each listen has its own deadline, not the ten together: with tracemalloc on, what the
    # server does for a body costs a multiple of its usual time, and more in a test worker
    # whose heap the earlier tests grew (7 s for the ten in a CI run, 22 s on a busy machine).
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(WAIT) as deadline, serving(app) as base, unlimited() as client:
        url = base + "/mcp"
        async with contextlib.AsyncExitStack() as stack:
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.take_snapshot().filter_traces(ONLY_MCPKIT)
                held = []
                for i in range(count):
                    deadline.reschedule(loop.time() + WAIT)
                    body = msgspec.json.encode(listen(i, [u + str(i) for u in uris])) + b" " * 2**20
                    response = await stack.enter_async_context(
                        client.stream("POST", url, content=body, headers=LISTEN_HEADERS)
                    )
                    lines = response.aiter_lines()
                    line = ""
                    while not line.startswith("data: "):
                        line = await anext(lines)
                    held.append(lines)
                assert len(server.listeners) == count
                gc.collect()
                after = tracemalloc.take_snapshot().filter_traces(ONLY_MCPKIT)
            finally:
                tracemalloc.stop()
            deadline.reschedule(loop.time() + WAIT)  # the ten listens closed, and the server
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(f"{grown / count / 1024:.0f} KiB held per listen")
    assert grown / count < 2 * MAX_LISTEN_FILTER_BYTES


async def test_max_connections_pressure_falls_on_the_greedy_address() -> None:
    # Before: with max_connections 300, 320 listens from one client gave every other 503.
    server = watched_server()
    app = McpHttpApp(server, max_connections=8, header_timeout=WAIT)
    async with (
        asyncio.timeout(WAIT * 2),
        serving(app, http=app.uvicorn_protocol()) as base,
        unlimited() as greedy,
    ):
        url = base + "/mcp"
        async with listens(greedy, url, 8):
            assert len(server.listeners) == 8
            # The greedy address's own newcomers are refused, however many, while it keeps
            # the refusals open (before, each second one took the place of the refused one
            # still draining, past the limit).
            async with contextlib.AsyncExitStack() as refusals:
                held: list[httpx.Response] = []
                for i in range(4):
                    refused = await refusals.enter_async_context(
                        greedy.stream("POST", url, json=listen(f"X{i}"), headers=LISTEN_HEADERS)
                    )
                    assert refused.status_code == 503, i
                    held.append(refused)
                for refused in held:  # (read once all are open: reading may close one)
                    assert b"max_connections" in await refused.aread()
            assert len(server.listeners) == 8
            # Another address (127.0.0.2 is loopback too) is served: one of the greedy
            # address's connections ends instead.
            async with other_address() as other:
                answer = await other.post(
                    url, json=request("server/discover", 1), headers=DISCOVER_HEADERS
                )
                assert answer.status_code == 200, answer.text
            async with asyncio.timeout(WAIT):  # the server sees the ended connection's listen go
                while len(server.listeners) >= 8:
                    await asyncio.sleep(0.02)
            assert len(server.listeners) < 8


def test_mcpkit_run_takes_the_per_address_cap() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers().add_parser)
    argv = ["run", "server.py", "--transport", "http", "--max-requests-per-address", "7"]
    args = parser.parse_args(argv)
    options = http_options(args.verb_parser, args)
    assert options == {"max_requests_per_address": 7}
    app = McpHttpApp(Server("cli"), **options)  # type: ignore[arg-type]  (an int, as parsed)
    assert app.request_caps.of(None, "10.0.0.1") == (
        ("address", "10.0.0.1"),
        7,
        "max_requests_per_address",
    )
