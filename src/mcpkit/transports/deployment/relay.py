"""A stream resumed in another process than the one producing it (several processes serving
one session, or a process restarted on its store): the GET with `Last-Event-ID` is answered
from the shared event log, what the log kept first, then each event the producer goes on
storing, read back every `RELAY_INTERVAL` seconds (a GET stream's less often while it stays
quiet), until the stream's response (a call's stream ends with it) or the client goes.
Nothing is stored again here: the events are the producer's, and so is forgetting them.

A producer can stop for good mid-call (SIGKILL, a host lost). Its lease in the shared store
(`mcpkit.stores.liveness`) then lapses, and the relay answers the request the stream
carried with an error, after every event the log kept: the client is not left waiting for
an answer no process will send.

What a stream's id says of it is read back here, the one reader of it: the process that
numbered it (`producer_of`, whose lease is watched) and the request it answers (`request_of`,
the one a relay answers when that process stopped), which the binding wrote into it
(`stream_storing.new_stream_prefix`, `sse_stream.new_stream_id`).

It relies on: of the binding, the app's sessions (`hosting.AppSessions`: their streams'
settings, and the streams its responses carry), a session's streams (`streams.HttpChannel`,
`sse_stream.Stream`) and how a stream goes out as SSE (`_exchange.send_sse`); the shared
event log and leases (`mcpkit.stores`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec

from mcpkit._asgi import Receive, Send
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.protocol.jsonrpc import encode_error
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.event_log import EventStore
from mcpkit.stores.liveness import TAG_LENGTH
from mcpkit.transports.deployment.hosted_server import HostedServer
from mcpkit.transports.http._exchange import Resumption, send_refusal, send_sse
from mcpkit.transports.http.checks import Refusal, last_event_id
from mcpkit.transports.http.hosting import AppSessions
from mcpkit.transports.http.sse_stream import Stream
from mcpkit.transports.http.stream_storing import session_tag
from mcpkit.transports.http.streams import HttpChannel, expired
from mcpkit.types import RequestId

__all__ = [
    "PRODUCER_CHECK",
    "StreamRelay",
    "QUIET_RELAY_INTERVAL",
    "RELAY_INTERVAL",
    "STOPPED",
    "ends_stream",
    "follow",
    "numbered_elsewhere",
    "producer_of",
    "request_of",
    "stopped_answer",
]

#: Seconds between two reads of the log of a stream produced elsewhere.
RELAY_INTERVAL: Final = 0.2
#: Seconds between two reads of the log of a GET stream produced elsewhere that has been
#: quiet for a while: the interval doubles from RELAY_INTERVAL up to this.
QUIET_RELAY_INTERVAL: Final = 2.0
#: Seconds with nothing new on a relayed stream after which its producer is looked for.
PRODUCER_CHECK: Final = 1.0
#: The message of the error answering a request whose process stopped (`stopped_answer`).
STOPPED: Final = (
    "the server process running this request stopped before answering it (its lease in the "
    "shared store lapsed); nothing it did after its last message is known: send the request "
    "again if it is safe to"
)


logger = logging.getLogger("mcpkit.http")

_ABSENT: Final = msgspec.Raw(b"")


class _Head(msgspec.Struct):
    """What tells a response from a request or a notification, left undecoded."""

    method: msgspec.Raw = _ABSENT
    result: msgspec.Raw = _ABSENT
    error: msgspec.Raw = _ABSENT


_head = msgspec.json.Decoder(_Head)

_TAG: Final = TAG_LENGTH  # characters of a session tag, and of a process tag


def producer_of(stream_id: str) -> str | None:
    """The tag of the process that numbered `stream_id`, a stream of a session
    (`new_stream_prefix`); None for an id of another shape."""
    if len(stream_id) <= 2 * _TAG or stream_id[2 * _TAG] != "_":
        return None
    return stream_id[_TAG : 2 * _TAG]


def request_of(stream_id: str) -> RequestId | None:
    """The id of the request whose answer stream `stream_id` is (`new_stream_id`), or None:
    a GET stream, an id too long to carry it, or an id of another shape. The id comes back
    from a client's Last-Event-ID, so anything is possible here and nothing raises."""
    if producer_of(stream_id) is None:
        return None
    _, _, encoded = stream_id[2 * _TAG + 1 :].partition("_")
    if not encoded:
        return None
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return _ids_decoder.decode(raw)
    except (ValueError, msgspec.DecodeError):
        return None


