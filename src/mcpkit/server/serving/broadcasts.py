"""`Broadcasts`: what a `Server` tells its sessions, an object the `Server` holds.

A change (a list changed, a resource was updated) is published to the server's broker, which
hands it to every process serving the server; each delivers it to its own sessions that may
be told (past `initialize`; for a resource, subscribed to it), from background tasks, so a
slow client holds up nobody. Apart from `server` because none of it is on a request's way:
it runs when something changes. What it needs of the server is `BroadcastHost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

from mcpkit.stores.broker import SESSION_CHANGED, Change

if TYPE_CHECKING:
    from mcpkit.runtime.background import BackgroundTasks
    from mcpkit.server.catalog.listeners import Listeners
    from mcpkit.server.catalog.mounts import Mount
    from mcpkit.server.serving.lifespan import ServerLifespan
    from mcpkit.server.session import HeldSessions
    from mcpkit.stores.broker import Broker

__all__ = ["BroadcastHost", "Broadcasts"]

logger = logging.getLogger("mcpkit.server")


class Announcer(Protocol):
    """The server a broadcasting server is mounted in, as its broadcasts reach it."""

    async def notify_resource_updated(self, uri: str) -> None: ...


class BroadcastHost(Protocol):
    """What `Broadcasts` reads of its server (`mcpkit.Server`) at each change: its
    `broker` may be replaced before serving starts (`use_store`), and it may be mounted
    (`mount`) after it is built."""

    @property
    def broker(self) -> Broker: ...

    @property
    def mounted_in(self) -> Mount[Announcer] | None: ...


class Broadcasts:
    """Changes announced to the sessions of `host`: those of `sessions`, and the open
    2026-07-28 listens of `listeners`, each sent from a task of `tasks`; only while `span`
    (the host's lifespan) is entered."""

    def __init__(
        self,
        host: BroadcastHost,
        *,
        span: ServerLifespan,
        sessions: HeldSessions,
        listeners: Listeners,
        tasks: BackgroundTasks,
    ) -> None:
        self._host = host
        self._span = span
        self._sessions = sessions
        self._listeners = listeners
        self._tasks = tasks

    def announce(self, method: str) -> None:
        """Announce that a list changed (from sync code too: a registration in a `def`
        handler's worker thread hops to the loop first). Only while serving: registrations
        made before (at import, in every process of a deployment) change nothing a client
        has seen, and must not tell every other process's clients that they did."""
        span = self._span
        if not span.is_running:
            return
        # The broker and the sessions belong to the serving loop and are not thread-safe:
        # a call from another thread is handed to that loop rather than run here.
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Called from a sync handler's worker thread, or when not serving at all.
            loop = span.loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self.announce, method)
            return
        self._host.broker.publish(Change(method))

    async def resource_updated(self, uri: str) -> None:
        """`Server.notify_resource_updated`: tell the sessions subscribed to `uri`."""
        host = self._host
        # Through the broker, not straight to the sessions: the subscribers may be served
        # by other processes of the same deployment.
        host.broker.publish(Change("notifications/resources/updated", uri))
        mounted_in = host.mounted_in
        if mounted_in is not None:  # the parent's subscribers know it by another URI
            shown = mounted_in.uri(uri)
            if shown is not None:
                await mounted_in.parent.notify_resource_updated(shown)

    def deliver(self, change: Change) -> None:
        """The broker's change, to each of this process's sessions that may be told: those
        past `initialize`, and for a resource, those subscribed to it. Sent from tasks, so a
        slow client holds up nobody; repeated changes before a session's announcement
        leaves make one."""
        # Listens first: a 2026-07-28 client hears only through its listen, a 2025-11-25
        # client through its session, so each change goes to both kinds.
        if change.method == SESSION_CHANGED:  # for the HTTP app holding the session
            return
        self._listeners.deliver(change)  # 2026-07-28 subscriptions/listen
        uri = change.uri
        # Over a copy: a session may end (and leave the set) while this loop runs.
        for handle in list(self._sessions):
            if not handle.notifiable or (uri is not None and uri not in handle.subscriptions):
                continue
            announcement = handle.announce(change.method, uri)
            if announcement is not None:
                self._tasks.spawn(_quietly(announcement, change.method))


async def _quietly(sending: Awaitable[None], method: str) -> None:
    """Await one announcement, a failure logged at debug level and dropped: a notification
    is best effort, and a closed session must not turn into an error in a background task
    that nobody awaits."""
    try:
        await sending
    except Exception:  # the session may have ended meanwhile
        logger.debug("could not send %s", method, exc_info=True)
