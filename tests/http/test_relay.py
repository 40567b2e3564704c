"""The relay of a stream another process produced (`mcpkit.transports.deployment.relay`): the ids
that name a stream's producer and request, and how a relay ends once that producer has
stopped for good (issue 23, "Durability")."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import msgspec
import pytest

from mcpkit import Server
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.stores.event_log import MemoryEventStore
from mcpkit.stores.liveness import MemoryLiveness, process_tag
from mcpkit.transports.deployment import relay
from mcpkit.transports.deployment.relay import STOPPED, follow, producer_of, request_of
from mcpkit.transports.http.sse_stream import Stream, new_stream_id, next_stream_number
from mcpkit.transports.http.stream_storing import new_stream_prefix, session_tag
from mcpkit.transports.sse import MAX_STREAM_ID_LENGTH, make_event_id


def test_a_stream_id_names_its_session_producer_and_request() -> None:
    prefix = new_stream_prefix("session-1")
    assert prefix == session_tag("session-1") + process_tag() + "_"
    for request_id in (7, -3, 0, "abc", "\u00e9t\u00e9", "a_b-c=="):
        stream_id = new_stream_id(prefix, next_stream_number(), request_id)
        make_event_id(stream_id, 1)  # a valid SSE id
        assert producer_of(stream_id) == process_tag()
        assert request_of(stream_id) == request_id
    get_stream = new_stream_id(prefix, next_stream_number())
    assert (producer_of(get_stream), request_of(get_stream)) == (process_tag(), None)


def test_a_request_id_too_long_for_a_stream_id_is_left_out() -> None:
    stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number(), "x" * 200)
    assert len(stream_id) <= MAX_STREAM_ID_LENGTH
    assert request_of(stream_id) is None


def test_numbers_are_never_given_twice_in_a_process() -> None:
    prefix = new_stream_prefix("s")
    ids = {new_stream_id(prefix, next_stream_number()) for _ in range(100)}
    assert len(ids) == 100  # a copy of the session made again here repeats none


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "stream_id",
    [
        "",
        "short",
        "x" * 20,  # a session-less shape: no '_' after the two tags
        "A" * 16 + "_",
        "A" * 16 + "_1",
        "A" * 16 + "_1_",
        "A" * 16 + "_1_!!!",
        "A" * 16 + "_1_" + _encoded(b'{"id":1}'),  # not a string or an integer
        "A" * 16 + "_1_" + _encoded(b"true"),
        "A" * 16 + "_1_" + _encoded(b"1.5"),
        "A" * 16 + "_1_" + _encoded(b'"unterminated'),
        "A" * 16 + "_1_" + _encoded(b"\xff\xfe"),
        "A" * 16 + "_1_a",  # a base64 length no encoder makes
    ],
)
def test_a_forged_stream_id_names_no_request(stream_id: str) -> None:
    assert request_of(stream_id) is None


async def _read_all(stream: Stream) -> list[tuple[int, bytes]]:
    got: list[tuple[int, bytes]] = []
    while (event := await stream.reading().next_event(stream.generation)) is not None:
        got.append(event)
    return got


async def test_a_relay_ends_the_call_once_its_producer_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "PRODUCER_CHECK", 0.2)
    store = MemoryEventStore()
    stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number(), "call-9")
    progress = [
        b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"n":%d}}' % n
        for n in (1, 2, 3)
    ]
    await store.append(stream_id, 1, progress[0])
    liveness = MemoryLiveness()
    producer = producer_of(stream_id)
    assert producer is not None
    await liveness.beat(producer, 60)

    async def gone() -> bool:
        return not await liveness.alive(producer)

    stream = Stream(stream_id)
    following = asyncio.create_task(follow(store, stream, stream_id, 0, gone))
    await asyncio.sleep(0.5)  # alive, with nothing new: the relay waits
    assert not following.done()
    await store.append(stream_id, 2, progress[1])
    await store.append(stream_id, 3, progress[2])  # written just before it stopped
    await liveness.end(producer)
    async with asyncio.timeout(10):
        got = await _read_all(stream)
        await following
    assert [data for _, data in got[:3]] == progress
    seq, last = got[3]
    assert seq == 4
    answer = msgspec.json.decode(last)
    assert answer["id"] == "call-9"
    assert answer["error"] == {"code": INTERNAL_ERROR, "message": STOPPED}


async def test_a_relayed_get_stream_just_ends_once_its_producer_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "PRODUCER_CHECK", 0.2)
    store = MemoryEventStore()
    stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number())  # no request
    await store.append(stream_id, 1, b'{"jsonrpc":"2.0","method":"notifications/x"}')

    async def gone() -> bool:
        return True

    stream = Stream(stream_id)
    async with asyncio.timeout(10):
        await follow(store, stream, stream_id, 0, gone)
    assert stream.ended
    assert [seq for seq, _ in await _read_all(stream)] == [1]


@pytest.mark.parametrize("asked", [False, True])
async def test_a_relay_asks_about_its_producer_at_once_unless_just_asked(
    monkeypatch: pytest.MonkeyPatch, asked: bool
) -> None:
    """A relay asks at its first read that brings nothing new: its producer may be gone
    already. A caller that has just asked (a GET relay with nothing to replay) says so, and
    the relay's first ask waits PRODUCER_CHECK like the later ones."""
    # Later asks are a minute of reads away: only the first read's can come within the
    # test, however slowly a busy machine runs the relay's reads (counted, not timed).
    monkeypatch.setattr(relay, "PRODUCER_CHECK", 60.0)
    monkeypatch.setattr(relay, "RELAY_INTERVAL", 0.01)
    store = Counted()
    stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number())
    asks = 0

    async def gone() -> bool:
        nonlocal asks
        asks += 1
        return False

    stream = Stream(stream_id)
    following = asyncio.create_task(follow(store, stream, stream_id, 0, gone, asked=asked))
    async with asyncio.timeout(5):
        while store.reads < 2:  # the first read, and what it asked, are done
            await asyncio.sleep(0.01)
    assert asks == (0 if asked else 1)
    stream.end()
    async with asyncio.timeout(5):
        await following