_ids_decoder: Final[msgspec.json.Decoder[str | int]] = msgspec.json.Decoder(str | int)


def numbered_elsewhere(channel: HttpChannel, last: list[bytes]) -> tuple[str, int] | None:
    """The stream id and last event of a Last-Event-ID that names a stream of `channel`'s
    session that another copy of it numbered (in another process, or in this one before a
    restart): its tag is this session's, and this copy holds no stream of that id. None for
    anything else."""
    sid = channel.session_id
    if sid is None or channel.settings.store is None:
        return None
    parsed = last_event_id(last)
    if isinstance(parsed, Refusal):
        return None
    stream_id, after = parsed
    # One of this copy's is resumed here or nowhere; a stream of another copy, in another
    # process or in this one (another app sharing the store), from the log.
    if channel.streams.holds(stream_id) or not stream_id.startswith(session_tag(sid)):
        return None
    return stream_id, after


def ends_stream(data: bytes) -> bool:
    """Whether message `data` is a response: the last message of a call's stream (a GET
    stream carries none)."""
    try:
        head = _head.decode(data)
    except msgspec.DecodeError:
        return False
    return not head.method and bool(head.result or head.error)


async def follow(
    store: EventStore,
    stream: Stream,
    stream_id: str,
    after: int,
    producer_gone: Callable[[], Awaitable[bool]] | None = None,
    *,
    asked: bool = False,
) -> None:
    """Feed `stream` the events the log of `stream_id` gets after `after`, in order, until
    one ends it, or the log no longer holds the next one (the window moved past it, or the
    stream was forgotten): the stream ends then, and the client may open a new one.

    At the first read that brings nothing new, then every PRODUCER_CHECK seconds while
    nothing comes, `producer_gone()` is asked whether the process producing the stream has
    stopped (`mcpkit.stores.liveness`); `asked`: the caller has just asked, and found it
    running, so the first ask waits PRODUCER_CHECK too. Once it has,
    the log is read a last time, and the stream of a request ends with an error answering
    it (`stopped_answer`); any other stream just ends."""
    cursor = after
    # Asked at the first read that brings nothing (it may be gone already), unless just asked.
    idle = 0.0 if asked else PRODUCER_CHECK
    gone = False
    interval = RELAY_INTERVAL
    # A call's stream ends soon, and its client waits for each message; a GET stream may stay
    # quiet for hours, and is read less often the longer it is.
    longest = RELAY_INTERVAL if request_of(stream_id) is not None else QUIET_RELAY_INTERVAL
    while not stream.ended:
        try:
            events = await store.replay_after(stream_id, cursor)
        except StoreUnavailable as exc:
            # The stream ends here, its events kept in the log: the client resumes it with
            # its last event id once the store answers again (503 until then).
            logger.warning("a relayed stream ended: %s", exc)
            events = None
        if events is None:
            stream.end()
            return
        fresh = [event for event in events if event[0] > cursor]
        if not fresh and gone:  # the last read after the producer stopped brought nothing
            answer = stopped_answer(stream_id)
            if answer is None:
                stream.end()
                return
            fresh = [(cursor + 1, answer)]
        if fresh:
            idle, interval = 0.0, RELAY_INTERVAL
            cursor = await _relay(stream, fresh, cursor)
        elif producer_gone is not None and idle >= PRODUCER_CHECK:
            idle = 0.0
            gone = await producer_gone()
            if gone:
                continue  # read the log once more: it may have written before it stopped
        await asyncio.sleep(interval)
        idle += interval
        interval = min(interval * 2, longest)


