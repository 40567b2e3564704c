"""The client's `subscriptions/listen` stream, in the modern revision (2026-07-28).

Spec: basic/patterns/subscriptions. What the GET stream and `resources/subscribe` did in the
legacy era is one long-lived request here, whose filter names the notifications wanted
(`toolsListChanged`, `promptsListChanged`, `resourcesListChanged`, `resourceSubscriptions`);
the server acknowledges with `notifications/subscriptions/acknowledged` first. Changing the
filter (a new resource subscription, say) opens a new stream and ends the old one (closing
it is its cancellation over HTTP; `notifications/cancelled` on stdio).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from mcpkit.errors import ConnectionClosed, McpError

if TYPE_CHECKING:
    from mcpkit.runtime.connection import Connection
    from mcpkit.types import ServerCapabilities

__all__ = ["Listener"]

logger = logging.getLogger("mcpkit.client")

#: Seconds a new stream may take to be acknowledged before `subscribe` returns anyway.
_ACK_WAIT: Final = 10.0
#: Seconds before listening again after a stream ended, doubling up to the most (and back to
#: the least after a stream that was acknowledged).
RELISTEN_DELAY: Final = 0.5
RELISTEN_MAX_DELAY: Final = 30.0
#: Refusals that another try would get again: the stream is not reopened after them.
_FINAL: Final = frozenset({-32601, -32602, -32021, -32022})


class Sender(Protocol):
    """What the listener sends its request with (the client's modern era)."""

    @property
    def connection(self) -> Connection: ...
    def modern_params(self, params: Any) -> dict[str, Any]: ...


class Listener:
    """At most one open `subscriptions/listen` request of one client, and its filter."""

    def __init__(self) -> None:
        self.list_changed: set[str] = set()  # "tools", "prompts", "resources"
        self.resources: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._acked = asyncio.Event()
        #: Whether the current stream was acknowledged (a stream that worked resets the delay).
        self._acked_stream = False
        #: The refusal that ended the current stream for good (`_FINAL`), for `reopen`.
        self._refused: McpError | None = None

    def filter(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {f"{kind}ListChanged": True for kind in sorted(self.list_changed)}
        if self.resources:
            wanted["resourceSubscriptions"] = sorted(self.resources)
        return wanted

    async def start(self, client: Sender, caps: ServerCapabilities, heard: bool) -> None:
        """At connect: listen for the list changes the server declares in `caps`, if they are
        `heard` (the client has an `on_notification`; they also drop cached lists)."""
        if not heard:
            return
        declared = {"tools": caps.tools, "prompts": caps.prompts, "resources": caps.resources}
        for kind, feature in declared.items():
            if feature is not None and feature.list_changed:
                self.list_changed.add(kind)
        if self.list_changed:
            try:
                await self.reopen(client)
            except McpError:
                pass  # logged: list changes are a convenience, the connection stands

    async def reopen(self, client: Sender) -> None:
        """End the open stream, if any, and open one with the current filter; returns once
        the server acknowledged it (or after `_ACK_WAIT` seconds). McpError when the server
        refused it for good (a filter past its limits, say: -32602 naming the limit)."""
        await self.stop()
        wanted = self.filter()
        if not wanted:
            return
        self._acked = asyncio.Event()
        self._refused = None
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(client, wanted))
        acked = loop.create_task(self._acked.wait())
        try:
            await asyncio.wait(
                [self._task, acked], timeout=_ACK_WAIT, return_when="FIRST_COMPLETED"
            )
        finally:
            acked.cancel()
        if self._task.done() and self._refused is not None:
            raise self._refused

    async def change(self, client: Sender, resources: set[str]) -> None:
        """Listen with `resources` as the resource subscriptions from now on; when the server
        refuses that filter, the stream of the previous one is opened again and the refusal
        raised, so a subscription past a server's limits loses none of those held before."""
        before, self.resources = self.resources, resources
        try:
            await self.reopen(client)
        except McpError:
            self.resources = before
            with contextlib.suppress(McpError):
                await self.reopen(client)
            raise

    def acknowledged(self, params: Any) -> None:
        self._acked.set()
        self._acked_stream = True

    async def _run(self, client: Sender, wanted: dict[str, Any]) -> None:
        """Listen until closed: a stream the server ends (an answer: it shut the subscription
        down, a proxy's upstream went, say) or that drops is opened again, after a delay that
        doubles while streams end before they are acknowledged (basic/patterns/subscriptions:
        the server holds no subscription across a reconnection, so the client re-sends it).
        A refusal another try would get again, or the connection's end, stops it."""
        delay = RELISTEN_DELAY
        while True:
            try:
                # No timeout: the stream stays open until we close it or the server ends it.
                await client.connection.request(
                    "subscriptions/listen",
                    client.modern_params({"notifications": wanted}),
                    timeout=None,
                    result_type=msgspec.Raw,
                )
                logger.info("the server ended the subscriptions/listen stream; listening again")
            except asyncio.CancelledError:
                raise
            except ConnectionClosed:
                return  # the client is closing, or the server is gone for good
            except McpError as exc:
                if exc.code in _FINAL:
                    logger.warning("the server refused subscriptions/listen: %s", exc)
                    self._refused = exc
                    return
                logger.warning("the subscriptions/listen stream ended: %s; listening again", exc)
            except Exception as exc:
                logger.warning("the subscriptions/listen stream ended: %s; listening again", exc)
            finally:
                self._acked.set()
            if self._acked_stream:
                delay = RELISTEN_DELAY
            self._acked_stream = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, RELISTEN_MAX_DELAY)
            self._acked = asyncio.Event()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
