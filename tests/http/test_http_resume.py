"""Resumability over real HTTP (basic/transports, "Resumability and Redelivery"): a POST stream
cut mid-call and the GET stream, each resumed by GET + Last-Event-ID with nothing lost and
nothing twice, and never another stream's messages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from _serving import WAIT, headers, open_session, serving
from _sse import Reader, message

from mcpkit import Context, Server
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.sse_parser import SSEParser


class Gates:
    """What the test lets the tool do next: one event per step, set from the test."""

    def __init__(self) -> None:
        self.release = asyncio.Event()


def make_server(gates: Gates) -> Server:
    server = Server("resume-test")

    @server.tool()
    async def count(ctx: Context, before: int, after: int) -> str:
        """`before` progress notifications, a wait for the test, `after` more, then the answer."""
        total = before + after
        for i in range(before):
            await ctx.progress(i + 1, total)
        await gates.release.wait()
        for i in range(before, total):
            await ctx.progress(i + 1, total)
        return "counted"

    @server.tool()
    async def announce(ctx: Context, n: int) -> str:
        """`n` log messages related to no request: they go on the GET stream."""
        for i in range(n):
            await ctx.session.log("info", f"note {i}")
        return "announced"

    return server


def call(rid: int, name: str, arguments: dict[str, object]) -> object:
    params = {"name": name, "arguments": arguments, "_meta": {"progressToken": f"t{rid}"}}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def ids_of(events: list[object]) -> list[str]:
    return [e.id for e in events]  # type: ignore[attr-defined]


async def test_a_post_stream_cut_mid_call_is_resumed_with_nothing_lost_or_repeated() -> None:
    gates = Gates()
    app = make_server(gates).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        body = call(2, "count", {"before": 3, "after": 3})
        async with client.stream("POST", url, json=body, headers=headers(sid)) as response:
            reader = Reader(response)
            priming, first, second = await reader.take(3)
        # The client cut the connection after two messages; the call goes on.
        stream_id = priming.id.split(".")[0]
        assert priming.data == "" and priming.id == f"{stream_id}.0"
        assert [message(e)["params"]["progress"] for e in (first, second)] == [1, 2]
        assert ids_of([first, second]) == [f"{stream_id}.1", f"{stream_id}.2"]

        get = headers(sid, **{"last-event-id": second.id})
        async with client.stream("GET", url, headers=get) as resumed:
            assert resumed.status_code == 200
            reader = Reader(resumed)
            (third,) = await reader.take(1)  # sent before the cut was seen: replayed
            gates.release.set()  # what comes next arrives live, on the resumed stream
            rest = [third, *await reader.rest()]
        got = [message(e) for e in rest]
        assert [m["params"]["progress"] for m in got[:-1]] == [3, 4, 5, 6]
        assert got[-1]["id"] == 2 and got[-1]["result"]["content"][0]["text"] == "counted"
        assert ids_of(rest) == [f"{stream_id}.{n}" for n in range(3, 8)]
        # Delivered to its end, it stays resumable a while: the client may have lost the end.
        again = await client.get(url, headers=headers(sid, **{"last-event-id": rest[-2].id}))
        assert again.status_code == 200
        assert [m["id"] for m in events_of(again.text)] == [2]


async def test_a_stream_that_ended_while_cut_is_replayed_whole() -> None:
    gates = Gates()
    gates.release.set()
    app = make_server(gates).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        body = call(2, "count", {"before": 0, "after": 4})
        async with client.stream("POST", url, json=body, headers=headers(sid)) as response:
            (priming,) = await Reader(response).take(1)
        # Whatever the call sent after the priming event is kept until the client returns.
        get = headers(sid, **{"last-event-id": priming.id})
        resumed = await client.get(url, headers=get)
        got = events_of(resumed.text)
        assert [m["params"]["progress"] for m in got[:-1]] == [1, 2, 3, 4]
        assert got[-1]["result"]["content"][0]["text"] == "counted"


async def test_an_answer_written_whole_is_primed_numbered_and_kept() -> None:
    # A call answered at once has its priming event and answer written in one piece; they
    # carry the ids any stream's do, and the answer stays kept for a client that lost it.
    app = make_server(Gates()).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        answered = await client.post(url, json=call(2, "announce", {"n": 0}), headers=headers(sid))
        priming, answer = SSEParser().feed(answered.content)
        stream_id = priming.id.split(".")[0]
        assert (priming.data, priming.id, answer.id) == ("", f"{stream_id}.0", f"{stream_id}.1")
        assert message(answer)["result"]["content"][0]["text"] == "announced"
        get = headers(sid, **{"last-event-id": priming.id})
        lost = await client.get(url, headers=get)
        assert lost.status_code == 200
        (again,) = SSEParser().feed(lost.content)
        assert (again.id, again.data) == (answer.id, answer.data)
        get = headers(sid, **{"last-event-id": answer.id})  # it has it all: nothing more
        assert SSEParser().feed((await client.get(url, headers=get)).content) == []


def events_of(text: str) -> list[Any]:
    """The messages of a whole SSE body (the priming event, with no data, is skipped)."""
    return [message(e) for e in SSEParser().feed(text.encode()) if e.data]


async def test_the_get_stream_is_resumed_and_goes_on_live() -> None:
    app = make_server(Gates()).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        async with client.stream("GET", url, headers=headers(sid)) as listening:
            reader = Reader(listening)
            (priming,) = await reader.take(1)
            await client.post(url, json=call(2, "announce", {"n": 2}), headers=headers(sid))
            kept = await reader.take(2)
        assert [message(e)["params"]["data"] for e in kept] == ["note 0", "note 1"]
        stream_id = priming.id.split(".")[0]
        # Sent while no connection carries the GET stream: stored for the resumption.
        await client.post(url, json=call(3, "announce", {"n": 2}), headers=headers(sid))
        get = headers(sid, **{"last-event-id": kept[-1].id})
        async with client.stream("GET", url, headers=get) as resumed:
            reader = Reader(resumed)
            missed = await reader.take(2)
            await client.post(url, json=call(4, "announce", {"n": 1}), headers=headers(sid))
            (live,) = await reader.take(1)
        got = [message(e)["params"]["data"] for e in [*missed, live]]
        assert got == ["note 0", "note 1", "note 0"]
        assert ids_of([*missed, live]) == [f"{stream_id}.{n}" for n in (3, 4, 5)]


async def test_an_id_of_another_stream_or_session_replays_nothing() -> None:
    gates = Gates()
    app = make_server(gates).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        mine, theirs = await open_session(client, url), await open_session(client, url)
        body = call(2, "count", {"before": 1, "after": 0})
        async with client.stream("POST", url, json=body, headers=headers(mine)) as response:
            _, progress = await Reader(response).take(2)
        for sid, last, status in [
            (theirs, progress.id, 410),  # another session's stream: as if unknown
            (mine, "AAAAAAAAAAAAAAAA.1", 410),  # no such stream
            (mine, progress.id.rsplit("_", 1)[0] + "_99.1", 410),  # nor with this session's prefix
            (mine, progress.id.split(".")[0] + ".99", 410),  # an event not sent yet
            (mine, "not an id", 400),
            (mine, "x" * 5000, 400),
        ]:
            refused = await client.get(url, headers=headers(sid, **{"last-event-id": last}))
            assert refused.status_code == status, (last, refused.text)
            assert "Last-Event-ID" in refused.json()["error"]["message"]
        # Its own id still works after all that, and replays only its own stream.
        async with client.stream(
            "GET", url, headers=headers(mine, **{"last-event-id": progress.id})
        ) as resumed:
            reader = Reader(resumed)
            gates.release.set()
            rest = await reader.rest()
        assert [message(e)["id"] for e in rest] == [2]
        assert all(e.id.startswith(progress.id.split(".")[0] + ".") for e in rest)


async def test_a_resumption_takes_over_a_connection_still_open() -> None:
    app = make_server(Gates()).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        async with client.stream("GET", url, headers=headers(sid)) as first:
            old = Reader(first)
            (priming,) = await old.take(1)
            get = headers(sid, **{"last-event-id": priming.id})
            async with client.stream("GET", url, headers=get) as second:
                assert await old.rest() == []  # the old response ends, with nothing more
                await client.post(url, json=call(2, "announce", {"n": 1}), headers=headers(sid))
                (note,) = await Reader(second).take(1)
        assert note.id == priming.id.split(".")[0] + ".1"


async def test_delete_frees_every_stream_and_stored_event() -> None:
    gates = Gates()
    app: McpHttpApp = make_server(gates).http_app()
    store = app.streams.store
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        body = call(2, "count", {"before": 2, "after": 0})
        async with client.stream("POST", url, json=body, headers=headers(sid)) as response:
            await Reader(response).take(2)
        assert len(store) == 1  # type: ignore[arg-type]  # the call's (initialize's is not kept)
        assert (await client.delete(url, headers=headers(sid))).status_code == 200
        assert len(store) == 0  # type: ignore[arg-type]


async def test_a_stream_is_forgotten_once_its_retention_has_passed() -> None:
    gates = Gates()
    gates.release.set()
    app: McpHttpApp = make_server(gates).http_app(replay_retention=0.0)
    store = app.streams.store
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        answer = await client.post(
            url, json=call(2, "count", {"before": 1, "after": 1}), headers=headers(sid)
        )
        last = SSEParser().feed(answer.content)[-1]
        while len(store):  # type: ignore[arg-type]  # the session's one timer fires at once
            await asyncio.sleep(0.01)
        resumed = await client.get(url, headers=headers(sid, **{"last-event-id": last.id}))
        assert resumed.status_code == 410
