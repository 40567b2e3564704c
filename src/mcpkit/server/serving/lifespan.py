"""`ServerLifespan`: the lifespan a `Server`'s sessions share, an object the `Server` holds.

The user's `lifespan(server)` hook is entered when the first session starts and left when
the last one ends, however many are served at once, with the lifespans of the servers
mounted in it inside; the tasks of tools called as tasks end with it. `is_running` says
whether it is entered, which the server reads before announcing a change. Apart from
`server` because it is state of its own (a count, a lock, an exit stack), touched only when
sessions start and end; what it needs of the server is `LifespanHost`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from mcpkit.stores.liveness import process_tag

if TYPE_CHECKING:
    from mcpkit.server.asking.request_state import StateSeal
    from mcpkit.server.catalog.mounts import Mount
    from mcpkit.stores.broker import SharedBroker
    from mcpkit.stores.liveness import Liveness
    from mcpkit.stores.url import Stores

__all__ = ["LifespanHost", "ServerLifespan"]

logger = logging.getLogger("mcpkit.server")
_BROKER_WAIT: Final = 10.0  # seconds a shared broker has to subscribe as serving starts
_STATE_KEY: Final = "request-state-key"  # the store's secret sealing requestState
#: Servers of this process renewing its lease, by store URL: the last to stop gives it up.
#: Module-level because the lease is the process's (`process_tag`), not one server's: two
#: servers of one process on one store must not end each other's streams by letting go.
_leasing: collections.Counter[str] = collections.Counter()


class Runs(Protocol):
    """A server mounted in a `LifespanHost`, whose lifespan runs inside its parent's."""

    def running(self) -> contextlib.AbstractAsyncContextManager[object]: ...


class LifespanHost(Protocol):
    """What a `ServerLifespan` reads of its server (`mcpkit.Server`), each time it is entered
    or left: `store` and `mounts` may change before serving starts (`use_store`, `mount`)."""

    @property
    def name(self) -> str: ...

    @property
    def store(self) -> Stores: ...

    @property
    def state_seal(self) -> StateSeal: ...

    @property
    def lifespan(self) -> Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] | None: ...

    @property
    def mounts(self) -> tuple[Mount[Runs], ...]: ...

    def close_listens(self) -> None: ...


