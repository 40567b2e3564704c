"""Unread answers, all streams together (issue 39): each client that asks for a large answer
and never reads it left the server holding the whole answer (a legacy `/sse` stream ~38 MiB
for a 15 MB resource, a 2026-07-28 POST ~18 MiB), and thirty such clients 1.2 GiB. One budget,
`max_queued_bytes`, now bounds what all slow readers hold together, in every kind of stream of
both eras and in the connections' write buffers: past it the reader holding the most is ended,
and a newcomer is still served."""

from __future__ import annotations

import asyncio
import gc
import random
import socket
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest
from _serving import WAIT, headers, messages_of, open_session, serving

from mcpkit import Server
from mcpkit.cli.commands.run import http_options
from mcpkit.cli.main import build_parser
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.slow_readers import QueuedBytes
from mcpkit.transports.http.sse_stream import Stream

ANSWER = 2 * 1024 * 1024  # characters of one answer
BUDGET = 6 * 1024 * 1024  # max_queued_bytes: three answers
STALLED = 10  # clients that ask for an answer and never read it
CALL_ID = 7


def big_server() -> Server:
    server = Server("big-answers")

    @server.tool()
    def big(size: int) -> str:
        """An answer of `size` characters."""
        return "x" * size

    return server


def call_body(meta: dict[str, Any] | None = None) -> bytes:
    params: dict[str, Any] = {"name": "big", "arguments": {"size": ANSWER}}
    if meta is not None:
        params["_meta"] = meta
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "id": CALL_ID, "method": "tools/call", "params": params}
    )


def post_request(base: str, path: str, body: bytes, extra: dict[str, str]) -> bytes:
    host = base.removeprefix("http://")
    lines = [f"POST {path} HTTP/1.1", f"host: {host}", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def unread(base: str, request: bytes, mark: bytes) -> socket.socket:
    """Send `request` on a socket with a small receive buffer and read only until `mark` has
    come (the start of the answer: the server has written all of it then), or the server
    ended the connection; then read no more."""
    sock = await small_socket(base)
    await asyncio.get_running_loop().sock_sendall(sock, request)
    await read_until(sock, mark)
    return sock


async def small_socket(base: str) -> socket.socket:
    """A connection to `base` with a small receive buffer: what a client that stopped reading
    leaves the server once the kernel's buffers are full."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return sock


async def read_until(sock: socket.socket, mark: bytes) -> bytes:
    """What `sock` gives until `mark` has come (b"" if the server ended it first)."""
    seen = b""
    while mark not in seen:
        try:
            chunk = await asyncio.get_running_loop().sock_recv(sock, 1024)
        except ConnectionError:
            return b""  # ended by the server (the budget chose it)
        if not chunk:
            return b""
        seen += chunk
    return seen


Stall = Callable[[str, httpx.AsyncClient], Awaitable[socket.socket]]


async def stall_2025_session(base: str, client: httpx.AsyncClient) -> socket.socket:
    sid = await open_session(client, base + "/mcp")
    request = post_request(base, "/mcp", call_body(), headers(sid))
    return await unread(base, request, f'"id":{CALL_ID}'.encode())


async def stall_2026(base: str, client: httpx.AsyncClient) -> socket.socket:
    revision = "2026-07-28"
    meta = {
        "io.modelcontextprotocol/protocolVersion": revision,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    extra = headers(**{"mcp-protocol-version": revision, "mcp-method": "tools/call"})
    extra["mcp-name"] = "big"
    request = post_request(base, "/mcp", call_body(meta), extra)
    return await unread(base, request, f'"id":{CALL_ID}'.encode())


async def read_endpoint(sock: socket.socket, get: bytes) -> str:
    await asyncio.get_running_loop().sock_sendall(sock, get)
    """The stream's endpoint event: the URL its messages are POSTed to."""
    mark = b"event: endpoint\ndata: "
    seen = b""
    while mark not in seen or b"\n" not in seen.split(mark, 1)[1]:
        seen += await asyncio.get_running_loop().sock_recv(sock, 1024)
    return seen.split(mark, 1)[1].split(b"\n", 1)[0].decode()


async def stall_legacy(base: str, client: httpx.AsyncClient) -> socket.socket:
    host = base.removeprefix("http://")
    get = f"GET /sse HTTP/1.1\r\nhost: {host}\r\naccept: text/event-stream\r\n\r\n"
    sock = await small_socket(base)
    url = await asyncio.wait_for(read_endpoint(sock, get.encode()), WAIT)
    init = {"protocolVersion": "2024-11-05", "capabilities": {}}
    init["clientInfo"] = {"name": "stalled", "version": "0"}
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ):
        assert (await client.post(url, json=message)).status_code == 202
    typed = {"content-type": "application/json"}
    assert (await client.post(url, content=call_body(), headers=typed)).status_code == 202
    await read_until(sock, f'"id":{CALL_ID}'.encode())
    return sock


