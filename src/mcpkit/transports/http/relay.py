"""A stream resumed in another process than the one producing it (several processes serving
one session, or a process restarted on its store): the GET with `Last-Event-ID` is answered
from the shared event log, what the log kept first, then each event the producer goes on
storing, read back every `RELAY_INTERVAL` seconds, until the stream's response (a call's
stream ends with it) or the client goes. Nothing is stored again here: the events are the
producer's, and so is forgetting them."""

from __future__ import annotations

import asyncio
from typing import Final

import msgspec

from mcpkit.stores.event_log import EventStore
from mcpkit.transports.http.sse_stream import Stream

__all__ = ["RELAY_INTERVAL", "ends_stream", "follow"]

#: Seconds between two reads of the log of a stream produced elsewhere.
RELAY_INTERVAL: Final = 0.2


_ABSENT: Final = msgspec.Raw(b"")


class _Head(msgspec.Struct):
    """What tells a response from a request or a notification, left undecoded."""

    method: msgspec.Raw = _ABSENT
    result: msgspec.Raw = _ABSENT
    error: msgspec.Raw = _ABSENT


_head = msgspec.json.Decoder(_Head)


def ends_stream(data: bytes) -> bool:
    """Whether message `data` is a response: the last message of a call's stream (a GET
    stream carries none)."""
    try:
        head = _head.decode(data)
    except msgspec.DecodeError:
        return False
    return not head.method and bool(head.result or head.error)


async def follow(store: EventStore, stream: Stream, stream_id: str, after: int) -> None:
    """Feed `stream` the events the log of `stream_id` gets after `after`, in order, until
    one ends it, or the log no longer holds the next one (the window moved past it, or the
    stream was forgotten): the stream ends then, and the client may open a new one."""
    cursor = after
    pending: list[tuple[int, bytes]] = []
    while not stream.ended:
        if not pending:
            events = await store.replay_after(stream_id, cursor)
            if events is None:
                stream.end()
                return
            pending = [event for event in events if event[0] > cursor]
        while pending and stream.relay(*pending[0]):
            seq, data = pending.pop(0)
            cursor = seq
            if ends_stream(data):
                stream.end()
                return
        await asyncio.sleep(RELAY_INTERVAL)
