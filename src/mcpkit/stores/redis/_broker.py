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
from redis.asyncio import Redis
from redis.exceptions import RedisError

from mcpkit.protocol.events import StrayResponse
from mcpkit.stores.broker import Broker, Change, ChangeHandler
from mcpkit.stores.redis._channel import Listener

__all__ = ["RedisBroker"]

logger = logging.getLogger("mcpkit.stores.redis")

_BATCH: Final = 100  # PUBLISHes sent in one round trip
_RETRY_FIRST: Final = 0.1  # seconds before sending again after an error; doubles each time
_RETRY_MOST: Final = 5.0
_CLOSE_BOUND: Final = 1.0  # seconds `aclose` gives the changes still queued
_change_decoder = msgspec.json.Decoder(Change)

# PUBLISHes ARGV[2..] on channel ARGV[1], in order: one round trip for a batch.
_PUBLISH: Final = """
for i = 2, #ARGV do
    redis.call('PUBLISH', ARGV[1], ARGV[i])
end
return #ARGV - 1
"""


class RedisBroker:
    """`Broker` over a Redis pub/sub channel. `publish` calls this process's handlers at once
    (as `MemoryBroker` does) and queues the change; a task of the broker PUBLISHes what is
    queued, many changes a round trip. Another task listens to the channel and calls the
    handlers with the changes of other processes. Each message starts with the id of the
    broker that sent it, so its own changes, which come back on the channel too, are
    skipped: each handler is called once per change.

    Pub/sub delivers at most once: a process whose connection to Redis is down meanwhile
    misses changes (list_changed, resources/updated: news, which a client can also fetch
    again). At most `max_queued` changes wait to be sent while Redis cannot be reached; the
    oldest go first, counted in `dropped`.

    Its tasks start on the first `publish` or `subscribe` made in a running event loop, or
    at `start()`, which returns once the subscription is in place (a server made before its
    loop runs calls it when it starts serving, or changes of others are heard only from
    its first publish on). The caller owns `client` (made with `decode_responses=False`, the
    default) and closes it after `aclose`."""

    def __init__(
        self, client: Redis, *, channel: str = "mcpkit:changes", max_queued: int = 10_000
    ) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self._channel = channel.encode()
        self._publish = client.register_script(_PUBLISH)
        self._origin = secrets.token_hex(8).encode()  # this broker's id in its messages
        self._handlers: list[ChangeHandler] = []
        self._outbox: deque[bytes] = deque(maxlen=max_queued)
        self._queued = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._listener = Listener(client, self._channel, self._received, name="mcpkit changes")
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
        return await self._listener.ready(timeout)

    def publish(self, change: Change) -> None:
        self._deliver(change)
        if self._closed:
            return
        if len(self._outbox) == self._outbox.maxlen:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # the 1st, 2nd, 4th...: no log flood
                logger.warning("Redis is not taking changes: %d dropped so far", self.dropped)
        self._outbox.append(self._origin + b" " + msgspec.json.encode(change))
        self._queued.set()
        self._start()

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        self._handlers.append(handler)
        self._start()

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        """Counted in `stray_responses` and dropped, as `MemoryBroker` does: handing a
        response to the process whose request it answers is not done yet."""
        self.stray_responses += 1
        logger.debug(
            "session %s: dropped a response to request %r, which nothing here awaits",
            session_id,
            response.request_id,
        )

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

    def _start(self) -> None:
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # made and used before the loop runs: started later
            return
        self._listener.start()
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

    async def _send(self, messages: list[bytes]) -> None:
        await self._publish(keys=[], args=[self._channel, *messages])

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
