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
import collections
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Final, Self

from mcpkit.stores.liveness import process_tag

if TYPE_CHECKING:
    from mcpkit.server.asking.request_state import StateSeal
    from mcpkit.server.catalog.listeners import Listeners
    from mcpkit.server.surface import Mount
    from mcpkit.stores.broker import Broker, SharedBroker
    from mcpkit.stores.liveness import Liveness
    from mcpkit.stores.task_runner import TaskRunner
    from mcpkit.stores.url import Stores

__all__ = ["ServerLifespan"]

logger = logging.getLogger("mcpkit.server")
_BROKER_WAIT: Final = 10.0  # seconds a shared broker has to subscribe as serving starts
_STATE_KEY: Final = "request-state-key"  # the store's secret sealing requestState
#: Servers of this process renewing its lease, by store URL: the last to stop gives it up.
_leasing: collections.Counter[str] = collections.Counter()


class ServerLifespan:
    """The lifespan hook of a server, entered once for all the sessions it serves (the
    attributes are set by `Server.__init__`)."""

    name: str
    broker: Broker
    _shared_broker: SharedBroker | None  # `broker`, if other processes share it
    store: Stores
    state_seal: StateSeal
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
    _beating: asyncio.Task[None] | None  # renews this process's lease (`Stores.liveness`)

    @property
    def is_running(self) -> bool:
        """Whether the lifespan has been entered (some session is being served)."""
        return self._lifespan_users > 0

    def close_listens(self) -> None:
        """Answer every open `subscriptions/listen` now, their graceful end: a listen never
        ends on its own, so a server that begins to shut down ends them at once (the HTTP
        app does, before uvicorn waits for its open responses), and each client learns
        straight away that this server went away."""
        self.listeners.close_all()

    def end_listen(self, request: object) -> bool:
        """Answer the `subscriptions/listen` that `request` (a `request_peer`) serves, if it
        serves one: its graceful end, as at shutdown, for a client at its cap of requests
        (`mcpkit.transports.http.own_calls.OwnCalls.make_room`); whether it did."""
        return self.listeners.end(request)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[Self, None]:
        """Enter the lifespan hook once for however many sessions are being served."""
        if self._lifespan_lock is None:
            self._lifespan_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        async with self._lifespan_lock:
            if self._lifespan_users == 0:
                await self._start_broker()
                await self._start_beating()
                await self._agree_on_state_key()
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
                    await self._stop_beating()
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
        shared = self._shared_broker
        if shared is not None and not await shared.start(timeout=_BROKER_WAIT):
            logger.error(
                "%s: the broker could not subscribe in %g s; serving on, and the changes "
                "other processes announce are heard once it can",
                self.name,
                _BROKER_WAIT,
            )

    async def _start_beating(self) -> None:
        """Take this process's lease in a shared store (`Stores.liveness`), and renew it every
        quarter of it while serving, so that other processes relaying the streams this one
        produces know it runs (`mcpkit.transports.http.relay`)."""
        liveness = self.store.liveness
        if liveness is None:
            return
        lease = self.store.lease
        _leasing[self.store.url] += 1
        try:
            await liveness.beat(process_tag(), lease)
        except Exception:
            logger.warning(
                "%s: could not take this process's lease in the store; trying again every %g s",
                self.name,
                lease / 4,
                exc_info=True,
            )
        self._beating = asyncio.get_running_loop().create_task(
            _keep_beating(liveness, lease, self.name)
        )

    async def _agree_on_state_key(self) -> None:
        """Seal 2026-07-28 `requestState` with the key the store's processes share, when this
        server was given none (`StateSeal.agree`)."""
        store_secrets = self.store.secrets
        if store_secrets is None or self.state_seal.shared:
            return
        try:
            key = await store_secrets.secret(_STATE_KEY)
        except Exception:
            logger.warning(
                "%s: could not read the shared requestState key from the store; sealing with "
                "this process's own (a retry reaching another process is refused)",
                self.name,
                exc_info=True,
            )
            return
        self.state_seal.agree(key)

    async def _stop_beating(self) -> None:
        """Stop renewing, and give the lease up unless another server of this process still
        serves from the same store: the streams of this process end with it."""
        beating, self._beating = self._beating, None
        liveness = self.store.liveness
        if beating is None or liveness is None:
            return
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        _leasing[self.store.url] -= 1
        if _leasing[self.store.url] > 0:
            return
        del _leasing[self.store.url]
        try:
            await liveness.end(process_tag())
        except Exception:
            logger.warning("%s: could not give up this process's lease", self.name, exc_info=True)

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


async def _keep_beating(liveness: Liveness, lease: float, name: str) -> None:
    failing = False
    while True:
        # A periodic renewal, not a wait for something: four chances per lease.
        await asyncio.sleep(lease / 4)
        try:
            await liveness.beat(process_tag(), lease)
        except Exception:
            if not failing:  # once per outage, not every quarter lease
                logger.warning(
                    "%s: could not renew this process's lease in the store; other processes "
                    "take the streams it produces for ended once it lapses",
                    name,
                    exc_info=True,
                )
            failing = True
        else:
            if failing:
                logger.warning("%s: this process's lease in the store is renewed again", name)
            failing = False
