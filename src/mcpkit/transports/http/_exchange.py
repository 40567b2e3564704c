"""One exchange of the HTTP apps, over ASGI: a POST's `Exchange` (the stream its answers leave
on, which the session's channel routes them to: `streams.HttpChannel`), a request body read
within the app's limits (its own, and `BodyBudget`'s for all bodies at once), a refusal sent,
a POST's answer as one JSON object, and a `Stream` pumped out as server-sent events (with its
priming event, replay, keep-alives and early close: basic/transports, SEP-1699). The plumbing
under them (types, reading a body, a whole answer, the path below a mount point) is
`mcpkit._asgi`, shared with the development authorization server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

from mcpkit._asgi import Receive, Send, head_of, send_whole
from mcpkit.protocol.events import RequestReceived
from mcpkit.transports.http.checks import Refusal
from mcpkit.transports.http.sse_stream import Stream, StreamSettings
from mcpkit.transports.sse import (
    encode_comment,
    encode_event,
    encode_priming,
    encode_retry,
    encode_stream,
)
from mcpkit.types import RequestId

__all__ = [
    "SSE_HEADERS",
    "BodyBudget",
    "Exchange",
    "ExchangeChannel",
    "Meanwhile",
    "Resumption",
    "answer_json",
    "send_refusal",
    "send_sse",
    "until_disconnect",
    "watch_disconnect",
]

logger = logging.getLogger("mcpkit.http")

_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R")


class ExchangeChannel(Protocol):
    """What an `Exchange` needs of the session channel it belongs to (`streams.HttpChannel`):
    the settings its stream is made with, whether it answers with JSON, and to be told when
    the session's idle time starts."""

    settings: StreamSettings
    json_response: bool

    def touch(self) -> None: ...


class Exchange(Stream):
    """One POST: `read` is (started, refused) once the session has read the body; its
    stream gets an id when the answer is an SSE stream (`HttpChannel.body_read`).
    `channel` is the session's channel, which frees the stream once it is delivered.
    `json`: answered with one JSON object, as with `json_response` (a poll of a task, see
    `HttpChannel.answer_as_json`). `request`: the one request the body started, for the
    POST's own task to serve (`HttpSession.serve`), when it asked to (`submit`)."""

    __slots__ = ("channel", "json", "read", "request")

    def __init__(self, channel: ExchangeChannel | None = None) -> None:
        # Charged to the app's budget of bytes queued for slow readers, unless the channel
        # answers with JSON: its one answer is queued only until the task that writes it
        # takes it, at once (the POST's, or the one waiting for it), and what the server
        # buffers of it is the connection's (as a 2026-07-28 JSON answer's, never queued).
        budget = None if channel is None or channel.json_response else channel.settings.queued
        Stream.__init__(self, None, None, False, budget)
        self.channel = channel
        self.json = False
        self.read: tuple[list[RequestId], list[bytes]] = _UNREAD
        self.request: RequestReceived | None = None

    def connection_lost(self) -> None:
        """Its connection let go of it while its request still runs (the client went, read
        too slowly, or was told to come back): its session's idle time starts now, as the
        request no longer keeps it alive (`streams.HttpChannel.idle_since`). (Its body's read did
        not note the session's activity: see `streams.HttpChannel.body_read`.)"""
        if not self.ended and self.channel is not None:
            self.channel.touch()

    def end_slow(self) -> None:
        super().end_slow()
        self.connection_lost()

    def hang_up(self, retry_ms: int, *, force: bool = False) -> bool:
        hung = super().hang_up(retry_ms, force=force)
        if hung:
            self.connection_lost()
        return hung


#: `Exchange.read` until the body is read: nothing started or refused. (One for all: nothing
#: changes an exchange's lists, a body's read replaces them.)
_UNREAD: Final[tuple[list[RequestId], list[bytes]]] = ([], [])


class BodyBudget(Protocol):
    """The bytes of request bodies one app holds while reading them, all requests together
    (the deployment's `transports.deployment.capacity.BodyBytes`, which says why): a body
    read whole is checked against `held` and `max_bytes` with no call, one read in parts takes
    and gives back each part. The binding names it by what it does and never imports the
    deployment."""

    held: int
    max_bytes: int

    def take(self, size: int) -> Refusal | None: ...
    def room(self, size: int) -> Refusal | None: ...
    def give_back(self, size: int) -> None: ...


