"""`ConfiguredProxy`: a `ProxyServer` of an `mcpServers` config (`mcpkit.proxy.config`), whose
upstream failing to start skips it instead of stopping the server it is mounted in.

A mounted proxy lists its upstream's entries as its parent starts (`ProxyServer.running`); a
plain one that cannot (the command is not found, the process exits, the URL refuses, the
handshake or a list fails, or the deadline passes) fails its parent's start, which is right for
one proxy a program mounts on purpose, and wrong for one server among many in a config file:
one broken entry would take the others down with it. Skipped, it shows nothing until its
parent starts again (its lifespan is entered anew), when it is tried again.

The parent enters its mounts' lifespans one after another, so `reaching_first` makes the
parent's own lifespan, entered before them, reach every upstream at once: a config of ten
servers that take seconds each to start (`npx` fetching a package) starts in the time of the
slowest, and each proxy's start then only lists its upstream's entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from mcpkit.proxy.proxy_server import ProxyServer
from mcpkit.proxy.upstream_channel import UpstreamTarget
from mcpkit.runtime.background import close_all

__all__ = ["ConfiguredProxy", "reaching_first"]

logger = logging.getLogger("mcpkit.proxy")


class ConfiguredProxy(ProxyServer):
    """A `ProxyServer` named after its entry in a config; mounted, an upstream that does not
    start within `connect_timeout` seconds (reached, initialized, its entries listed) is
    logged and skipped. `skipped` says why, while it is."""

    def __init__(self, target: UpstreamTarget, *, name: str, **options: Any) -> None:
        super().__init__(target, name=name, **options)
        self.start_timeout: float = options.get("connect_timeout", 30.0)
        #: Why the upstream was skipped at the latest start, or None.
        self.skipped: str | None = None
        #: When its start must be done by, set by `reach` (the loop's clock).
        self._deadline: float | None = None
        #: Why `reach` failed, if it did: its start is then skipped at once.
        self._unreachable: Exception | None = None

    async def reach(self) -> None:
        """Open the first upstream session now, within `start_timeout` (which then bounds the
        listing too), keeping a failure for `running` to report."""
        self._deadline = asyncio.get_running_loop().time() + self.start_timeout
        self._unreachable = None
        try:
            async with asyncio.timeout_at(self._deadline):
                await self.pool.facts()
        except Exception as exc:
            self._unreachable = exc

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[ConfiguredProxy, None]:
        """`ProxyServer.running`; mounted, an upstream that fails to start is skipped."""
        if self.mounted_in is None:  # served on its own: its failures are its client's
            async with super().running():
                yield self
            return
        deadline, self._deadline = self._deadline, None
        unreachable, self._unreachable = self._unreachable, None
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.start_timeout
        async with contextlib.AsyncExitStack() as stack:
            try:
                if unreachable is not None:
                    raise unreachable
                async with asyncio.timeout_at(deadline):
                    await stack.enter_async_context(super().running())
            except Exception as exc:
                self._skip(exc)
            else:
                self.skipped = None
            yield self

    def _skip(self, exc: Exception) -> None:
        """Log why, and drop what a partial listing registered (its upstream is gone)."""
        why = (
            f"it did not start within {self.start_timeout:g} s (connect_timeout)"
            if isinstance(exc, TimeoutError)
            else str(exc) or type(exc).__name__
        )
        self.skipped = why
        assert self.mounted_in is not None
        logger.warning(
            "%s: the server %r of the config is skipped until the server starts again: %s",
            self.mounted_in.parent.name,
            self.name,
            why,
        )
        # Every entry, those its `include_tags`/`exclude_tags` hide included: one left behind
        # would still declare its capability and be shown by a later `enable()`.
        for registry in (self.tools, self.prompts, self.resources, self.templates):
            for key in registry.own_keys():
                registry.remove(key)


Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def reaching_first(proxies: Sequence[ConfiguredProxy], inner: Lifespan | None) -> Lifespan:
    """The lifespan of the server `proxies` are mounted in: reach every upstream at once
    (`ConfiguredProxy.reach`), then enter `inner`, the lifespan the user gave, if any. The
    upstream sessions opened are closed on the way out, should a proxy's own start never
    come (a lifespan entered after this one failed)."""

    @contextlib.asynccontextmanager
    async def lifespan(server: Any) -> AsyncGenerator[Any, None]:
        try:
            async with asyncio.TaskGroup() as group:
                for proxy in proxies:
                    group.create_task(proxy.reach())
            if inner is None:
                yield None
            else:
                async with inner(server) as state:
                    yield state
        finally:
            # All at once, and each to its end even when this is cancelled: a stdio upstream
            # is then killed and reaped, not left running because another closed first.
            await close_all(proxy.pool.aclose() for proxy in proxies)

    return lifespan
