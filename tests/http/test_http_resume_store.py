"""The pieces of resumption with plain calls (the event store's own are tests/stores'): a
Stream that stays bounded with a store behind it, whether its reader is slow or gone, a
closed channel's streams forgotten by the store, and an answer ending its own POST's stream."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from mcpkit.protocol.events import RequestInfo
from mcpkit.stores.event_log import MemoryEventStore
from mcpkit.transports.deployment.app_settings import AppSettings
from mcpkit.transports.deployment.slow_readers import QueuedBytes
from mcpkit.transports.http._exchange import Exchange
from mcpkit.transports.http.checks import Refusal
from mcpkit.transports.http.sse_stream import KEEPALIVE, MAX_QUEUED, Stream, StreamSettings
from mcpkit.transports.http.streams import HttpChannel
from mcpkit.transports.sse import encode_stream


async def test_a_slow_reader_makes_the_writer_wait_and_a_gone_one_costs_the_window() -> None:
    store = MemoryEventStore(max_events=8)
    stream = Stream("s", store)
    writer = asyncio.get_running_loop().create_task(_put_many(stream, MAX_QUEUED + 10))
    while stream.seq < MAX_QUEUED:
        await asyncio.sleep(0)  # the writer fills the queue...
    await asyncio.sleep(0)
    assert stream.seq == MAX_QUEUED and not writer.done()  # ...then waits for the reader
    assert await stream.reading().next_event(0) == (1, b"0")  # room for one more
    stream.detach()  # the reader is gone: the writer goes on, only the window is kept
    await asyncio.wait_for(writer, 5)
    assert stream.seq == MAX_QUEUED + 10
    assert await stream.reading().next_event(0) is None
    assert [seq for seq, _ in await store.replay_after("s", MAX_QUEUED + 2) or []] == list(
        range(MAX_QUEUED + 3, MAX_QUEUED + 11)
    )


async def test_a_replaced_reader_reads_nothing_more_and_the_new_one_everything_new() -> None:
    stream = Stream("s", MemoryEventStore())
    old = asyncio.get_running_loop().create_task(stream.reading().next_event(0))
    await asyncio.sleep(0)
    generation = stream.attach()
    new = asyncio.get_running_loop().create_task(stream.reading().next_event(generation))
    await asyncio.sleep(0)
    await stream.put(b"hello")
    assert await asyncio.wait_for(old, 5) is None
    assert await asyncio.wait_for(new, 5) == (1, b"hello")


async def test_keepalives_come_only_while_the_stream_is_idle() -> None:
    stream = Stream("s", MemoryEventStore())
    stream.reading().start_keepalive(0.01)
    assert await asyncio.wait_for(stream.reading().next_event(0), 5) == KEEPALIVE
    stream.reading().stop_keepalive()
    await stream.put(b"x")
    assert await stream.reading().next_event(0) == (1, b"x")


async def test_a_closed_channel_has_its_streams_forgotten_awaited_or_in_a_task() -> None:
    settings = StreamSettings(store=MemoryEventStore())
    store = settings.store
    assert isinstance(store, MemoryEventStore)
    waited = HttpChannel(settings=settings)
    first = await _cut_get_stream(waited)
    second = await _cut_get_stream(waited)  # replaces the first, which is forgotten at once
    assert (
        len(store) == 1
        and first.storing is None
        and second.storing is not None
        and second.storing.store is store
    )
    await waited.aclose()  # awaits the store
    assert len(store) == 0 and second.storing is None
    # close() is called from plain callbacks, which cannot await: a task forgets, and the
    # app's shutdown waits for it (drain).
    closed = HttpChannel(settings=settings)
    await _cut_get_stream(closed)
    assert len(store) == 1 and not settings.forgetting
    closed.close()
    assert len(settings.forgetting) == 1
    await asyncio.wait_for(settings.drain(), 5)
    assert len(store) == 0 and not settings.forgetting


class _FailingStore(MemoryEventStore):
    async def forget(self, stream_id: str) -> None:
        raise ConnectionError("the store is down")


async def test_a_store_failing_to_forget_in_a_task_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _FailingStore()
    settings = StreamSettings(store=store)
    channel = HttpChannel(settings=settings)
    stream = await _cut_get_stream(channel)
    channel.close()
    with caplog.at_level("WARNING", logger="mcpkit.http"):
        await asyncio.wait_for(settings.drain(), 5)
    assert "failed to forget" in caplog.text and not settings.forgetting
    assert len(store) == 1 and stream.storing is None  # kept by the store, unreachable here


async def _cut_get_stream(channel: HttpChannel) -> Stream:
    """A GET stream with one stored message, whose connection went."""
    stream = await channel.streams.open_stream()
    assert stream is not None and stream.id is not None
    await stream.put(b"x")
    stream.detach()
    return stream


async def _put_many(stream: Stream, n: int) -> None:
    for i in range(n):
        await stream.put(b"%d" % i)


class _Feeder:
    """Reads each body as starting the request ids it names (what a session's `feed` reports)."""

    def __init__(self, channel: HttpChannel) -> None:
        self.channel = channel

    async def room_to_read(self) -> None:
        pass

    def feed(self, data: bytes, info: object, *, hold: bool = False) -> None:
        self.channel.body_read(None, [int(i) for i in data.split()], [])

    async def serve(self, ev: object) -> None:
        raise AssertionError("nothing is served here")

    def input_closed(self) -> None:
        pass


async def test_an_answer_frees_its_own_routes_and_not_a_reused_id_routed_elsewhere() -> None:
    channel = HttpChannel(settings=StreamSettings(store=MemoryEventStore()))
    channel.deliver_to(_Feeder(channel))  # (a stand-in session)
    info = cast(RequestInfo, None)
    batch = await channel.submit(b"1 2", info)  # a batch: requests 1 and 2
    other = await channel.submit(b"3", info)
    reused = await channel.submit(b"1", info)  # 1 again, as allowed once its answer is due
    await channel.send_routed(b"", 2, True)  # the batch's last answer ends its stream
    assert batch.ended and not other.ended and not reused.ended
    # Request 1's messages go to the POST that reused the id, and 3's to its own.
    await channel.send_routed(b'{"progress": 1}', 1, False)
    await channel.send_routed(b'{"progress": 3}', 3, False)
    assert (reused.seq, other.seq, batch.seq) == (1, 1, 0)
    await channel.send_routed(b'{"answer": 1}', 1, True)
    assert reused.ended and not other.ended


def _own_stream() -> tuple[Stream, MemoryEventStore, HttpChannel]:
    """A call's stream in a channel whose store is the app's own (`AppSettings.streams`)."""
    settings = AppSettings(replay_window=256, keepalive_interval=None).streams(
        relayed=False, queued=None
    )
    store = settings.own_store
    assert store is not None and settings.store is store
    channel = HttpChannel(settings=settings)
    stream = Stream()
    channel.streams.number(stream, [1])
    return stream, store, channel


async def test_an_answer_taken_whole_is_stored_only_when_a_resumption_needs_it() -> None:
    stream, store, channel = _own_stream()
    assert stream.storing is not None and stream.storing.later is store and stream.id is not None
    await stream.put(b"progress")
    await stream.put(b"answer")
    stream.end()
    assert len(store) == 0  # queued for the connection: not stored yet
    assert list(stream.rest(stream.generation) or ()) == [(1, b"progress"), (2, b"answer")]
    stream.detach()
    assert len(store) == 0  # delivered whole: held by the stream, for a resumption
    found = channel.streams.resumable([f"{stream.id}.1".encode()])
    assert found == (stream, 1)
    channel.streams.resume(stream)  # a GET with Last-Event-ID: the store is told, then replays
    assert await store.replay_after(stream.id, 1) == [(2, b"answer")]
    assert await store.replay_after(stream.id, 0) == [(1, b"progress"), (2, b"answer")]
    await channel.aclose()
    assert len(store) == 0


@pytest.mark.parametrize("primed", [True, False])
@pytest.mark.parametrize(
    "messages", [[b"answer"], [b"progress", b"answer"], [b"line\nbreak"], [b""], []]
)
async def test_a_stream_written_whole_is_its_encoded_events_and_its_connection_is_over(
    primed: bool, messages: list[bytes]
) -> None:
    stream, store, channel = _own_stream()
    stream.primed = primed
    budget = QueuedBytes(1 << 20)
    stream.budget = budget
    for data in messages:
        await stream.put(data)
    assert stream.whole() is None  # not ended: nothing taken
    stream.end()
    assert stream.id is not None and stream.held == sum(map(len, messages))
    events = list(enumerate(messages, 1))
    assert stream.whole() == encode_stream(stream.id, events, priming=primed)
    assert not stream.attached and stream.held == 0
    assert stream.reader is None  # no connection waited on it: it holds no reader part
    # What the stream keeps for a resumption counts in max_queued_bytes (issue 64).
    assert budget.total == stream.replay_held == sum(map(len, messages))
    assert stream.whole() is None  # the connection is over
    assert len(store) == 0  # held by the stream, for a resumption
    if messages:
        channel.streams.resume(stream)
        assert await store.replay_after(stream.id, 0) == events
        assert budget.total == stream.replay_held == store.kept_bytes(stream.id)
    await channel.aclose()
    assert budget.total == 0


async def test_a_stream_hung_up_or_replaced_is_not_written_whole() -> None:
    stream, _, _ = _own_stream()
    stream.primed = True
    await stream.put(b"answer")
    assert stream.hang_up(1000)
    stream.end()
    assert stream.whole() is None
    generation = stream.attach()
    assert stream.whole() == encode_stream(stream.id, [], priming=True)
    assert stream.generation == generation and not stream.attached


async def test_an_answer_never_resumed_costs_the_store_nothing_when_forgotten() -> None:
    stream, store, channel = _own_stream()
    await stream.put(b"answer")
    stream.end()
    assert stream.rest(stream.generation) is not None
    stream.detach()
    await channel.streams.forget(stream)
    assert len(store) == 0 and stream.storing is None
    assert isinstance(channel.streams.resumable([f"{stream.id}.1".encode()]), Refusal)


async def test_what_a_connection_takes_alone_or_leaves_is_stored_in_order() -> None:
    stream, store, _ = _own_stream()
    assert stream.id is not None
    for data in (b"1", b"2", b"3"):
        await stream.put(data)
    assert len(store) == 0
    assert stream.take() == (1, b"1")  # taken alone (a stream pumped as it goes): stored
    assert await store.replay_after(stream.id, 0) == [(1, b"1")]
    # Closed early (SEP-1699): what is queued is stored before what comes after, which no
    # connection reads; the queue still goes out, and is not stored twice.
    assert stream.hang_up(1000, force=True)
    await stream.put(b"4")
    assert [stream.take(), stream.take()] == [(2, b"2"), (3, b"3")]
    events = await store.replay_after(stream.id, 0)
    assert events == [(n, b"%d" % n) for n in (1, 2, 3, 4)]


async def test_what_a_cut_connection_left_queued_is_stored_for_the_resumption() -> None:
    stream, store, _ = _own_stream()
    assert stream.id is not None
    await stream.put(b"1")
    await stream.put(b"2")
    stream.detach()  # the client went with both unread
    await stream.put(b"3")
    assert await store.replay_after(stream.id, 0) == [(1, b"1"), (2, b"2"), (3, b"3")]
    generation = stream.attach()
    await stream.put(b"4")  # queued for the new connection
    stream.attach()  # and that one replaced too: what it left is stored
    assert stream.generation != generation
    events = await store.replay_after(stream.id, 2)
    assert events == [(3, b"3"), (4, b"4")]


def test_an_exchange_starts_as_a_stream_with_no_id_does() -> None:
    # An exchange is a stream first: every field of a stream alike.
    settings = AppSettings(replay_window=256, keepalive_interval=None).streams(
        relayed=False, queued=QueuedBytes()
    )
    channel = HttpChannel(settings=settings)
    exchange, stream = Exchange(channel), Stream(budget=channel.settings.queued)
    for name in Stream.__slots__:
        assert getattr(exchange, name) == getattr(stream, name), name


async def test_a_message_offered_is_queued_as_put_would_unless_it_must_wait_or_be_stored() -> None:
    stream, store, _ = _own_stream()
    budget = stream.budget = QueuedBytes(1 << 20)
    assert stream.offer(b"answer")  # told to the store later: queued at once
    assert not stream.offer(b"more")  # one queued before it: `put` (which may wait)
    await stream.put(b"more")
    assert stream.seq == 2 and stream.held == budget.total == len(b"answermore")
    assert [stream.take(), stream.take()] == [(1, b"answer"), (2, b"more")]
    assert stream.id is not None  # taken alone: stored then, in order
    assert await store.replay_after(stream.id, 0) == [(1, b"answer"), (2, b"more")]
    stored = Stream("s", MemoryEventStore())  # a store told at once: `put`
    assert not stored.offer(b"x") and stored.seq == 0
    stream.detach()
    assert not stream.offer(b"late")  # no connection: `put` stores it
    plain = Exchange()  # no store: queued at once
    assert plain.offer(b"x")
    plain.end()
    assert plain.rest(0) == [(1, b"x")]


async def test_a_last_message_offered_ends_the_stream_and_its_whole_answer_frees_the_budget() -> (
    None
):
    stream, _, channel = _own_stream()
    budget = stream.budget = QueuedBytes(1 << 20)
    waiting = asyncio.get_running_loop().create_task(stream.reading().wait_ready(0, 5))
    await asyncio.sleep(0)
    assert stream.offer(b"answer", True)  # queued, and the stream ended with it
    await asyncio.wait_for(waiting, 1)  # its reader woken, as by `end`
    assert stream.ended and stream.held == budget.total == len(b"answer")
    body = stream.whole()  # taken whole: the connection lets go of it, and of the budget
    assert body is not None and body.endswith(b".1\ndata: answer\n\n")
    assert not stream.attached and stream.held == 0 and not budget.holding
    # ... but what is kept for a resumption counts (issue 64)
    assert budget.total == stream.replay_held == len(b"answer")
    found = channel.streams.resumable([f"{stream.id}.1".encode()])  # resumable, as any answer
    assert found == (stream, 1)
    nothing = Exchange()  # an empty last message (a cancelled request's) only ends it
    assert nothing.offer(b"", True) and nothing.ended and nothing.seq == 0
    assert nothing.rest(0) == () and not Exchange().offer(b"")


async def test_a_call_keeps_its_session_active_until_its_connection_lets_go_of_it() -> None:
    now = [100.0]
    channel = HttpChannel(clock=lambda: now[0])
    calls = []
    for request_id in (1, 2, 3):
        exchange = Exchange(channel)
        channel._current = exchange  # pyright: ignore[reportPrivateUsage]  (as `submit` does)
        channel.body_read(None, [request_id], [])
        calls.append(exchange)
    now[0] = 200.0
    assert channel.idle_since is None  # calls running, their clients holding their answers
    calls[0].end_slow()  # a client too slow for the budget: cut
    calls[1].hang_up(1000, force=True)  # told to come back (a shutdown)
    calls[2].detach()  # its client gone, noticed as `send_sse` notices it
    calls[2].connection_lost()
    assert channel.idle_since == 200.0  # no call keeps it alive from the first cut on
    now[0] = 300.0
    notification = Exchange(channel)
    channel._current = notification  # pyright: ignore[reportPrivateUsage]
    channel.body_read(None, [], [])  # notifications alone: activity at once
    assert notification.ended and channel.idle_since == 300.0
