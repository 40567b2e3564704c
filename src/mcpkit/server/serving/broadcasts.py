"""`SessionBroadcasts`: what a `Server` tells its sessions, a base of `Server`.

A change (a list changed, a resource was updated) is published to the server's broker, which
hands it to every process serving the server; each delivers it to its own sessions that may
be told (past `initialize`; for a resource, subscribed to it), from background tasks, so a
slow client holds up nobody. The client's own notifications (roots changed) come in here too.
Apart from `server` because none of it is on a request's way: it runs when something changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from mcpkit.protocol.events import NotificationReceived
from mcpkit.server.catalog.decorators import FeatureRegistrations
from mcpkit.server.catalog.listeners import Listeners
from mcpkit.server.mount import forward_update
from mcpkit.stores.broker import SESSION_CHANGED, Change

if TYPE_CHECKING:
    from mcpkit.server.mount import Mount
    from mcpkit.server.serving.lifespan import ServerLifespan
    from mcpkit.server.session import HeldSessions, ServerSessionHandle
    from mcpkit.stores.broker import Broker

__all__ = ["SessionBroadcasts"]

logger = logging.getLogger("mcpkit.server")


class SessionBroadcasts(FeatureRegistrations):
    """Changes announced to a server's sessions, and their notifications to it (the
    attributes are set by `Server.__init__`)."""

    sessions: HeldSessions
    listeners: Listeners
    broker: Broker
    mounted_in: Mount | None
    _span: ServerLifespan

    def _on_notification(self, handle: ServerSessionHandle, ev: NotificationReceived) -> None:
        if ev.method == "notifications/roots/list_changed" and self.on_roots_changed is not None:
            self._tasks.spawn(self.on_roots_changed(handle))

    def _broadcast(self, method: str) -> None:
        """Announce that a list changed (from sync code too: a registration in a `def`
        handler's worker thread hops to the loop first). Only while serving: registrations
        made before (at import, in every process of a deployment) change nothing a client
        has seen, and must not tell every other process's clients that they did."""
        if not self._span.is_running:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Called from a sync handler's worker thread, or when not serving at all.
            loop = self._span.loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._broadcast, method)
            return
        self.broker.publish(Change(method))

    async def notify_resource_updated(self, uri: str) -> None:
        """Tell every session subscribed to `uri` that it changed (server/resources). Never
        waits for a client: each session's notification is queued in a task, and one still
        waiting for a slow client to read makes further ones for the same URI redundant
        (`ServerSessionHandle.announce`)."""
        self.broker.publish(Change("notifications/resources/updated", uri))
        if self.mounted_in is not None:  # the parent's subscribers know it by another URI
            forwarded = forward_update(self.mounted_in, uri)
            if forwarded is not None:
                await forwarded

    def _deliver(self, change: Change) -> None:
        """The broker's change, to each of this process's sessions that may be told: those
        past `initialize`, and for a resource, those subscribed to it. Sent from tasks, so a
        slow client holds up nobody; repeated changes before a session's announcement
        leaves make one."""
        if change.method == SESSION_CHANGED:  # for the HTTP app holding the session
            return
        self.listeners.deliver(change)  # 2026-07-28 subscriptions/listen
        uri = change.uri
        for handle in list(self.sessions):
            if not handle.notifiable or (uri is not None and uri not in handle.subscriptions):
                continue
            announcement = handle.announce(change.method, uri)
            if announcement is not None:
                self._tasks.spawn(_quietly(announcement, change.method))


async def _quietly(sending: Awaitable[None], method: str) -> None:
    try:
        await sending
    except Exception:  # the session may have ended meanwhile
        logger.debug("could not send %s", method, exc_info=True)
