"""Where the messages of SSE streams are kept so that a client that lost its connection can
have them again (spec: basic/transports, "Resumability and Redelivery"; SEP-1699): the
`EventStore` interface, and `MemoryEventStore`, its in-process, bounded implementation.

A stream numbers its messages 1, 2, 3... (0 is the priming event, which carries no message
and is never stored); the HTTP transport (`mcpkit.transports.http.sse_stream`) names each
event `<stream id>.<n>`, so a `Last-Event-ID` names the one stream it resumes and the last
message the client has. A store keeps the last events of each stream within a window; a
replay that would need an event the window has dropped is refused rather than sent with a
hole in it.
"""

from __future__ import annotations

from typing import Final, Protocol

__all__ = ["DEFAULT_REPLAY_BYTES", "DEFAULT_REPLAY_EVENTS", "EventStore", "MemoryEventStore"]

#: Events kept per stream for replay: a call's progress rarely comes near it.
DEFAULT_REPLAY_EVENTS: Final = 256
#: Bytes of messages kept per stream for replay.
DEFAULT_REPLAY_BYTES: Final = 1024 * 1024


class EventStore(Protocol):
    """The messages of SSE streams, kept for replay. Every operation is async: a shared store
    (SQLite, Redis) may be a network away. `mcpkit.testing.stores.EventStoreChecks` is the
    behaviour every implementation must have.

    `append(stream_id, seq, data)` is told each message of a stream with its sequence number,
    1 first, one more each time; appends to one stream are started in that order (though the
    caller does not wait for one to finish before it starts the next: they may overlap), and
    the store keeps them in it. `replay_after(stream_id, seq)` answers every kept message of
    that stream after `seq`, in order, or None when some of them are no longer kept (the
    client must be refused: a replay with a hole would lose messages silently); a stream
    nothing was appended to (or one forgotten) replays `[]` after 0 and None after anything
    else. `forget(stream_id)` drops a stream's messages (an unknown stream is no error).
    """

    async def append(self, stream_id: str, seq: int, data: bytes) -> None: ...

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None: ...

    async def forget(self, stream_id: str) -> None: ...


class _Log(list[tuple[int, bytes]]):
    """One stream's kept events, oldest first (a list: a deque costs 600 bytes even empty,
    and a list of its own would be one more object per stream); `first` is the number of the
    oldest one still kept (or, when none is, of the next one to come), `size` the bytes of
    their messages. Made with no `__init__` of its own, so a new stream's log costs no
    Python call: the one who makes it sets both."""

    __slots__ = ("first", "size")

    first: int
    size: int


class MemoryEventStore:
    """Events in a dict of per-stream logs, each at most `max_events` events and `max_bytes`
    bytes of messages (the oldest go first): the replay window. The bytes kept are the very
    objects the stream sends, so a live stream's events cost no copy (bytes are immutable:
    sharing them is safe). No operation waits for anything, so none ever suspends the task
    that calls it."""

    __slots__ = ("_logs", "max_bytes", "max_events")

    def __init__(
        self, *, max_events: int = DEFAULT_REPLAY_EVENTS, max_bytes: int = DEFAULT_REPLAY_BYTES
    ) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("an event store's replay window must hold at least 1 event and byte")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._logs: dict[str, _Log] = {}

    async def append(self, stream_id: str, seq: int, data: bytes) -> None:
        self.keep(stream_id, seq, data)

    def keep(self, stream_id: str, seq: int, data: bytes) -> int:
        """`append`, as a plain call: a caller that knows its store is this one needs no
        coroutine (the streams of `transports.http` store every message they send). The bytes
        of that stream's messages kept now (`kept_bytes`), for the caller's accounting."""
        events = self._logs.get(stream_id)
        if events is None:
            events = self._logs[stream_id] = _Log()
            events.size = 0
        events.append((seq, data))
        events.size = size = events.size + len(data)
        if len(events) > self.max_events or size > self.max_bytes:
            cut = 0  # how many of the oldest go; one slice deletion for them all
            while cut < len(events) and (
                len(events) - cut > self.max_events or events.size > self.max_bytes
            ):
                events.size -= len(events[cut][1])
                cut += 1
            del events[:cut]
            events.first = events[0][0] if events else seq + 1
        elif len(events) == 1:  # (else the oldest kept is as it was)
            events.first = seq
        return events.size

    def kept_bytes(self, stream_id: str) -> int:
        """The bytes of `stream_id`'s messages kept now."""
        log = self._logs.get(stream_id)
        return 0 if log is None else log.size

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None:
        log = self._logs.get(stream_id)
        if log is None:
            return [] if seq == 0 else None  # nothing stored yet, or all of it forgotten
        if seq + 1 < log.first:
            return None  # the window has dropped some of what the client missed
        return [event for event in log if event[0] > seq]

    async def forget(self, stream_id: str) -> None:
        self.drop(stream_id)

    def drop(self, stream_id: str) -> None:
        """`forget`, as a plain call (see `keep`)."""
        self._logs.pop(stream_id, None)

    def __len__(self) -> int:
        """How many streams have events kept (for tests and metrics)."""
        return len(self._logs)
