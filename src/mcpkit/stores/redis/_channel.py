"""A pub/sub channel listened to for as long as a store needs it: one connection, one task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final, cast

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

__all__ = ["Listener"]

logger = logging.getLogger("mcpkit.stores.redis")

_RETRY_FIRST: Final = 0.1  # seconds before subscribing again after an error; doubles each time
_RETRY_MOST: Final = 5.0


class Listener:
    """Calls `on_message` with the data of each message published on `channel`, from the
    first `start()` (made in a running event loop) until `aclose()`.

    Redis delivers a message only to connections subscribed when it is published, and a
    reconnection loses those published meanwhile; `on_subscribed` is called each time the
    subscription is (again) in place, so that a user can look again at what it watches.
    `ready` answers once a subscription is in place: what is published after that is
    delivered (while the connection holds)."""

    def __init__(
        self,
        client: Redis,
        channel: bytes,
        on_message: Callable[[bytes], None],
        *,
        on_subscribed: Callable[[], None] | None = None,
        name: str,
    ) -> None:
        self._client = client
        self.channel = channel
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def start(self) -> None:
        """Start listening, unless it already does (a running event loop is needed)."""
        if self._task is None or self._task.done():
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._listen(), name=self._name)

    async def ready(self, timeout: float | None) -> bool:
        """Whether the subscription is in place, waiting up to `timeout` seconds for it."""
        self.start()
        if not self._subscribed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), timeout)
        return self._subscribed.is_set()

    async def aclose(self) -> None:
        """Stop listening and give the connection back."""
        task, self._task = self._task, None
        self._subscribed.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        delay = _RETRY_FIRST
        while True:
            pubsub = self._client.pubsub()  # pyright: ignore[reportUnknownMemberType]
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    # redis-py does not say what a message's values are: _received checks
                    self._received(cast(object, await pubsub.get_message(timeout=None)))
                    delay = _RETRY_FIRST
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                logger.warning(
                    "lost the subscription to %r (%s); subscribing again in %g s",
                    self.channel,
                    exc,
                    delay,
                )
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py's own
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MOST)

    def _received(self, message: object) -> None:
        if not isinstance(message, dict):
            return  # nothing came in time (a health check's PONG)
        kind = cast("dict[str, object]", message).get("type")
        if kind == "message":
            data = cast("dict[str, object]", message).get("data")
            if isinstance(data, bytes):
                try:
                    self._on_message(data)
                except Exception:  # a broken callback must not end the subscription
                    logger.exception("a listener of %r failed", self.channel)
        elif kind == "subscribe":
            # Also after redis-py reconnected on its own: messages may have been lost.
            self._subscribed.set()
            if self._on_subscribed is not None:
                self._on_subscribed()
