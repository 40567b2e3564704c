"""The client's `subscriptions/listen` stream, in the stateless revision (2026-07-28).

Spec: basic/patterns/subscriptions. What the GET stream and `resources/subscribe` did in the
session era is one long-lived request here, whose filter names the notifications wanted
(`toolsListChanged`, `promptsListChanged`, `resourcesListChanged`, `resourceSubscriptions`);
the server acknowledges with `notifications/subscriptions/acknowledged` first. Changing the
filter (a new resource subscription, say) opens a new stream and ends the old one (closing
it is its cancellation over HTTP; `notifications/cancelled` on stdio).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

if TYPE_CHECKING:
    from mcpkit.runtime.connection import Connection
    from mcpkit.types import ServerCapabilities

__all__ = ["Listener"]

logger = logging.getLogger("mcpkit.client")

#: Seconds a new stream may take to be acknowledged before `subscribe` returns anyway.
_ACK_WAIT: Final = 10.0


class Sender(Protocol):
    """What the listener uses of `mcpkit.Client` to send its request."""

    @property
    def connection(self) -> Connection: ...
    def stateless_params(self, params: Any) -> dict[str, Any]: ...


class Client(Sender, Protocol):
    """What the listener uses of `mcpkit.Client` at connect."""

    @property
    def server_capabilities(self) -> ServerCapabilities: ...
    @property
    def on_notification(self) -> object: ...


class Listener:
    """At most one open `subscriptions/listen` request of one client, and its filter."""

    def __init__(self) -> None:
        self.list_changed: set[str] = set()  # "tools", "prompts", "resources"
        self.resources: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._acked = asyncio.Event()

    def filter(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {f"{kind}ListChanged": True for kind in sorted(self.list_changed)}
        if self.resources:
            wanted["resourceSubscriptions"] = sorted(self.resources)
        return wanted

    async def start(self, client: Client) -> None:
        """At connect: listen for the list changes the server declares, if the client has an
        `on_notification` to hear them (they also drop cached lists)."""
        if client.on_notification is None:
            return
        caps = client.server_capabilities
        for kind in ("tools", "prompts", "resources"):
            declared = getattr(caps, kind, None)
            if declared is not None and getattr(declared, "list_changed", None):
                self.list_changed.add(kind)
        if self.list_changed:
            await self.reopen(client)

    async def reopen(self, client: Sender) -> None:
        """End the open stream, if any, and open one with the current filter; returns once
        the server acknowledged it (or after `_ACK_WAIT` seconds)."""
        await self.stop()
        wanted = self.filter()
        if not wanted:
            return
        self._acked = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(client, wanted))
        acked = loop.create_task(self._acked.wait())
        try:
            await asyncio.wait(
                [self._task, acked], timeout=_ACK_WAIT, return_when="FIRST_COMPLETED"
            )
        finally:
            acked.cancel()

    def acknowledged(self, params: Any) -> None:
        self._acked.set()

    async def _run(self, client: Sender, wanted: dict[str, Any]) -> None:
        try:
            # No timeout: the stream stays open until we close it or the server ends it.
            await client.connection.request(
                "subscriptions/listen",
                client.stateless_params({"notifications": wanted}),
                timeout=None,
                result_type=msgspec.Raw,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("the subscriptions/listen stream ended: %s", exc)
        finally:
            self._acked.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
