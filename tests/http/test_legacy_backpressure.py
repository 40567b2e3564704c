"""Memory of legacy HTTP+SSE sessions: a client that stops reading its stream meets a bounded
queue, then the runtime stops taking its POSTs, and once it reads again every answer arrives;
sessions opened and closed give back what they held (spec: 2024-11-05 basic/transports;
DESIGN.md, "a slow consumer never grows memory")."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import httpx
import pytest
from _legacy import Events, call, legacy_session, make_server
from _serving import ONLY_MCPKIT, WAIT, serving

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.http.streams import MAX_QUEUED
from mcpkit.transports.legacy_sse.endpoint import LegacySseEndpoint
from mcpkit.transports.legacy_sse.legacy_session import MAX_WAITING_BODIES, LegacyChannel

ROOTS_CHANGED = {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}
N_SESSIONS = 100
N_CALLS = 500
ANSWER_SIZE = 96 * 1024  # 500 answers: about 47 MiB if they were all held
BOUND = 16 * 1024 * 1024  # the queue (64 answers), the runtime's high water, copies in flight


async def test_a_full_stream_makes_the_sender_wait_until_read() -> None:
    channel = LegacyChannel()
    for i in range(MAX_QUEUED):
        await channel.send(b"%d" % i)
    blocked = asyncio.get_running_loop().create_task(channel.send(b"one more"))
    await asyncio.sleep(0)  # one turn: the send runs up to its wait for room
    assert not blocked.done()
    assert await channel.stream.reading().next() == b"0"
    await asyncio.wait_for(blocked, WAIT)
    channel.close()
    assert [await channel.stream.reading().next() for _ in range(MAX_QUEUED)][-1] == b"one more"
    assert await channel.stream.reading().next() is None


async def test_bodies_past_the_waiting_limit_mark_the_channel_full() -> None:
    channel = LegacyChannel()
    info = RequestInfo("http")
    waiting = [channel.submit(b"{}", info) for _ in range(MAX_WAITING_BODIES)]
    assert channel.full
    await channel.receive()
    assert not channel.full
    channel.close()
    assert all(isinstance(w.exception(), ConnectionClosed) for w in waiting[1:])
    waiting[0].cancel()  # read, and never answered: body_read was not called


async def test_a_client_that_stops_reading_costs_bounded_memory_and_loses_nothing() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT * 3), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        events.keep_raw = False
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            taken, blocked = await post_until_refused(client, url, the_channel(app))
            held = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        assert blocked is not None, "every call was taken with nobody reading the stream"
        # Once answers wait for the reader (or bodies wait to be read), more are refused.
        extra = [
            asyncio.get_running_loop().create_task(client.post(url, json=ROOTS_CHANGED))
            for _ in range(MAX_WAITING_BODIES)
        ]
        done, _ = await asyncio.wait(extra, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        assert done and all(p.result().status_code == 429 for p in done)
        # Reading again: every call taken is answered, once.
        ids = {(await events.message())["id"] for _ in range(taken)}
        assert len(ids) == taken
        await asyncio.wait([blocked, *extra], timeout=WAIT)
        assert {p.result().status_code for p in [blocked, *extra]} <= {202, 429}
        await events.response.aclose()
    total = N_CALLS * ANSWER_SIZE
    print(f"held: {held / 2**20:.1f} MiB after {taken} calls taken of {total / 2**20:.0f} MiB")
    assert held < BOUND


def the_channel(app: McpHttpApp) -> LegacyChannel:
    """The channel of the app's one legacy session."""
    assert app.legacy is not None
    ((_, session),) = app.legacy.sessions.items()
    return session.channel


async def post_until_refused(
    client: httpx.AsyncClient, url: str, channel: LegacyChannel
) -> tuple[int, asyncio.Task[httpx.Response] | None]:
    """POST calls one at a time until one is refused (429) or its body waits in a session
    that stopped reading (its stream backed up): how many were taken, and that POST. Seen
    on the channel, not guessed from a POST slower than some seconds, which on a busy
    machine is only slow."""
    loop = asyncio.get_running_loop()
    for i in range(N_CALLS):
        post = loop.create_task(client.post(url, json=call(i, "blob", {"size": ANSWER_SIZE})))
        async with asyncio.timeout(WAIT):
            while not post.done():
                if channel.busy and channel.full:
                    return i + 1, post  # taken once the session reads again
                await asyncio.wait({post}, timeout=0.01)  # looking again every 10 ms
        if post.result().status_code == 429:
            return i, post
        assert post.result().status_code == 202
    return N_CALLS, None


