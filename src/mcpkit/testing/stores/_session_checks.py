"""The behaviour every `mcpkit.stores.sessions.SessionStore` has, and what a
`TouchableSessionStore` and a `RememberingSessionStore` have besides, as checks to inherit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import msgspec

from mcpkit.protocol.terms import Terms
from mcpkit.stores.sessions import (
    RememberingSessionStore,
    SessionRecord,
    SessionStore,
    TouchableSessionStore,
)
from mcpkit.types import ClientCapabilities, Implementation

__all__ = ["RememberingSessionStoreChecks", "SessionStoreChecks", "TouchableSessionStoreChecks"]


def _full_record(session_id: str = "sess-A1b2") -> SessionRecord:
    """A record with every field set away from its default."""
    return SessionRecord(
        id=session_id,
        terms=Terms(
            "2025-06-18",
            msgspec.convert({"roots": {"listChanged": True}}, ClientCapabilities),
            Implementation(name="client", version="2.1"),
        ),
        initialized=True,
        owner='["sub","https://issuer.example","alice"]',
        log_level="error",
        subscriptions=frozenset({"notes://a", "notes://b"}),
        created=1_764_000_000.5,
        last_seen=1_764_000_100.25,
    )


class SessionStoreChecks:
    """Checks any `SessionStore` passes. Subclass it in a test module under a name pytest
    collects (`class TestMySessionStore(SessionStoreChecks)`) and define `make_store`; each
    check is an `async def test_...` method, run by mcpkit's pytest plugin."""

    async def make_store(self) -> SessionStore:
        """A new, empty store for one check. Override it."""
        raise NotImplementedError("define make_store() in your subclass of SessionStoreChecks")

    async def close_store(self, store: SessionStore) -> None:
        """Release what `make_store` took (a connection, a file, keys); by default nothing."""

    @asynccontextmanager
    async def _store(self) -> AsyncGenerator[SessionStore, None]:
        store = await self.make_store()
        try:
            yield store
        finally:
            await self.close_store(store)

    async def test_a_record_round_trips_with_every_field(self) -> None:
        async with self._store() as store:
            record = _full_record()
            await store.put(record)
            assert await store.get(record.id) == record
            bare = SessionRecord(id="bare", created=5.0)
            await store.put(bare)
            assert await store.get("bare") == bare

    async def test_records_are_copies_never_the_callers_object(self) -> None:
        async with self._store() as store:
            record = _full_record()
            await store.put(record)
            record.log_level = "debug"  # the live record changes; the stored one does not
            record.subscriptions = frozenset()
            got = await store.get(record.id)
            assert got is not None and got is not record
            assert got.log_level == "error" and got.subscriptions == {"notes://a", "notes://b"}
            got.log_level = "info"
            again = await store.get(record.id)
            assert again is not None and again is not got and again.log_level == "error"

    async def test_put_replaces_the_record_of_its_id(self) -> None:
        async with self._store() as store:
            record = _full_record()
            await store.put(record)
            newer = msgspec.structs.replace(record, log_level="warning", last_seen=1_764_000_200.0)
            await store.put(newer)
            assert await store.get(record.id) == newer

    async def test_delete_removes_a_record_and_unknown_ids_are_nothing(self) -> None:
        async with self._store() as store:
            assert await store.get("never-written") is None
            await store.delete("never-written")  # no error
            kept, gone = _full_record("kept"), _full_record("gone")
            await store.put(kept)
            await store.put(gone)
            await store.delete("gone")
            await store.delete("gone")  # twice is harmless
            assert await store.get("gone") is None
            assert await store.get("kept") == kept

    async def test_an_id_names_exactly_one_record(self) -> None:
        # A store keyed by patterns (Redis SCAN/KEYS, SQL LIKE) must not read these as ones.
        async with self._store() as store:
            for session_id in ("abc", "abc:1", "ab_"):
                await store.put(_full_record(session_id))
            for other in ("ab*", "ab?", "ab%", "ABC", "abc:", "ab", "abc "):
                assert await store.get(other) is None, other
                await store.delete(other)
            for session_id in ("abc", "abc:1", "ab_"):
                assert await store.get(session_id) == _full_record(session_id)

    async def test_expire_drops_the_records_last_seen_before_a_time(self) -> None:
        async with self._store() as store:
            seen = msgspec.structs.replace(_full_record("seen"), created=10.0, last_seen=500.0)
            never_seen = SessionRecord(id="never-seen", created=200.0)  # counts from created
            at_the_bound = SessionRecord(id="at-the-bound", created=10.0, last_seen=300.0)
            old = SessionRecord(id="old", created=10.0, last_seen=20.0)
            for record in (seen, never_seen, at_the_bound, old):
                await store.put(record)
            assert sorted(await store.expire(before=300.0)) == ["never-seen", "old"]
            assert await store.get("old") is None and await store.get("never-seen") is None
            assert await store.get("seen") == seen
            assert await store.get("at-the-bound") == at_the_bound  # not before: kept
            assert await store.expire(before=300.0) == []
            # Written again with a later last_seen, a record is no longer due.
            await store.put(msgspec.structs.replace(at_the_bound, last_seen=900.0))
            assert sorted(await store.expire(before=600.0)) == ["seen"]
            assert await store.get("at-the-bound") is not None

    async def test_many_sessions_written_and_read_at_once(self) -> None:
        async with self._store() as store:
            records = [_full_record(f"s{i}") for i in range(50)]
            await asyncio.gather(*(store.put(record) for record in records))
            got = await asyncio.gather(*(store.get(record.id) for record in records))
            assert got == records
            await asyncio.gather(*(store.delete(record.id) for record in records[::2]))
            left = await asyncio.gather(*(store.get(record.id) for record in records))
            assert left == [None if i % 2 == 0 else r for i, r in enumerate(records)]


