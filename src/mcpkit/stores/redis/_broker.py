"""`RedisBroker`: changes published by any process reach the sessions of every process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

from mcpkit.protocol.events import StrayResponse
from mcpkit.protocol.ids import process_request_ids, set_request_id_prefix
from mcpkit.stores.broker import (
    Broker,
    CancelHandler,
    Change,
    ChangeHandler,
    ResponseHandler,
)
from mcpkit.stores.redis._channel import Listener

__all__ = ["RedisBroker"]

logger = logging.getLogger("mcpkit.stores.redis")

_BATCH: Final = 100  # PUBLISHes sent in one round trip
_RETRY_FIRST: Final = 0.1  # seconds before sending again after an error; doubles each time
_RETRY_MOST: Final = 5.0
_CLOSE_BOUND: Final = 1.0  # seconds `aclose` gives the changes still queued
_change_decoder = msgspec.json.Decoder(Change)

# PUBLISHes message ARGV[i + 1] on channel ARGV[i] for each pair, in order: one round trip
# for a batch.
_PUBLISH: Final = """
for i = 1, #ARGV, 2 do
    redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
"""
#: The longest request-id prefix a forwarded response may name (ours are 16 hex digits).
_MAX_PREFIX: Final = 64
_cancel_decoder = msgspec.json.Decoder(tuple[str, int | str, str | None])


#: The oldest Redis major version the stores work with.
MIN_REDIS_MAJOR: Final = 7


class RedisBroker:
    """`Broker` over a Redis pub/sub channel. `publish` calls this process's handlers at once
    (as `MemoryBroker` does) and queues the change; a task of the broker PUBLISHes what is
    queued, many changes a round trip. Another task listens to the channel and calls the
    handlers with the changes of other processes. Each message starts with the id of the
    broker that sent it, so its own changes, which come back on the channel too, are
    skipped: each handler is called once per change.

    Responses: when several processes serve one session, a client's answer to a request this
    process sent (sampling, elicitation, roots, asked by a tool running here) may be POSTed
    to another process, whose session takes it for a stray (`forward_response`). The ids of
    this process's requests carry a prefix naming it (`mcpkit.protocol.ids`, set here when
    the process has none), and each process listens on a channel of its own, `<channel>:
    responses:<prefix>`: the receiver publishes the response there, and the broker of the
    process that asked hands it to `subscribe_responses`'s handlers with the session id,
    which give it to that session.

    Pub/sub delivers at most once: a process whose connection to Redis is down meanwhile
    misses changes (list_changed, resources/updated: news, which a client can also fetch
    again). At most `max_queued` changes wait to be sent while Redis cannot be reached; the
    oldest go first, counted in `dropped`.

    Its tasks start on the first `publish` or `subscribe` made in a running event loop, or
    at `start()`, which returns once the subscription is in place (a server made before its
    loop runs calls it when it starts serving, or changes of others are heard only from
    its first publish on). `request_id_prefix` is the prefix of this process's request ids
    (by default the process's own, `mcpkit.protocol.ids`; tests of two brokers in one
    process give each its own). The caller owns `client` (made with `decode_responses=False`, the
    default) and closes it after `aclose`."""

    def __init__(
        self,
        client: Redis,
        *,
        channel: str = "mcpkit:changes",
        max_queued: int = 10_000,
        request_id_prefix: str | None = None,
    ) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self._channel = channel.encode()
        self._client = client
        self._publish = client.register_script(_PUBLISH)
        self._origin = secrets.token_hex(8).encode()  # this broker's id in its messages
        self._handlers: list[ChangeHandler] = []
        self._response_handlers: list[ResponseHandler] = []
        self._cancel_handlers: list[CancelHandler] = []
        self._outbox: deque[tuple[bytes, bytes]] = deque(maxlen=max_queued)
        self._queued = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._listener = Listener(client, self._channel, self._received, name="mcpkit changes")
        ids = process_request_ids()
        if request_id_prefix is None:  # the process's, made now if it has none
            if not ids.prefix:  # our requests' ids name this process from now on
                set_request_id_prefix(secrets.token_hex(8))
            request_id_prefix = ids.prefix
        self._prefix = request_id_prefix
        self._responses = Listener(
            client,
            self._responses_channel(self._prefix),
            self._received_response,
            name="mcpkit responses",
        )
        self._cancels_channel = self._channel + b":cancels"
        self._cancels = Listener(
            client, self._cancels_channel, self._received_cancel, name="mcpkit cancels"
        )
        self._closed = False
        #: Responses forwarded here and dropped, since the broker was made.
        self.stray_responses = 0
        #: Changes dropped unsent because `max_queued` were already waiting.
        self.dropped = 0

    async def start(self, timeout: float | None = None) -> bool:
        """Start sending and listening; whether the subscription is in place, waiting for it
        up to `timeout` seconds (None: for as long as it takes). The listener keeps trying
        after a False."""
        self._start()
        # The three subscriptions wait side by side: one after another, a Redis that does
        # not answer held the first session three times `timeout`.
        waits = (self._listener.ready(timeout), self._responses.ready(timeout))
        ready = all(await asyncio.gather(*waits, self._cancels.ready(timeout)))
        if ready:
            await self._check_version()
        return ready

    async def _check_version(self) -> None:
        """Say, once, at start, when the server is older than the stores need (Redis 7, or
        Valkey, which reports a Redis version of 7.2): their scripts and commands (SET NX
        GET, for one) fail there, and this names why."""
        try:
            info = await self._client.info("server")  # pyright: ignore[reportUnknownMemberType]
        except RedisError:
            return  # (the stores report what fails)
        version = str(info.get("redis_version", ""))
        major = version.partition(".")[0]
        if major.isdigit() and int(major) < MIN_REDIS_MAJOR:
            logger.error(
                "the Redis server is version %s; mcpkit's Redis stores need Redis %d or "
                "Valkey: some of their commands fail on it",
                version,
                MIN_REDIS_MAJOR,
            )

    def publish(self, change: Change) -> None:
        self._deliver(change)
        if self._closed:
            return
        self._queue(self._channel, self._origin + b" " + msgspec.json.encode(change))

    def _queue(self, channel: bytes, message: bytes) -> None:
        if len(self._outbox) == self._outbox.maxlen:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # the 1st, 2nd, 4th...: no log flood
                logger.warning("Redis is not taking messages: %d dropped so far", self.dropped)
        self._outbox.append((channel, message))
        self._queued.set()
        self._start()

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        self._handlers.append(handler)
        self._start()

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def subscribe_responses(self, handler: ResponseHandler) -> Callable[[], None]:
        """Call `handler(session_id, response)` with each response another process forwards
        here (one this process's session `session_id` awaits, or awaited); returns the
        function that stops it."""
        self._response_handlers.append(handler)
        self._start()

        def unsubscribe() -> None:
            if handler in self._response_handlers:
                self._response_handlers.remove(handler)

        return unsubscribe

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        """Send `response` to the process whose prefix its id carries. One that names this
        process (an answer after the request gave up), no process (an integer id) or
        something no process is named (not `<prefix>-<number>`, a prefix longer than any or
        not printable ASCII) is
        counted in `stray_responses` and dropped. A peer can only reach its own session this
        way: the receiving process hands the response to `session_id` alone."""
        rid = response.request_id
        prefix, _, count = rid.rpartition("-") if isinstance(rid, str) else ("", "", "")
        if (
            not prefix
            or not (count.isascii() and count.isdigit())
            or prefix == self._prefix
            or len(prefix) > _MAX_PREFIX
            or not (prefix.isascii() and prefix.isprintable())
            or "\n" in session_id
            or self._closed
        ):
            self.stray_responses += 1
            logger.debug(
                "session %s: dropped a response to request %r, which nothing awaits",
                session_id,
                rid,
            )
            return
        self._queue(self._responses_channel(prefix), session_id.encode() + b"\n" + response.data)

    def subscribe_cancels(self, handler: CancelHandler) -> Callable[[], None]:
        """Call `handler(session_id, request_id, reason)` with each `notifications/cancelled`
        another process received for a request it does not serve; returns the function that
        stops it."""
        self._cancel_handlers.append(handler)
        self._start()

        def unsubscribe() -> None:
            if handler in self._cancel_handlers:
                self._cancel_handlers.remove(handler)

        return unsubscribe

    def forward_cancel(self, session_id: str, request_id: int | str, reason: str | None) -> None:
        """The client of `session_id` cancelled `request_id`, which this process does not
        serve: told to every other process (which one serves it is not known), whose copy of
        the session stops it if it runs there. Never handed on a second time."""
        if self._closed:
            return
        note = msgspec.json.encode((session_id, request_id, reason))
        self._queue(self._cancels_channel, self._origin + b" " + note)

    def _received_cancel(self, data: bytes) -> None:
        origin, _, note = data.partition(b" ")
        if origin == self._origin:
            return
        try:
            session_id, request_id, reason = _cancel_decoder.decode(note)
        except msgspec.DecodeError:
            logger.warning("ignored a message on %r that is no cancellation", self._cancels_channel)
            return
        for handler in tuple(self._cancel_handlers):
            try:
                handler(session_id, request_id, reason)
            except Exception:
                logger.exception("a handler of forwarded cancellations failed")

    def _responses_channel(self, prefix: str) -> bytes:
        return self._channel + b":responses:" + prefix.encode()

    def _received_response(self, data: bytes) -> None:
        session, _, response = data.partition(b"\n")
        session_id = session.decode("utf-8", "replace")
        for handler in tuple(self._response_handlers):
            try:
                handler(session_id, response)
            except Exception:
                logger.exception("a handler of forwarded responses failed")

    async def aclose(self) -> None:
        """Send what is queued (for at most a second), then stop both tasks."""
        self._closed = True
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        if self._outbox:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(_CLOSE_BOUND):
                    await self._send(list(self._outbox))
        await self._listener.aclose()
        await self._responses.aclose()
        await self._cancels.aclose()

    def _start(self) -> None:
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # made and used before the loop runs: started later
            return
        self._listener.start()
        self._responses.start()
        self._cancels.start()
        if self._sender is None:
            self._sender = loop.create_task(self._sending(), name="mcpkit changes out")

    async def _sending(self) -> None:
        delay = _RETRY_FIRST
        while True:
            await self._queued.wait()
            self._queued.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(_BATCH, len(self._outbox)))]
                try:
                    await self._send(batch)
                except (RedisError, OSError):
                    logger.warning("could not publish changes; again in %g s", delay, exc_info=True)
                    self._outbox.extendleft(reversed(batch))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MOST)
                except BaseException:  # cancelled by aclose: it sends them
                    self._outbox.extendleft(reversed(batch))
                    raise
                else:
                    delay = _RETRY_FIRST

    async def _send(self, messages: list[tuple[bytes, bytes]]) -> None:
        await self._publish(keys=[], args=[part for pair in messages for part in pair])

    def _received(self, data: bytes) -> None:
        origin, _, payload = data.partition(b" ")
        if origin == self._origin:
            return  # ours: the handlers had it when it was published
        try:
            change = _change_decoder.decode(payload)
        except msgspec.DecodeError:  # ValidationError is one
            logger.warning("ignored a message on %r that is no change", self._channel)
            return
        self._deliver(change)

    def _deliver(self, change: Change) -> None:
        # A copy: a handler may subscribe or unsubscribe while we go through them.
        for handler in tuple(self._handlers):
            try:
                handler(change)
            except Exception:  # one broken handler must not keep the change from the rest
                logger.exception("a handler of %s failed", change.method)


if TYPE_CHECKING:  # mypy and pyright prove the broker implements the interface
    _implements: type[Broker] = RedisBroker
