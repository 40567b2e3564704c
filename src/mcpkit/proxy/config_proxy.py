"""`ConfiguredProxy`: a `ProxyServer` of an `mcpServers` config (`mcpkit.proxy.config`), whose
upstream failing to start skips it instead of stopping the server it is mounted in.

A mounted proxy lists its upstream's entries as its parent starts (`ProxyServer.running`); a
plain one that cannot (the command is not found, the process exits, the URL refuses, the
handshake or a list fails, or the deadline passes) fails its parent's start, which is right for
one proxy a program mounts on purpose, and wrong for one server among many in a config file:
one broken entry would take the others down with it. Skipped, it shows nothing until its
parent starts again (its lifespan is entered anew), when it is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

from mcpkit.proxy.proxy_server import ProxyServer
from mcpkit.proxy.upstream_channel import UpstreamTarget

__all__ = ["ConfiguredProxy"]

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

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[ConfiguredProxy, None]:
        """`ProxyServer.running`; mounted, an upstream that fails to start is skipped."""
        if self.mounted_in is None:  # served on its own: its failures are its client's
            async with super().running():
                yield self
            return
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(self.start_timeout):
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
        for registry in (self.tools, self.prompts, self.resources, self.templates):
            for key, _ in registry.entries():
                registry.remove(key)
