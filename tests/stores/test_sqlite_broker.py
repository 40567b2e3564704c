"""`SqliteBroker`: two brokers on one file, as two processes of one host would hold them,
carry changes, answers and cancellations to each other, and leave no rows behind."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcpkit.protocol.events import StrayResponse
from mcpkit.stores.broker import Change, SharedBroker
from mcpkit.stores.sqlite import SqliteDatabase
from mcpkit.stores.sqlite_broker import SqliteBroker

WAIT = 10.0  # seconds: a bound on hangs, never a measurement


@contextlib.asynccontextmanager
async def brokers(
    tmp_path: Path, path: Path | None = None
) -> AsyncIterator[tuple[SqliteBroker, SqliteBroker]]:
    """Two started brokers on one file (`path`, by default state.db in `tmp_path`), as two
    processes would hold them."""
    path = tmp_path / "state.db" if path is None else path
    dbs = [SqliteDatabase(path), SqliteDatabase(path)]
    brokers = [SqliteBroker(db, request_id_prefix=f"p{n}") for n, db in enumerate(dbs)]
    async with asyncio.timeout(WAIT):
        for broker in brokers:
            assert await broker.start(timeout=WAIT)
    try:
        yield brokers[0], brokers[1]
    finally:
        for broker in brokers:
            await broker.aclose()
        for db in dbs:
            await db.aclose()


def _rows(path: str) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("SELECT count(*) FROM mcpkit_messages").fetchone()[0])


async def test_a_change_reaches_the_other_broker_once(tmp_path: Path) -> None:
    async with brokers(tmp_path) as (a, b):
        assert isinstance(a, SharedBroker)  # what a server tells apart when it takes it
        heard_a: asyncio.Queue[Change] = asyncio.Queue()
        heard_b: asyncio.Queue[Change] = asyncio.Queue()
        a.subscribe(heard_a.put_nowait)
        b.subscribe(heard_b.put_nowait)
        change = Change("notifications/resources/updated", "file:///x")
        a.publish(change)
        async with asyncio.timeout(WAIT):
            assert await heard_b.get() == change
        assert heard_a.get_nowait() == change  # at once, and only once
        b.publish(Change("notifications/tools/list_changed"))
        async with asyncio.timeout(WAIT):
            assert (await heard_a.get()).method == "notifications/tools/list_changed"
        assert heard_a.empty()


async def test_a_relative_path_is_the_one_of_when_the_database_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers connect once started: by then the working directory may be another."""
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    path = Path("state.db")
    dbs = [SqliteDatabase(path), SqliteDatabase(path)]
    a, b = (SqliteBroker(db, request_id_prefix=f"p{n}") for n, db in enumerate(dbs))
    monkeypatch.chdir(tmp_path / "elsewhere")
    heard: asyncio.Queue[Change] = asyncio.Queue()
    b.subscribe(heard.put_nowait)
    try:
        async with asyncio.timeout(WAIT):
            assert await a.start(timeout=WAIT)
            assert await b.start(timeout=WAIT)
            a.publish(Change("notifications/tools/list_changed"))
            assert (await heard.get()).method == "notifications/tools/list_changed"
    finally:
        for closing in (a, b, *dbs):
            await closing.aclose()
    assert not (tmp_path / "elsewhere" / "state.db").exists()


async def test_an_answer_reaches_the_process_its_id_names_and_its_row_goes(tmp_path: Path) -> None:
    async with brokers(tmp_path) as (a, b):
        answers: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        b.subscribe_responses(lambda sid, data: answers.put_nowait((sid, data)))
        data = b'{"jsonrpc":"2.0","id":"p1-7","result":{}}'
        a.forward_response("s1", StrayResponse(request_id="p1-7", data=data))
        async with asyncio.timeout(WAIT):
            assert await answers.get() == ("s1", data)
        for _ in range(int(WAIT / 0.05)):  # bounded: the reader deletes the row after handing it on
            if _rows(b.db.path) == 0:
                break
            await asyncio.sleep(0.05)
        assert _rows(b.db.path) == 0
        for stray in ("p0-1", 3, "no-prefix-x"):  # its own, an int, no number: dropped
            a.forward_response("s1", StrayResponse(request_id=stray, data=b"{}"))
        assert a.stray_responses == 3


async def test_a_cancellation_reaches_the_other_broker(tmp_path: Path) -> None:
    async with brokers(tmp_path) as (a, b):
        cancels: asyncio.Queue[tuple[str, int | str, str | None]] = asyncio.Queue()
        b.subscribe_cancels(lambda sid, rid, reason: cancels.put_nowait((sid, rid, reason)))
        a.forward_cancel("s1", 4, "enough")
        async with asyncio.timeout(WAIT):
            assert await cancels.get() == ("s1", 4, "enough")


async def test_a_broker_alone_on_its_file_writes_no_news(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "alone.db")
    broker = SqliteBroker(db, request_id_prefix="p0")
    heard: list[Change] = []
    broker.subscribe(heard.append)
    try:
        async with asyncio.timeout(WAIT):
            assert await broker.start(timeout=WAIT)
        broker.publish(Change("notifications/tools/list_changed"))
        broker.forward_cancel("s1", 1, None)
        assert len(heard) == 1  # its own process hears it
    finally:
        await broker.aclose()
        await db.aclose()
    assert _rows(db.path) == 0


async def test_old_rows_go_with_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    dbs = [SqliteDatabase(path), SqliteDatabase(path)]
    a = SqliteBroker(dbs[0], request_id_prefix="p0", keep=5.0, clock=lambda: 1000.0)
    b = SqliteBroker(dbs[1], request_id_prefix="p1", keep=5.0, clock=lambda: 1060.0)
    try:
        a.forward_response("s", StrayResponse(request_id="gone-1", data=b"{}"))  # no reader
        await a.aclose()  # writes what is queued
        assert _rows(str(path)) == 1
        b.forward_response("s", StrayResponse(request_id="gone-2", data=b"{}"))  # a minute on
        await b.aclose()
        assert _rows(str(path)) == 1  # the old one went; the new one stays until it is old
    finally:
        for db in dbs:
            await db.aclose()


def test_the_reader_ends_with_its_event_loop(tmp_path: Path) -> None:
    """A broker whose loop closed without `aclose` leaves no thread reading for nothing."""
    db = SqliteDatabase(tmp_path / "state.db")
    broker = SqliteBroker(db, request_id_prefix="p0")

    async def serve_then_forget() -> None:
        assert await broker.start(timeout=WAIT)

    asyncio.run(serve_then_forget())
    readers = [t for t in threading.enumerate() if t.name == "mcpkit-sqlite-broker"]
    for reader in readers:
        reader.join(WAIT)  # bounded; it looks at its loop every interval
    assert not any(reader.is_alive() for reader in readers)
    asyncio.run(db.aclose())