async def test_without_liveness_a_relay_waits_as_long_as_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "PRODUCER_CHECK", 0.0)
    store = MemoryEventStore()
    stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number(), 1)
    await store.append(stream_id, 1, b'{"jsonrpc":"2.0","method":"notifications/x"}')
    stream = Stream(stream_id)
    following = asyncio.create_task(follow(store, stream, stream_id, 0, None))
    await asyncio.sleep(0.6)
    assert not following.done()
    await store.append(stream_id, 2, b'{"jsonrpc":"2.0","id":1,"result":{}}')
    async with asyncio.timeout(10):
        await following
    assert [seq for seq, _ in await _read_all(stream)] == [1, 2]


class Counted(MemoryEventStore):
    """A memory event store that counts the reads of its logs."""

    reads = 0

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None:
        self.reads += 1
        return await super().replay_after(stream_id, seq)


async def test_a_quiet_get_stream_is_read_less_and_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relayed GET stream may stay quiet for hours: its log is read at doubling intervals
    (up to QUIET_RELAY_INTERVAL), where a call's, whose client waits, is read at each one.
    What is checked is the waits the follower asks for, not how many reads fit in a span of
    wall-clock time (a busy machine fits fewer)."""
    monkeypatch.setattr(relay, "RELAY_INTERVAL", 0.01)
    monkeypatch.setattr(relay, "QUIET_RELAY_INTERVAL", 0.08)
    real_sleep = asyncio.sleep
    asked: list[float] = []
    enough = asyncio.Event()

    async def recorded(delay: float) -> None:
        asked.append(delay)
        if len(asked) >= 8:
            enough.set()
        await real_sleep(delay)

    monkeypatch.setattr(relay.asyncio, "sleep", recorded)
    waits = {}
    for kind, request_id in (("get", None), ("call", 5)):
        asked.clear()
        enough.clear()
        store = Counted()
        stream_id = new_stream_id(new_stream_prefix("s"), next_stream_number(), request_id)
        stream = Stream(stream_id)
        following = asyncio.create_task(follow(store, stream, stream_id, 0, None))
        async with asyncio.timeout(10):
            await enough.wait()
        waits[kind] = asked[:8]
        await store.append(stream_id, 1, b'{"jsonrpc":"2.0","method":"notifications/x"}')
        async with asyncio.timeout(10):
            assert await stream.reading().next_event(stream.generation) is not None  # still read
        stream.end()
        await following
    assert waits["get"] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.08, 0.08, 0.08, 0.08])
    assert waits["call"] == pytest.approx([0.01] * 8)


async def test_only_streams_others_may_relay_carry_their_request(tmp_path: Path) -> None:
    """One process with its own memory keeps stream ids short: no other process will ever
    relay them. With a store processes share, a call's stream names its request."""
    assert not Server("alone").http_app().streams.relayed
    shared = Server("shared", store=f"sqlite:///{tmp_path / 'state.db'}")
    assert shared.http_app().streams.relayed
    await shared.store.aclose()
