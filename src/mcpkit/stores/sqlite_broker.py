"""`SqliteBroker`: the processes of one host sharing a SQLite file carry each other's news and
answers through a small table of messages, read every `interval` seconds.

What `RedisBroker` carries over pub/sub, this carries in `mcpkit_messages`: changes
(list_changed, resources/updated, a session record's change) and cancellations for every
other process, and a client's answer to a request for the one process whose request-id
prefix it names (`mcpkit.protocol.ids`). SQLite has no notifications between processes, so
each broker reads the rows after the last one it saw on a thread of its own, with a
connection of its own (in WAL mode a read never waits for a writer, nor makes one wait):
an idle read of an empty range costs microseconds, and `interval` (50 ms) bounds how late
a message arrives. Storage is bounded: an answer's row is deleted by the process it was
for once read, and every row goes `keep` seconds after it was written (deleted by the next
write), read or not.

Each broker also keeps a row in `mcpkit_brokers`, renewed while it runs: a process with no
peer on the file writes no changes or cancellations (no one would read them), so one
process serving from SQLite pays nothing for this.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

import msgspec

from mcpkit.protocol.events import StrayResponse
from mcpkit.protocol.ids import process_request_ids, set_request_id_prefix
from mcpkit.stores.broker import (
    Broker,
    CancelHandler,
    Change,
    ChangeHandler,
    ResponseHandler,
)

if TYPE_CHECKING:
    from mcpkit.stores.sqlite_database import SqliteDatabase

__all__ = ["SqliteBroker"]

logger = logging.getLogger("mcpkit.stores.sqlite")


_CHANGE: Final = "n"
_RESPONSE: Final = "r"
_CANCEL: Final = "c"
#: Seconds a broker's row in `mcpkit_brokers` lasts unrenewed; renewed every quarter of it.
_PRESENCE: Final = 10.0
#: The longest request-id prefix a forwarded response may name (ours are 16 hex digits).
_MAX_PREFIX: Final = 64
_BUSY_TIMEOUT: Final = 30.0
_change_decoder = msgspec.json.Decoder(Change)
_cancel_decoder = msgspec.json.Decoder(tuple[str, int | str, str | None])
_Row = tuple[str, str, bytes]  # kind, target ("" for every process), body
_Stored = tuple[str, str, str, bytes, float]  # origin, target, kind, body, written at
_H = TypeVar("_H")


class SqliteBroker:
    """`Broker` between the processes sharing `db`'s file (not ":memory:"). `publish` calls
    this process's handlers at once (as `MemoryBroker` does) and queues the change for the
    others; a task writes what is queued, in one transaction of the database's thread. A
    thread of the broker reads what others wrote every `interval` seconds and hands it to
    the event loop: changes to `subscribe`'s handlers, answers to `subscribe_responses`'s,
    cancellations to `subscribe_cancels`'s (the interface `RedisBroker` offers).

    Rows live `keep` seconds at most. It starts on the first `publish` or `subscribe` made
    in a running event loop, or at `start()`, which returns once the other brokers on the
    file will have seen it. `request_id_prefix` as for `RedisBroker`."""

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        interval: float = 0.05,
        keep: float = 10.0,
        request_id_prefix: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if db.path == ":memory:":
            raise ValueError("a SqliteBroker needs a file other processes can open")
        if not 0 < interval < keep:
            raise ValueError("interval and keep are seconds, interval below keep")
        self.db = db
        # Resolved now: the reader connects later, and the working directory may have changed.
        self._path = os.path.abspath(db.path)
        self.interval = interval
        self.keep = keep
        self._clock = clock
        self._id = secrets.token_hex(8)  # this broker, as the origin of its rows
        ids = process_request_ids()
        if request_id_prefix is None:
            if not ids.prefix:  # our requests' ids name this process from now on
                set_request_id_prefix(secrets.token_hex(8))
            request_id_prefix = ids.prefix
        self._prefix = request_id_prefix
        self._handlers: list[ChangeHandler] = []
        self._response_handlers: list[ResponseHandler] = []
        self._cancel_handlers: list[CancelHandler] = []
        self._outbox: list[_Row] = []
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen = threading.Event()  # the reader registered and read once
        self._peers = 0  # other brokers on the file, as the reader last saw
        self._closed = False
        #: Responses forwarded here and dropped, since the broker was made.
        self.stray_responses = 0

    async def start(self, timeout: float | None = None) -> bool:
        """Start reading; whether this broker registered within `timeout` seconds. Then it
        waits two intervals more, so that every other broker's next read counts it among its
        peers before this process serves anything they should tell it."""
        self._start()
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, self._seen.wait, timeout):
            return False
        await asyncio.sleep(2 * self.interval)
        return True

    def publish(self, change: Change) -> None:
        self._deliver(change)
        if self._peers:
            self._queue(_CHANGE, "", msgspec.json.encode(change))

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        return _add(self._handlers, handler, self._start)

    def subscribe_responses(self, handler: ResponseHandler) -> Callable[[], None]:
        """Call `handler(session_id, response)` with each response another process forwards
        here; returns the function that stops it."""
        return _add(self._response_handlers, handler, self._start)

    def subscribe_cancels(self, handler: CancelHandler) -> Callable[[], None]:
        """Call `handler(session_id, request_id, reason)` with each `notifications/cancelled`
        another process received for a request it does not serve; returns the function that
        stops it."""
        return _add(self._cancel_handlers, handler, self._start)

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        """Send `response` to the process whose prefix its id carries; one that names this
        process, no process, or nothing a process is named is counted in `stray_responses`
        and dropped. The receiving process hands it to `session_id` alone."""
        prefix = _prefix_of(response.request_id)
        if prefix is None or prefix == self._prefix or "\n" in session_id or self._closed:
            self.stray_responses += 1
            logger.debug(
                "session %s: dropped a response to request %r, which nothing awaits",
                session_id,
                response.request_id,
            )
            return
        self._queue(_RESPONSE, prefix, session_id.encode() + b"\n" + response.data)

    def forward_cancel(self, session_id: str, request_id: int | str, reason: str | None) -> None:
        """The client of `session_id` cancelled `request_id`, which this process does not
        serve: told to every other process, whose copy of the session stops it if it runs
        there."""
        if self._peers:
            self._queue(_CANCEL, "", msgspec.json.encode((session_id, request_id, reason)))

    async def aclose(self) -> None:
        """Write what is queued, stop reading, and leave `mcpkit_brokers`."""
        self._closed = True
        writer = self._writer
        if writer is not None:
            await writer
        reader, self._reader = self._reader, None
        if reader is not None:
            self._stop.set()
            await asyncio.get_running_loop().run_in_executor(None, reader.join)

    # ------------------------------------------------------------------ writing

    def _queue(self, kind: str, target: str, body: bytes) -> None:
        if self._closed:
            return
        self._outbox.append((kind, target, body))
        self._start()
        if self._writer is None and self._loop is not None:
            self._writer = self._loop.create_task(self._write(), name="mcpkit sqlite broker")

    async def _write(self) -> None:
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                rows = [
                    (self._id, target, kind, body, self._clock()) for kind, target, body in batch
                ]
                try:
                    await self.db.run(functools.partial(_insert, rows, self.keep))
                except (sqlite3.Error, RuntimeError):  # locked past its timeout, or closed
                    logger.warning("could not pass %d messages on", len(batch), exc_info=True)
        finally:
            self._writer = None

    # ------------------------------------------------------------------ reading

    def _start(self) -> None:
        if self._closed or self._reader is not None:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # made and used before the loop runs: started later
            return
        self._reader = threading.Thread(target=self._read, name="mcpkit-sqlite-broker", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """On the reader thread: every `interval`, renew this broker's row when due, count
        its peers, and hand the loop the rows for this process."""
        try:
            c = sqlite3.connect(self._path, isolation_level=None, timeout=_BUSY_TIMEOUT)
        except sqlite3.Error:  # its folder went: nothing to read any more
            logger.warning("the broker cannot open %s", self._path, exc_info=True)
            return
        try:
            last: int | None = None  # the seq of the last row read
            renewed = float("-inf")
            failures = 0
            # A loop closed without `aclose` (a test, an app never shut down) has nobody to
            # hand rows to: the thread ends rather than read for nothing.
            while not self._stop.is_set() and not (self._loop is None or self._loop.is_closed()):
                try:
                    if last is None:  # from now on: what was written before is not ours
                        found = c.execute("SELECT coalesce(max(seq), 0) FROM mcpkit_messages")
                        last = int(found.fetchone()[0])
                    now = self._clock()
                    if now - renewed >= _PRESENCE / 4:
                        self._register(c, now)
                        renewed = now
                    last = self._take(c, last, now)
                    self._seen.set()
                except sqlite3.Error:
                    failures += 1
                    if failures & (failures - 1) == 0:  # the 1st, 2nd, 4th...: no log flood
                        logger.warning("could not read the broker's table", exc_info=True)
                self._stop.wait(self.interval)
        finally:
            with contextlib.suppress(sqlite3.Error):
                c.execute("DELETE FROM mcpkit_brokers WHERE id = ?", (self._id,))
            c.close()

    def _register(self, c: sqlite3.Connection, now: float) -> None:
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("DELETE FROM mcpkit_brokers WHERE until < ?", (now,))
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_brokers (id, until) VALUES (?, ?)",
                (self._id, now + _PRESENCE),
            )
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def _take(self, c: sqlite3.Connection, last: int, now: float) -> int:
        """Count the peers, and pass on the rows after `last` meant for this process; the
        last row's seq."""
        peers = c.execute(
            "SELECT count(*) FROM mcpkit_brokers WHERE id != ? AND until >= ?", (self._id, now)
        ).fetchone()
        self._peers = int(peers[0])
        rows = c.execute(
            "SELECT seq, origin, target, kind, body FROM mcpkit_messages WHERE seq > ? "
            "ORDER BY seq",
            (last,),
        ).fetchall()
        if not rows:
            return last
        ours = [
            (str(kind), str(target), bytes(body))
            for _, origin, target, kind, body in rows
            if origin != self._id and target in ("", self._prefix)
        ]
        last = int(rows[-1][0])
        if any(target == self._prefix for _, _, target, _, _ in rows):
            # An answer is for this process alone: its row goes once read.
            c.execute(
                "DELETE FROM mcpkit_messages WHERE target = ? AND seq <= ?", (self._prefix, last)
            )
        if ours and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody listens
                self._loop.call_soon_threadsafe(self._received, ours)
        return last

    def _received(self, rows: list[_Row]) -> None:
        """On the loop: each row to the handlers of its kind."""
        for kind, _, body in rows:
            try:
                if kind == _CHANGE:
                    self._deliver(_change_decoder.decode(body))
                elif kind == _RESPONSE:
                    session, _, response = body.partition(b"\n")
                    for handler in tuple(self._response_handlers):
                        handler(session.decode("utf-8", "replace"), response)
                elif kind == _CANCEL:
                    session_id, request_id, reason = _cancel_decoder.decode(body)
                    for cancel in tuple(self._cancel_handlers):
                        cancel(session_id, request_id, reason)
            except Exception:  # a bad row or handler must not keep the others from theirs
                logger.exception("a message of kind %r from another process failed", kind)

    def _deliver(self, change: Change) -> None:
        for handler in tuple(self._handlers):
            try:
                handler(change)
            except Exception:  # one broken handler must not keep the change from the rest
                logger.exception("a handler of %s failed", change.method)