@pytest.mark.parametrize("era", ["2025-session-sse", "2026-sse", "2026-json", "2024-legacy-sse"])
async def test_unread_answers_of_many_clients_stay_within_max_queued_bytes(era: str) -> None:
    stall = {"2025": stall_2025_session, "2026": stall_2026, "2024": stall_legacy}[era[:4]]
    # resumable=False: a resumable stream's events are also kept for a replay, a bound of
    # their own (replay_window); here only what waits for readers is measured.
    app = big_server().http_app(
        max_queued_bytes=BUDGET, json_response=era.endswith("json"), resumable=False
    )
    await held_by_stalled_clients(app, stall)


async def held_by_stalled_clients(
    app: McpHttpApp,
    stall: Stall,
    count: int = STALLED,
    http: Any = None,
    keep_alive: int = 5,
    settle: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """`count` clients leave an answer unread (after each, `settle` is awaited): what the
    server holds stays within the budget, the slowest are ended, and a fresh client still gets
    its whole answer."""
    limits = httpx.Limits(max_connections=None)
    stalled: list[socket.socket] = []
    protocol = app.uvicorn_protocol("httptools") if http is None else http
    try:
        async with (
            asyncio.timeout(WAIT * 3 + count * keep_alive),
            serving(app, http=protocol, sndbuf=4096, keep_alive=keep_alive) as base,
            httpx.AsyncClient(base_url=base, limits=limits, timeout=WAIT) as client,
        ):
            await serve_stalled(app, stall, stalled, client, base, count, settle)
    finally:
        for sock in stalled:
            sock.close()


async def serve_stalled(
    app: McpHttpApp,
    stall: Stall,
    stalled: list[socket.socket],
    client: httpx.AsyncClient,
    base: str,
    count: int,
    settle: Callable[[], Awaitable[None]] | None,
) -> None:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(count):
            stalled.append(await stall(base, client))
            if settle is not None:
                await settle()
            assert app.queued.total <= BUDGET
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    print(f"{count} unread {ANSWER >> 20} MiB answers: {grown >> 20} MiB held")
    # Before: every unread answer held whole, ~2 MiB each and more (20+ MiB).
    assert grown < BUDGET + 3 * 1024 * 1024
    assert app.queued.ended >= count - BUDGET // ANSWER
    # A newcomer is served in full.
    sid = await open_session(client, "/mcp")
    answer = await client.post("/mcp", content=call_body(), headers=headers(sid))
    (result,) = messages_of(answer)
    assert len(result["result"]["content"][0]["text"]) == ANSWER
    for sock in stalled:  # before the server stops: it waits for open streams
        sock.close()


async def test_a_connection_closed_with_an_unread_answer_still_counts() -> None:
    """Issue 64: uvicorn's keep-alive closes a connection `keep_alive` seconds after its
    answer, and a closing transport keeps its buffer for a client that does not read it. It
    was counted as nothing from then: sixty unread 2026 answers took a server from 64 MiB to
    1 GiB. Now it counts until it drains or is aborted, and shedding aborts it."""
    app = big_server().http_app(max_queued_bytes=BUDGET, json_response=True, resumable=False)
    connections: list[Any] = []
    joined: Any = app.uvicorn_protocol("httptools")

    class Recorded(joined):  # type: ignore[misc,valid-type]  (a class built at run time)
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            connections.append(self.writes)

    async def closed_by_keep_alive() -> None:
        """Until every connection holding unread bytes has been closed by the keep-alive."""
        while any(
            not writes.transport.is_closing()
            for writes in connections
            if writes.transport.get_write_buffer_size()
        ):
            await asyncio.sleep(0.05)

    await held_by_stalled_clients(
        app, stall_2026, count=6, http=Recorded, keep_alive=1, settle=closed_by_keep_alive
    )


async def test_answers_kept_for_replay_count_in_max_queued_bytes() -> None:
    """Issue 64: a 2025 session's stream keeps its answer for a resumption; forty clients
    leaving a large answer unread held 1.8 GiB past the budget, their connections' buffers
    counted and the answers kept beside them not. Now the kept answers count too, the oldest
    dropped first."""
    app = big_server().http_app(max_queued_bytes=BUDGET)  # resumable: answers are kept
    await held_by_stalled_clients(app, stall_2025_session)
    assert app.queued.dropped >= 1


async def test_a_resumption_past_a_dropped_replay_is_answered_410() -> None:
    """The oldest kept answer goes first when answers kept for replay pass the budget; a GET
    with its Last-Event-ID is refused as for any stream that cannot be resumed, and a kept
    one is still replayed."""
    app = big_server().http_app(max_queued_bytes=BUDGET)
    async with (
        asyncio.timeout(WAIT),
        serving(app, http=app.uvicorn_protocol("httptools")) as base,
        httpx.AsyncClient(base_url=base, timeout=WAIT) as client,
    ):
        first = await answered(client, 1000)  # the oldest replay
        for _ in range(BUDGET // ANSWER):  # read in full, each kept for a resumption
            await answered(client, ANSWER)
        last = await answered(client, 1000)
        sid, event_id = first
        refused = await client.get("/mcp", headers=headers(sid, **{"last-event-id": event_id}))
        assert refused.status_code == 410
        assert "cannot be resumed" in refused.json()["error"]["message"]
        sid, event_id = last
        replayed = await client.get("/mcp", headers=headers(sid, **{"last-event-id": event_id}))
        assert replayed.status_code == 200
        (result,) = messages_of(replayed)
        assert len(result["result"]["content"][0]["text"]) == 1000
        assert app.queued.total <= BUDGET and app.queued.dropped >= 1


async def answered(client: httpx.AsyncClient, size: int) -> tuple[str, str]:
    """A new session's call for an answer of `size` characters, read in full: the session and
    the id of the stream's priming event (what a client that lost the answer resumes after)."""
    sid = await open_session(client, "/mcp")
    body = msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": CALL_ID,
            "method": "tools/call",
            "params": {"name": "big", "arguments": {"size": size}},
        }
    )
    answer = await client.post("/mcp", content=body, headers=headers(sid))
    (result,) = messages_of(answer)
    assert len(result["result"]["content"][0]["text"]) == size
    priming = answer.text.split("\n", 1)[0]
    assert priming.startswith("id: ") and priming.endswith(".0")
    return sid, priming.removeprefix("id: ")