# Bounded session by session, not as a whole (the plugin's 30 s): opening a hundred under
# tracemalloc takes several times longer on a busy machine, and that is not a hang.
@pytest.mark.mcpkit_timeout(0)
async def test_legacy_sessions_opened_and_closed_return_their_memory() -> None:
    server = make_server()
    app = server.http_app()
    legacy = app.legacy
    assert legacy is not None
    ours = ONLY_MCPKIT  # not the HTTP client's own caches, nor uvicorn's
    limits = httpx.Limits(max_connections=None)
    async with serving(app) as base:
        async with httpx.AsyncClient(limits=limits) as client:
            await close_all(legacy, [await opened_in_time(client, base) for _ in range(5)])
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.take_snapshot().filter_traces(ours)
                opened = [await opened_in_time(client, base) for _ in range(N_SESSIONS)]
                gc.collect()
                live = tracemalloc.take_snapshot().filter_traces(ours)
                await close_all(legacy, opened)
                del opened
                gc.collect()
                after = tracemalloc.take_snapshot().filter_traces(ours)
            finally:
                tracemalloc.stop()
    assert len(legacy.sessions) == 0 and len(server.sessions) == 0
    each = sum(stat.size_diff for stat in live.compare_to(before, "filename")) / N_SESSIONS
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"a live idle legacy session: {each / 1024:.1f} KiB; after closing all: {grown} B")
    assert each > 1024  # the measurement sees the sessions at all
    # What stays: grown dict and set tables, asyncio's free list of future iterators (at most
    # 255 of 40 B); N_SESSIONS leaked sessions would be a megabyte.
    assert grown < 32 * 1024, grown


async def opened_in_time(client: httpx.AsyncClient, base: str) -> tuple[Events, str]:
    """`legacy_session`, failing after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        return await legacy_session(client, base)


async def close_all(legacy: LegacySseEndpoint, opened: list[tuple[Events, str]]) -> None:
    """Close every stream, and wait (bounded) until the server has ended each session."""
    tasks = {session.task for _, session in legacy.sessions.items()}
    for events, _ in opened:
        await events.response.aclose()
    if tasks:
        await asyncio.wait(tasks, timeout=WAIT)


BIG = 2 * 1024 * 1024  # one answer: 2 MiB of text
# 69 answers would be 138 MiB. Held: the answers queued up to the stream's byte bound, those
# being encoded (each a few copies) and the handlers that started before the reader stopped,
# more of them when the machine is busy (16 answers' worth was seen just passed under load).
BIG_BOUND = 24 * BIG


async def _answers_of_taken(events: Events, posts: list[asyncio.Task[httpx.Response]]) -> set[int]:
    """The ids answered on the stream, read until every POST is done and every POST taken
    (202) has its answer; bounded by WAIT."""
    answered: set[int] = set()
    reading: asyncio.Future[Any] | None = None
    try:
        async with asyncio.timeout(WAIT):
            while True:
                pending = [p for p in posts if not p.done()]
                if not pending:
                    taken = {i for i, p in enumerate(posts) if p.result().status_code == 202}
                    if taken <= answered:
                        return answered
                if reading is None:
                    reading = asyncio.ensure_future(events.message())
                await asyncio.wait([reading, *pending], return_when=asyncio.FIRST_COMPLETED)
                if reading.done():
                    answered.add(reading.result()["id"])
                    reading = None
    finally:
        if reading is not None:
            reading.cancel()


def _refused(posts: list[asyncio.Task[httpx.Response]]) -> bool:
    return any(p.done() and p.result().status_code == 429 for p in posts)


async def test_an_unread_stream_holds_bounded_bytes_however_big_the_answers() -> None:
    """Issue 19: 69 small POSTs asking for big answers grew a never-read stream by 1 GiB (64
    queued messages whatever their size). The stream's queue is bounded in bytes, then the
    runtime stops reading, then POSTs are refused: held memory is a few answers, not 64."""
    app = make_server().http_app()
    limits = httpx.Limits(max_connections=None)
    async with (
        asyncio.timeout(WAIT * 4),
        serving(app) as base,
        httpx.AsyncClient(limits=limits) as client,
    ):
        events, url = await legacy_session(client, base)
        events.keep_raw = False
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            posts = [
                asyncio.get_running_loop().create_task(
                    client.post(url, json=call(i, "blob", {"size": BIG}))
                )
                for i in range(69)
            ]
            # Until the first refusal (on a busy machine that may take a while), then a
            # moment for the POSTs already on their way; bounded by WAIT.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            pending: set[asyncio.Task[httpx.Response]] = set(posts)
            while pending and loop.time() < deadline and not _refused(posts):
                _, pending = await asyncio.wait(
                    pending, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED
                )
            if pending:
                await asyncio.wait(pending, timeout=0.5)
            done = {p for p in posts if p.done()}
            waiting = set(posts) - done
            held = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        codes = sorted(p.result().status_code for p in done)
        print(
            f"held {held / 2**20:.1f} MiB; answered {codes.count(202)}, refused "
            f"{codes.count(429)}, waiting {len(waiting)}"
        )
        assert codes.count(429) > 0, "every POST was taken with nobody reading the stream"
        # Reading again: every call taken is answered. A POST still waiting may yet be taken
        # or refused (it was once counted as taken, and the test then waited for an answer
        # that never came), so the stream is read until every POST has its status and every
        # one taken its answer.
        answered = await _answers_of_taken(events, posts)
        accepted = {i for i, p in enumerate(posts) if p.result().status_code == 202}
        assert answered == accepted
        await events.response.aclose()
    assert held < BIG_BOUND, f"{held / 2**20:.1f} MiB held"
