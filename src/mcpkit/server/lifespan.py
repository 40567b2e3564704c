"""`ServerLifespan`: the lifespan a `Server`'s sessions share, a base of `Server`.

The user's `lifespan(server)` hook is entered when the first session starts and left when
the last one ends, however many are served at once, with the lifespans of the servers
mounted in it inside; the tasks of tools called as tasks end with it. `is_running` says
whether it is entered, which `SessionBroadcasts` reads before announcing a change. Apart
from `server` because it is state of its own (a count, a lock, an exit stack), touched only
when sessions start and end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Final, Self

if TYPE_CHECKING:
    from mcpkit.server.listeners import Listeners
    from mcpkit.server.mount import Mount
    from mcpkit.stores.broker import Broker
    from mcpkit.stores.task_runner import TaskRunner

__all__ = ["ServerLifespan"]

logger = logging.getLogger("mcpkit.server")
_BROKER_WAIT: Final = 10.0  # seconds a shared broker has to subscribe as serving starts


class ServerLifespan:
    """The lifespan hook of a server, entered once for all the sessions it serves (the
    attributes are set by `Server.__init__`)."""

    name: str
    broker: Broker
    lifespan: Callable[[Self], contextlib.AbstractAsyncContextManager[Any]] | None
    #: What the lifespan hook yielded (`ctx.lifespan_state`), while it is entered.
    lifespan_state: Any
    mounts: tuple[Mount, ...]
    _task_runner: TaskRunner | None
    listeners: Listeners
    _lifespan_users: int
    _lifespan_stack: contextlib.AsyncExitStack | None
    _lifespan_lock: asyncio.Lock | None
    _loop: asyncio.AbstractEventLoop | None  # where sessions are served

    @property
    def is_running(self) -> bool:
        """Whether the lifespan has been entered (some session is being served)."""
        return self._lifespan_users > 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[Self, None]:
        """Enter the lifespan hook once for however many sessions are being served."""
        if self._lifespan_lock is None:
            self._lifespan_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        async with self._lifespan_lock:
            if self._lifespan_users == 0:
                await self._start_broker()
            if self._lifespan_users == 0 and (self.lifespan is not None or self.mounts):
                self._lifespan_stack = await self._enter_lifespans()
            self._lifespan_users += 1
        try:
            yield self
        finally:
            async with self._lifespan_lock:
                self._lifespan_users -= 1
                if self._lifespan_users == 0:
                    self.listeners.close_all()  # each answers its listen: a graceful end
                if self._lifespan_users == 0 and self._task_runner is not None:
                    await self._task_runner.aclose()  # tasks end with the last session's server
                if self._lifespan_users == 0 and self._lifespan_stack is not None:
                    stack, self._lifespan_stack = self._lifespan_stack, None
                    await stack.aclose()  # mounted servers' first, in reverse order
                    self.lifespan_state = None

    async def _start_broker(self) -> None:
        """A shared broker (`RedisBroker`) subscribes before the first session is served, so
        that the changes of other processes are heard from the start; one that cannot reach
        its server in `_BROKER_WAIT` seconds keeps trying while this one serves."""
        start = getattr(self.broker, "start", None)
        if start is not None and not await start(timeout=_BROKER_WAIT):
            logger.error(
                "%s: the broker could not subscribe in %g s; serving on, and the changes "
                "other processes announce are heard once it can",
                self.name,
                _BROKER_WAIT,
            )

    async def _enter_lifespans(self: Self) -> contextlib.AsyncExitStack:
        """This server's lifespan, then those of the servers mounted in it, in order."""
        stack = contextlib.AsyncExitStack()
        try:
            if self.lifespan is not None:
                self.lifespan_state = await stack.enter_async_context(self.lifespan(self))
            for mount in self.mounts:
                await stack.enter_async_context(mount.server.running())
        except BaseException:
            await stack.aclose()
            self.lifespan_state = None
            raise
        return stack