async def test_the_reader_holding_the_most_is_ended_and_a_newcomer_is_spared() -> None:
    # In process, as for an app served by another ASGI server: its streams are charged.
    budget = QueuedBytes(3000)
    older, largest, newcomer = (Stream(budget=budget) for _ in range(3))
    await older.put(b"x" * 1000)
    await largest.put(b"x" * 1500)
    await newcomer.put(b"x" * 1600)  # passes the budget, holds the most, but has had no time
    assert (older.attached, largest.attached, newcomer.attached) == (True, False, True)
    assert budget.total == 2600 and budget.ended == 1
    # What a connection took stays counted until it has handed it on.
    assert await older.reading().next_event(older.generation) == (1, b"x" * 1000)
    assert budget.total == 2600
    older.sent()
    assert budget.total == 1600 and older.held == 0
    # A newcomer larger than the whole budget is not spared.
    huge = Stream(budget=budget)
    await huge.put(b"x" * 4000)
    assert not huge.attached and newcomer.attached
    assert budget.total == 1600 and budget.ended == 2


def test_max_queued_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_queued_bytes"):
        big_server().http_app(max_queued_bytes=0)


def test_mcpkit_run_takes_max_queued_bytes() -> None:
    parser = build_parser()
    argv = ["run", "server.py", "--transport", "http", "--max-queued-bytes", "1048576"]
    args = parser.parse_args(argv)
    assert http_options(args.verb_parser, args)["max_queued_bytes"] == 1048576
    with pytest.raises(SystemExit):
        http_options(args.verb_parser, parser.parse_args([*argv[:-1], "0"]))