class ServerLifespan:
    """The lifespan hook of `host`, entered once for all the sessions it serves.

    `shared_broker` gives the host's broker if other processes share it (it changes with the
    host's store), and `end_tasks` ends the tasks of its tools called as tasks, once the last
    session has left."""

    def __init__(
        self,
        host: LifespanHost,
        *,
        shared_broker: Callable[[], SharedBroker | None],
        end_tasks: Callable[[], Awaitable[None]],
    ) -> None:
        self._host = host
        self._shared_broker = shared_broker
        self._end_tasks = end_tasks
        #: What the lifespan hook yielded (`ctx.lifespan_state`), while it is entered.
        self.state: Any = None
        #: How many sessions are being served (the hook is entered while there are any).
        self.users = 0
        #: Where sessions are served (the loop a worker thread's announcement hops to).
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock: asyncio.Lock | None = None
        self._beating: asyncio.Task[None] | None = None  # renews this process's lease

    @property
    def is_running(self) -> bool:
        """Whether the lifespan has been entered (some session is being served)."""
        return self.users > 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[None, None]:
        """Enter the lifespan hook once for however many sessions are being served."""
        # Made at the first use, inside the loop that serves: the Server may be built before
        # any loop runs (at import time), and a lock belongs to the loop it is first used in.
        if self._lock is None:
            self._lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        host = self._host
        # Under the lock: two sessions starting at once must not both see `users == 0` and
        # enter the hook twice, nor one start while the last one leaving is still tearing
        # the hook down.
        async with self._lock:
            if self.users == 0:
                await self._start_broker()
                await self._start_beating()
                try:
                    await self._agree_on_state_key()
                    if host.lifespan is not None or host.mounts:
                        self._stack = await self._enter_lifespans()
                except BaseException:
                    # A start that fails (the user's hook raised) serves nobody: the lease it
                    # took is given up and its renewal stopped, or the renewal would outlive it
                    # and the next start would run a second one beside it.
                    await self._stop_beating()
                    raise
            self.users += 1
        try:
            yield
        finally:
            # The last session out tears down in the reverse order of the first one in:
            # listens answered and tasks ended while the hook's resources still exist,
            # the hook left last.
            async with self._lock:
                self.users -= 1
                if self.users == 0:
                    host.close_listens()  # each answers its listen: a graceful end
                    await self._stop_beating()
                    await self._end_tasks()  # tasks end with the last session's server
                if self.users == 0 and self._stack is not None:
                    stack, self._stack = self._stack, None
                    await stack.aclose()  # mounted servers' first, in reverse order
                    self.state = None

    async def _start_broker(self) -> None:
        """A shared broker (`RedisBroker`) subscribes before the first session is served, so
        that the changes of other processes are heard from the start; one that cannot reach
        its server in `_BROKER_WAIT` seconds keeps trying while this one serves."""
        shared = self._shared_broker()
        if shared is not None and not await shared.start(timeout=_BROKER_WAIT):
            logger.error(
                "%s: the broker could not subscribe in %g s; serving on, and the changes "
                "other processes announce are heard once it can",
                self._host.name,
                _BROKER_WAIT,
            )

    async def _start_beating(self) -> None:
        """Take this process's lease in a shared store (`Stores.liveness`), and renew it every
        quarter of it while serving, so that other processes relaying the streams this one
        produces know it runs (`mcpkit.transports.deployment.relay`)."""
        liveness = self._host.store.liveness
        if liveness is None:
            return
        lease = self._host.store.lease
        # Counted before the first beat, which may fail: `_stop_beating` undoes the count
        # whether or not a beat ever succeeded.
        _leasing[self._host.store.url] += 1
        try:
            await liveness.beat(process_tag(), lease)
        except Exception:
            logger.warning(
                "%s: could not take this process's lease in the store; trying again every %g s",
                self._host.name,
                lease / 4,
                exc_info=True,
            )
        self._beating = asyncio.get_running_loop().create_task(
            _keep_beating(liveness, lease, self._host.name)
        )

    async def _agree_on_state_key(self) -> None:
        """Seal 2026-07-28 `requestState` with the key the store's processes share, when this
        server was given none (`StateSeal.agree`)."""
        store_secrets = self._host.store.secrets
        if store_secrets is None or self._host.state_seal.shared:
            return
        try:
            key = await store_secrets.secret(_STATE_KEY)
        # Not fatal: the server still works for clients that retry on the same process, and
        # the warning names what fails for the others.
        except Exception:
            logger.warning(
                "%s: could not read the shared requestState key from the store; sealing with "
                "this process's own (a retry reaching another process is refused)",
                self._host.name,
                exc_info=True,
            )
            return
        self._host.state_seal.agree(key)

    async def _stop_beating(self) -> None:
        """Stop renewing, and give the lease up unless another server of this process still
        serves from the same store: the streams of this process end with it."""
        beating, self._beating = self._beating, None
        liveness = self._host.store.liveness
        if beating is None or liveness is None:
            return
        # Awaited after the cancel, so no renewal is in flight when the lease is given up
        # (a late beat would take the lease again for a process that is stopping).
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        _leasing[self._host.store.url] -= 1
        if _leasing[self._host.store.url] > 0:
            return
        del _leasing[self._host.store.url]
        try:
            await liveness.end(process_tag())
        except Exception:
            name = self._host.name
            logger.warning("%s: could not give up this process's lease", name, exc_info=True)

    async def _enter_lifespans(self) -> contextlib.AsyncExitStack:
        """This server's lifespan, then those of the servers mounted in it, in order.

        The parent's first, so a mounted server's hook may use what the parent's set up;
        left in reverse. If one fails, those already entered are left before the error
        goes on, so a failed start leaves nothing half-open."""
        host = self._host
        # One exit stack for all: leaving it leaves every hook entered, in reverse order,
        # even if one of them raises on the way out.
        stack = contextlib.AsyncExitStack()
        try:
            if host.lifespan is not None:
                self.state = await stack.enter_async_context(host.lifespan(host))
            for mount in host.mounts:
                await stack.enter_async_context(mount.server.running())
        except BaseException:
            await stack.aclose()
            self.state = None
            raise
        return stack


async def _keep_beating(liveness: Liveness, lease: float, name: str) -> None:
    """Renew this process's lease every quarter of it until cancelled (`_stop_beating`).

    A failed renewal is logged and retried, never raised: the store may come back before
    the lease lapses, and the process serves on meanwhile. Renewing at a quarter leaves
    three more chances before other processes take this one for gone."""
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