_JSON: Final = ((b"content-type", b"application/json"),)
_KEEPALIVE: Final = encode_comment()
_BATCH: Final = 16  # events joined into one write at most
SSE_HEADERS: Final = (
    (b"content-type", b"text/event-stream"),
    # Proxies must neither cache nor buffer a stream (nginx reads X-Accel-Buffering).
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


class Meanwhile(Generic[_K, _V, _R]):
    """What is to run about `after` seconds from now, for many requests, with one timer:
    `run(key, value)` for each entry added (`add`) that is still there when its time comes;
    what `run` returned goes to `ran`, by key. The caller takes its entry out of the dict
    `add` returned (its `pop`) when it no longer wants it run: the usual request, answered
    in time, costs a call, two dict operations and no clock.

    Time is counted in turns of `after / 2` seconds, while any entry waits (`add`, then
    `_turn`): `waiting` is handed on at each turn, and what was put in it runs on the third,
    between `after` and 1.5 * `after` seconds after it was added. A timer per entry, or the
    clock read for each one, would cost each request more than a quick one's answer."""

    __slots__ = ("_old", "_older", "after", "ran", "run", "timer", "waiting")

    def __init__(self, after: float, run: Callable[[_K, _V], _R]) -> None:
        self.after = after
        self.run = run
        #: The entries added since the last turn. (Each turn replaces it: a caller holding
        #: the dict it added to takes its entry out of that one.)
        self.waiting: dict[_K, _V] = {}
        self._old: dict[_K, _V] = {}  # added during the turn before
        self._older: dict[_K, _V] = {}  # added during the turn before that: run at the next
        #: What `run` returned for the entries it ran, until their caller takes it.
        self.ran: dict[_K, _R] = {}
        #: The turns' timer; None while they stop (nothing waits).
        self.timer: asyncio.TimerHandle | None = None

    def add(self, key: _K, value: _V) -> dict[_K, _V]:
        """Run `value` for `key` in time, unless its caller takes it out of the dict this
        returns (`waiting` now) first; the turns started if they had stopped."""
        waiting = self.waiting
        waiting[key] = value
        if self.timer is None:
            self.arm()
        return waiting

    def arm(self) -> None:
        """Start the turns, unless they run."""
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.after / 2, self._turn)

    def _turn(self) -> None:
        self.timer = None
        due, self._older, self._old = self._older, self._old, self.waiting
        self.waiting = {}
        ran, run = self.ran, self.run
        while due:
            key, value = due.popitem()  # (out of `due` before it runs: its caller pops none)
            ran[key] = run(key, value)
        if self._older or self._old:
            self.arm()


@dataclass(frozen=True, slots=True)
class Resumption:
    """A stream taken up again (GET with `Last-Event-ID`): the client has every event up to
    `after`, and `events` are those the store kept after it, in order."""

    after: int
    events: Sequence[tuple[int, bytes]]


async def send_refusal(send: Send, refusal: Refusal) -> None:
    await send_whole(send, refusal.status, refusal.body, refusal.headers)


async def answer_json(
    exchange: Exchange, receive: Receive, send: Send, headers: Sequence[tuple[bytes, bytes]]
) -> None:
    """The answer as one JSON object (202 with no body if the client cancelled it). A
    client that goes away meanwhile leaves the call running, no longer holding its session
    against expiry (`HttpChannel.idle_since`)."""
    try:
        # An answer ready, or none to come, is what `next` would return at once, and needs
        # no disconnect watcher: no coroutine either.
        generation = exchange.generation
        if exchange.ready(generation):
            # No clock read (`touch`): what put the answer there noted the session's
            # activity then (`HttpChannel.send_routed`), and its client waited no longer.
            data = exchange.take()[1]
        else:
            if exchange.over(generation):
                data = None
            else:
                async with watch_disconnect(receive, exchange):
                    data = await exchange.reading().next()
            if exchange.channel is not None:  # its idle time starts when its client stopped waiting
                exchange.channel.touch()
        if data:
            await send(head_of(200, data, (*_JSON, *headers) if headers else _JSON))
            await send({"type": "http.response.body", "body": data})
        else:
            await send_whole(send, 202, b"", headers)
    finally:
        if exchange.held:  # what it took is the server's now (or dropped: the client left)
            exchange.sent()