async def test_kept_replays_go_oldest_first_before_any_reader_is_ended() -> None:
    budget = QueuedBytes(3000)
    reader = Stream(budget=budget)
    await reader.put(b"x" * 1000)  # unread by a live connection
    older, newer = Stream(budget=budget), Stream(budget=budget)
    budget.replay_is(older, 1000)
    budget.replay_is(newer, 1000)
    assert budget.total == 3000 and budget.dropped == 0
    budget.replay_is(newer, 1500)  # newer keeps more: the oldest replay goes, not the reader
    assert (older.replay_held, newer.replay_held) == (0, 1500) and older.storing is None
    assert reader.attached and budget.total == 2500 and budget.dropped == 1
    assert budget.ended == 0 and list(budget.replays) == [newer]
    budget.release_replay(newer)
    assert budget.total == 1000 and not budget.replays


_Counters = tuple[int, int, int, list[int], list[int], list[tuple[int, int, bool]]]


def _budget_after(events: list[tuple[str, int, int]], one_call: bool) -> _Counters:
    """The counters of a budget of 5000 bytes and four streams after `events`: ("charge",
    stream, bytes), ("credit", stream, bytes), ("let_go", stream, bytes kept for replay),
    ("forget", stream, 0). A connection letting go is `QueuedBytes.let_go` with `one_call`,
    else the two calls it stands for, `release` then `replay_is`."""
    budget = QueuedBytes(5000)
    streams = [Stream(budget=budget) for _ in range(4)]
    for event, n, size in events:
        stream = streams[n]
        if event == "charge":
            budget.charge(stream, size)
        elif event == "credit":
            budget.credit(stream, min(size, stream.held))
        elif event == "forget":
            budget.release_replay(stream)
        elif one_call:
            budget.let_go(stream, size)
        else:
            budget.release(stream)
            budget.replay_is(stream, stream.replay_held + size)
    number = {id(stream): n for n, stream in enumerate(streams)}
    return (
        budget.total,
        budget.ended,
        budget.dropped,
        [number[id(reader)] for reader in budget.holding],  # in the order they began to hold
        [number[id(replay)] for replay in budget.replays],
        [(s.held, s.replay_held, s.attached) for s in streams],
    )


def test_letting_go_in_one_call_counts_as_release_then_replay_is() -> None:
    chooser = random.Random(65)
    kinds = ["charge", "charge", "credit", "let_go", "forget"]
    ended = dropped = 0
    for _ in range(200):
        events = [
            (chooser.choice(kinds), chooser.randrange(4), chooser.choice([0, 1, 700, 1800]))
            for _ in range(12)
        ]
        after = _budget_after(events, True)
        assert after == _budget_after(events, False), events
        ended += after[1] > 0
        dropped += after[2] > 0
    assert ended and dropped  # past the budget both ways, in some of the sequences