def _insert(
    rows: list[tuple[str, str, str, bytes, float]], keep: float, c: sqlite3.Connection
) -> None:
    """Write `rows` (origin, target, kind, body, time), and delete those older than `keep`
    seconds: a row is read within a few intervals, or its reader is gone."""
    c.execute("DELETE FROM mcpkit_messages WHERE at < ?", (rows[0][4] - keep,))
    c.executemany(
        "INSERT INTO mcpkit_messages (origin, target, kind, body, at) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def _add(handlers: list[_H], handler: _H, start: Callable[[], None]) -> Callable[[], None]:
    handlers.append(handler)
    start()

    def remove() -> None:
        if handler in handlers:
            handlers.remove(handler)

    return remove


def _prefix_of(request_id: int | str) -> str | None:
    """The process prefix `request_id` names (`<prefix>-<number>`), or None when it names
    none a process could have (an int, no number, too long, not printable ASCII)."""
    if not isinstance(request_id, str):
        return None
    prefix, _, count = request_id.rpartition("-")
    if (
        not prefix
        or not (count.isascii() and count.isdigit())
        or len(prefix) > _MAX_PREFIX
        or not (prefix.isascii() and prefix.isprintable())
    ):
        return None
    return prefix


if TYPE_CHECKING:  # mypy and pyright prove the broker implements the interface
    _implements: type[Broker] = SqliteBroker