async def send_sse(
    receive: Receive,
    send: Send,
    stream: Stream,
    headers: Sequence[tuple[bytes, bytes]] = (),
    resume: Resumption | None = None,
    keepalive_interval: float | None = None,
    *,
    first_wait: float = 0.0,
) -> bool:
    """Answer with `stream` as SSE until it ends, the client disconnects, or the server closes
    the connection early (SEP-1699); whether the stream was delivered to its end.

    A fresh primed stream opens with its priming event; a `resume` first replays what the
    client missed. Every event of a numbered stream carries its id, and none goes out twice.
    """
    generation = stream.generation
    # Events ready together go out in one write, and the last one ends the response; and a
    # call's stream waits a moment (`first_wait`) for its first message before the head goes
    # out, so a call answered at once costs two ASGI sends (the head; priming, answer and
    # end), not four, and no disconnect watcher or keep-alive timer.
    out: list[bytes] = []
    try:
        cursor = 0 if resume is None else _replay(out, stream, resume)
        if first_wait > 0:
            await stream.reading().wait_ready(generation, first_wait)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *headers]}
        )
        # A fresh stream opens with its priming event (none without an id: see encode_stream).
        priming = resume is None and stream.primed
        rest = stream.rest(generation)
        if rest is not None:
            # The usual answer to a call: all of it queued and nothing more to come, so one
            # write ends the response, with no loop around it.
            body = encode_stream(stream.id, rest, after=cursor, priming=priming)
            del rest
            if out:  # (a replay before it)
                out.append(body)
                body = b"".join(out)
            await send({"type": "http.response.body", "body": body})
            return True
        if priming and stream.id is not None:
            out.append(encode_priming(stream.id + ".0"))
        return await _pump(receive, send, stream, generation, out, cursor, keepalive_interval)
    except OSError:  # the server's way of saying the client is gone (uvicorn: ClientDisconnected)
        return False
    finally:
        stream.detach(generation)  # this connection is over, however it ended


async def _pump(
    receive: Receive,
    send: Send,
    stream: Stream,
    generation: int,
    out: list[bytes],
    cursor: int,
    keepalive_interval: float | None,
) -> bool:
    """`send_sse` once the head has gone out and `out` holds what is to follow it: the
    stream's events as they come, the last write ending the response, watching for the
    client to go and sending keep-alives while it waits."""
    watcher: asyncio.Task[None] | None = None
    try:
        while not await _flush(send, stream, generation, out):
            ready = stream.ready(generation)
            if watcher is None and not ready:  # about to wait
                watcher = asyncio.get_running_loop().create_task(
                    _close_on_disconnect(receive, stream, generation)
                )
                stream.reading().start_keepalive(keepalive_interval)
            item = stream.take() if ready else await stream.reading().next_event(generation)
            if item is None:
                break
            seq, data = item
            if seq < 0:
                out.append(_KEEPALIVE)
            elif seq > cursor:
                cursor = seq
                out.append(_event(stream.id, seq, data))
            del item, data  # not held while the next one is awaited: it may be a whole answer
        return await _finish(send, stream, generation, out)
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _flush(send: Send, stream: Stream, generation: int, out: list[bytes]) -> bool:
    """Send what `out` holds once nothing more is ready (or a batch is full); True instead
    when nothing more will come, so that `out` ends the response."""
    ready = stream.ready(generation)
    if out and not ready and stream.over(generation):
        return True
    if out and (not ready or len(out) >= _BATCH):  # a batch bounds a stream that has more
        await _chunk(send, b"".join(out))
        out.clear()
        if stream.held:  # (0 without a budget)
            stream.sent()
    return False


def _replay(out: list[bytes], stream: Stream, resume: Resumption) -> int:
    """Queue the replayed events in `out`; the last sequence number."""
    cursor = resume.after
    for seq, data in resume.events:
        if seq > cursor:
            cursor = seq
            out.append(_event(stream.id, seq, data))
    return cursor


async def _finish(send: Send, stream: Stream, generation: int, out: list[bytes]) -> bool:
    """Send what is left and end the response as the stream's state says; whether the stream
    was delivered to its end."""
    retry = stream.hung_up(generation)
    if retry is not None:  # SEP-1699: tell the client when to come back, then close
        out.append(encode_retry(retry))
    # Also when the client is gone (the server ignores it then) or a resumption took the
    # stream over (the old response ends cleanly, with nothing more).
    await send({"type": "http.response.body", "body": b"".join(out)})
    return retry is None and stream.generation == generation and stream.attached and stream.ended


def _event(stream_id: str | None, seq: int, data: bytes) -> bytes:
    if stream_id is None:
        return encode_event(data)
    return encode_event(data, event_id=stream_id + "." + str(seq))


async def _chunk(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def until_disconnect(receive: Receive) -> None:
    """Return once the client has gone. The body has been read: the next message the server
    gives is http.disconnect."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _close_on_disconnect(receive: Receive, stream: Stream, generation: int) -> None:
    await until_disconnect(receive)
    stream.detach(generation)
    if type(stream) is Exchange:  # a call's: its session's idle time may start now
        stream.connection_lost()


@contextlib.asynccontextmanager
async def watch_disconnect(receive: Receive, stream: Stream) -> AsyncGenerator[None]:
    """While the block runs, detach `stream` from this connection once the client goes
    (for an answer awaited without sending anything: a JSON answer); no task when the
    stream has its message ready or will have none."""
    generation = stream.generation
    if stream.ready(generation) or stream.over(generation):
        yield
        return
    watcher = asyncio.get_running_loop().create_task(
        _close_on_disconnect(receive, stream, generation)
    )
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