class TouchableSessionStoreChecks(SessionStoreChecks):
    """The checks of `SessionStoreChecks`, and those of `touch`, for a
    `TouchableSessionStore` (its `make_store` answers one)."""

    @asynccontextmanager
    async def _touchable(self) -> AsyncGenerator[TouchableSessionStore, None]:
        async with self._store() as store:
            assert isinstance(store, TouchableSessionStore)
            yield store

    async def test_touch_keeps_a_record_from_expiring_and_writes_nothing_of_it(self) -> None:
        async with self._touchable() as store:
            record = msgspec.structs.replace(_full_record(), created=10.0, last_seen=500.0)
            await store.put(record)
            assert await store.touch(record.id, 900.0) == record  # as stored
            assert await store.get(record.id) == record  # its last_seen as put
            assert await store.expire(before=600.0) == []
            assert await store.expire(before=901.0) == [record.id]

    async def test_touch_never_makes_a_record_due_sooner(self) -> None:
        async with self._touchable() as store:
            record = SessionRecord(id="late", created=10.0, last_seen=900.0)
            await store.put(record)
            assert await store.touch("late", 500.0) == record
            assert await store.expire(before=600.0) == []
            assert await store.get("late") == record

    async def test_touch_answers_what_another_writer_wrote_and_leaves_it(self) -> None:
        # The race a read and a write back leave open: the copy read the record, another
        # process wrote a change, the copy keeps the record alive. The change stays.
        async with self._touchable() as store:
            record = _full_record()
            await store.put(record)
            copy = await store.get(record.id)
            assert copy is not None
            elsewhere = msgspec.structs.replace(record, log_level="debug")
            await store.put(elsewhere)
            assert await store.touch(record.id, record.last_seen + 60) == elsewhere
            assert await store.get(record.id) == elsewhere

    async def test_touch_of_no_record_answers_none_and_writes_nothing(self) -> None:
        async with self._touchable() as store:
            assert await store.touch("never-written", 5.0) is None
            assert await store.get("never-written") is None
            await store.put(_full_record("gone"))
            await store.delete("gone")
            assert await store.touch("gone", 5.0) is None
            assert await store.get("gone") is None
            assert await store.expire(before=float("inf")) == []


class RememberingSessionStoreChecks(TouchableSessionStoreChecks):
    """The checks of `TouchableSessionStoreChecks`, and those of the marks a
    `RememberingSessionStore` keeps of the sessions it deleted (its `make_store` answers
    one)."""

    @asynccontextmanager
    async def _remembering(self) -> AsyncGenerator[RememberingSessionStore, None]:
        async with self._store() as store:
            assert isinstance(store, RememberingSessionStore)
            yield store

    async def test_a_deleted_session_is_ended_and_a_lost_or_live_one_is_not(self) -> None:
        async with self._remembering() as store:
            for session_id in ("gone", "abc", "abc:1"):
                await store.put(_full_record(session_id))
            await store.delete("gone")
            await store.delete("abc")
            assert await store.ended("gone") and await store.ended("abc")
            assert await store.get("gone") is None
            assert await store.touch("gone", 5.0) is None
            # Never written (or lost, as a store that lost its data loses its marks too),
            # still there, or one whose id is like an ended one's: none of them ended.
            for other in ("never-written", "abc:1", "ab*", "ABC", "abc:", "ab", "abc "):
                assert not await store.ended(other), other
            assert await store.get("abc:1") == _full_record("abc:1")

    async def test_an_ended_session_is_never_written_again(self) -> None:
        # A copy of the session in another process, which has not heard of the delete yet,
        # writes its record: the session must not live on in the store.
        async with self._remembering() as store:
            record = _full_record()
            await store.put(record)
            await store.delete(record.id)
            await store.put(msgspec.structs.replace(record, last_seen=time.time()))
            assert await store.get(record.id) is None
            assert await store.touch(record.id, time.time()) is None
            assert await store.ended(record.id)
            assert await store.expire(before=float("inf")) == []  # no record to expire

    async def test_a_mark_is_kept_as_long_as_the_records_last_seen_when_it_was_left(
        self,
    ) -> None:
        async with self._remembering() as store:
            await store.put(_full_record("gone"))
            left = time.time()
            await store.delete("gone")
            # Records last seen when the mark was left are all kept by this expire: the mark too.
            assert await store.expire(before=left - 1.0) == []
            assert await store.ended("gone")
            await store.put(_full_record("gone"))
            assert await store.get("gone") is None
