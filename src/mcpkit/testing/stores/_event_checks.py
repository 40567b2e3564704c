"""The behaviour every `mcpkit.stores.event_log.EventStore` has, as checks to inherit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from mcpkit.stores.event_log import EventStore

__all__ = ["EventStoreChecks"]

#: The window of a check's store unless it is about the window.
_ROOMY = 256


def _message(stream_id: str, seq: int) -> bytes:
    return b'{"jsonrpc":"2.0","method":"m","params":{"s":"%s","n":%d}}' % (stream_id.encode(), seq)


class EventStoreChecks:
    """Checks any `EventStore` passes. Subclass it in a test module under a name pytest
    collects (`class TestMyEventStore(EventStoreChecks)`) and define `make_store`; each
    check is an `async def test_...` method, run by mcpkit's pytest plugin."""

    async def make_store(self, window: int) -> EventStore:
        """A new, empty store keeping the last `window` events of each stream (what
        `McpHttpApp(replay_window=...)` asks of the default store). Override it."""
        raise NotImplementedError("define make_store() in your subclass of EventStoreChecks")

    async def close_store(self, store: EventStore) -> None:
        """Release what `make_store` took (a connection, a file, keys); by default nothing."""

    @asynccontextmanager
    async def _store(self, window: int = _ROOMY) -> AsyncGenerator[EventStore, None]:
        store = await self.make_store(window)
        try:
            yield store
        finally:
            await self.close_store(store)

    async def test_a_replay_is_what_followed_an_event_in_order(self) -> None:
        async with self._store() as store:
            for seq in range(1, 6):
                await store.append("s_1", seq, _message("s_1", seq))
            every = [(seq, _message("s_1", seq)) for seq in range(1, 6)]
            assert await store.replay_after("s_1", 0) == every
            assert await store.replay_after("s_1", 2) == every[2:]
            assert await store.replay_after("s_1", 4) == every[4:]
            assert await store.replay_after("s_1", 5) == []

    async def test_messages_come_back_as_the_very_bytes_appended(self) -> None:
        odd = [b"\x00\xff\xfe not UTF-8", "é ✓".encode(), b"x" * 100_000, b"\r\n\r\ndata: x\n\n"]
        async with self._store() as store:
            for seq, data in enumerate(odd, 1):
                await store.append("s_1", seq, data)
            replay = await store.replay_after("s_1", 0)
            assert replay is not None and replay == list(enumerate(odd, 1))
            assert all(type(data) is bytes for _, data in replay)

    async def test_a_replay_is_a_copy(self) -> None:
        async with self._store() as store:
            await store.append("s_1", 1, b"one")
            replay = await store.replay_after("s_1", 0)
            assert replay is not None
            replay.append((2, b"two"))
            replay.clear()
            assert await store.replay_after("s_1", 0) == [(1, b"one")]

    async def test_streams_are_kept_apart(self) -> None:
        # Ids that prefix one another, and characters a key pattern (Redis, SQL LIKE) would
        # read as wildcards, name one stream each.
        ids = ["a_1", "a_10", "a_1%", "a_*", "b_1"]
        async with self._store() as store:
            for seq in range(1, 4):
                for stream_id in ids:
                    await store.append(stream_id, seq, _message(stream_id, seq))
            for stream_id in ids:
                expected = [(seq, _message(stream_id, seq)) for seq in range(1, 4)]
                assert await store.replay_after(stream_id, 0) == expected, stream_id
            await store.forget("a_1")
            assert await store.replay_after("a_1", 1) is None
            assert await store.replay_after("a_10", 1) == [(n, _message("a_10", n)) for n in (2, 3)]
            assert await store.replay_after("a_*", 2) == [(3, _message("a_*", 3))]

    async def test_unknown_streams_replay_nothing_after_0_and_refuse_anything_else(self) -> None:
        async with self._store() as store:
            await store.append("known_1", 1, b"m")
            # A stream nothing was appended to yet (the client has only its priming event).
            assert await store.replay_after("unknown_1", 0) == []
            assert await store.replay_after("unknown_1", 1) is None
            assert await store.replay_after("known_", 0) == []
            await store.forget("unknown_1")  # no error

    async def test_a_forgotten_stream_replays_nothing(self) -> None:
        async with self._store() as store:
            for seq in range(1, 4):
                await store.append("s_1", seq, b"m")
            await store.forget("s_1")
            await store.forget("s_1")  # twice is harmless
            assert await store.replay_after("s_1", 0) == []
            assert await store.replay_after("s_1", 2) is None

    async def test_the_window_keeps_the_last_events_and_a_replay_never_has_a_hole(self) -> None:
        async with self._store(window=3) as store:
            for seq in range(1, 3):
                await store.append("s_1", seq, _message("s_1", seq))
            assert [n for n, _ in await store.replay_after("s_1", 0) or []] == [1, 2]
            for seq in range(3, 8):
                await store.append("s_1", seq, _message("s_1", seq))
            last = [(seq, _message("s_1", seq)) for seq in (5, 6, 7)]
            assert await store.replay_after("s_1", 4) == last
            assert await store.replay_after("s_1", 6) == last[2:]
            # Event 4 (or more) is gone: refused, rather than replayed from 5 with a hole.
            assert await store.replay_after("s_1", 3) is None
            assert await store.replay_after("s_1", 0) is None
            # Each stream has a window of its own.
            await store.append("s_2", 1, b"m")
            assert await store.replay_after("s_2", 0) == [(1, b"m")]
            assert await store.replay_after("s_1", 4) == last

    async def test_a_window_of_one_keeps_the_last_event(self) -> None:
        async with self._store(window=1) as store:
            for seq in range(1, 4):
                await store.append("s_1", seq, b"%d" % seq)
            assert await store.replay_after("s_1", 2) == [(3, b"3")]
            assert await store.replay_after("s_1", 1) is None

    async def test_appends_started_together_keep_each_streams_order(self) -> None:
        # A stream's appends are started in order but may overlap: several handlers of one
        # session write at once, and nobody waits for the store before sending on.
        streams, n = [f"s_{i}" for i in range(4)], 60
        async with self._store() as store:
            appends = [
                store.append(stream_id, seq, _message(stream_id, seq))
                for seq in range(1, n + 1)
                for stream_id in streams
            ]
            await asyncio.gather(*appends)
            for stream_id in streams:
                expected = [(seq, _message(stream_id, seq)) for seq in range(1, n + 1)]
                assert await store.replay_after(stream_id, 0) == expected, stream_id