async def _relay(stream: Stream, events: list[tuple[int, bytes]], cursor: int) -> int:
    """Queue `events` on `stream` in order, waiting while its queue is full; the number of
    the last one queued. A response ends the stream."""
    for seq, data in events:
        while not stream.relay(seq, data):
            if stream.ended:
                return cursor
            await asyncio.sleep(RELAY_INTERVAL)
        cursor = seq
        if ends_stream(data):
            stream.end()
            break
    return cursor


def stopped_answer(stream_id: str) -> bytes | None:
    """The error that answers the request of `stream_id` (`request_of`) when the process
    running it stopped before answering; None for a stream that answers no request."""
    request_id = request_of(stream_id)
    if request_id is None:
        return None
    return encode_error(request_id, INTERNAL_ERROR, STOPPED)


class StreamRelay:
    """The GET with Last-Event-ID of a stream another process numbered, for `hosting`'s
    sessions (`get_delete.GetDeleteRequests.relay`): relayed from the shared log, its
    producer's lease in `server`'s store watched. `streams` are those relayed now (a shutdown
    ends them first: they wait for nothing this process runs)."""

    def __init__(self, server: HostedServer, hosting: AppSessions) -> None:
        self.server = server
        self.hosting = hosting
        self.streams: set[Stream] = set()

    async def __call__(
        self, channel: HttpChannel, last: list[bytes], receive: Receive, send: Send
    ) -> bool:
        """Resume the stream of `channel`'s session that the Last-Event-ID values `last` name
        when another process numbered it (`numbered_elsewhere`), from the shared log: what it
        kept after the last event the client has, then what its producer goes on storing
        (`follow`). False, doing nothing, for any other stream."""
        elsewhere = numbered_elsewhere(channel, last)
        if elsewhere is None:
            return False
        stream_id, after = elsewhere
        store = self.hosting.streams.store
        assert store is not None  # (numbered_elsewhere found none without one)
        events = await store.replay_after(stream_id, after)
        gone = self._producer_gone(stream_id)
        # A GET stream whose producer stopped, with nothing left to replay: a new one (GET
        # without Last-Event-ID) is what the client needs, not an empty relay.
        asked = events == [] and request_of(stream_id) is None and gone is not None
        if events is None or (asked and gone is not None and await gone()):
            await send_refusal(send, expired(last[0]))
            return True
        # stores nothing: its events are the producer's
        stream = Stream(stream_id, budget=self.hosting.streams.queued)
        follower: asyncio.Task[None] | None = None
        if events and ends_stream(events[-1][1]):
            stream.end()
        else:
            cursor = events[-1][0] if events else after
            follower = asyncio.get_running_loop().create_task(
                follow(store, stream, stream_id, cursor, gone, asked=asked)
            )
        self.hosting.open_streams.add(stream)
        self.streams.add(stream)
        try:
            await send_sse(
                receive,
                send,
                stream,
                resume=Resumption(after, events),
                keepalive_interval=self.hosting.streams.keepalive_interval,
            )
        finally:
            self.hosting.open_streams.discard(stream)
            self.streams.discard(stream)
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
        return True

    def _producer_gone(self, stream_id: str) -> Callable[[], Awaitable[bool]] | None:
        """What tells a relay of `stream_id` that the process producing it has stopped (its
        lease in the shared store lapsed); None when the store cannot say."""
        liveness = self.server.store.liveness
        producer = producer_of(stream_id)
        if liveness is None or producer is None:
            return None

        async def gone() -> bool:
            try:
                return not await liveness.alive(producer)
            except Exception:  # the store is out of reach: the producer may well run
                logger.debug("could not ask whether stream producer %s runs", producer)
                return False

        return gone
