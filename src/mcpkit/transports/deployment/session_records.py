"""The records of an app's sessions in its `session_store`, for a deployment whose sessions
outlive one process: several processes serving one session (behind a balancer, each request
to any of them), or one restarted on its store. A session's record is written when the
session opens and whenever a request changed it, before that request's answer goes out
(read-your-writes: the client's next request may reach another process); kept alive while
the session is in use; read back when a request names a session this process does not hold
(which is then rebuilt from it), or when another process says it changed it (the broker's
`SESSION_CHANGED`); and deleted by a DELETE, which ends the session's copies elsewhere too.
The spec's transport section knows one server; this is what a deployment of several adds.

It relies on: of the binding, the app's live sessions (`hosting.AppSessions`: its registry,
`lookup` and `open`, the checks of a request's revision, the caps a restored session counts
in: `client_caps.ClientCaps`, beside this), which name this part by what they ask of it
(`hosting.RecordKeeping`, and `streams.AnswerGate` for an answer that waits for a write);
the stores (`mcpkit.stores.sessions`: the records, and the stores that can keep one alive
without writing it, or tell a session deleted from a record lost) and the server's broker
(`mcpkit.stores.broker`, `hosted_server.HostedServer`), which tells the other processes."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence

from mcpkit.errors import LocalProtocolError
from mcpkit.runtime.background import log_failure
from mcpkit.stores.broker import SESSION_CHANGED, Change, MemoryBroker
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.sessions import (
    RememberingSessionStore,
    SessionStore,
    TouchableSessionStore,
    owner_key,
)
from mcpkit.transports.deployment.hosted_server import HostedServer
from mcpkit.transports.http.checks import Refusal
from mcpkit.transports.http.hosting import AppSessions, wrong_version
from mcpkit.transports.http.live_sessions import HttpSession
from mcpkit.transports.http.streams import HttpChannel

__all__ = ["RecordKeeper"]

logger = logging.getLogger("mcpkit.http")


class RecordKeeper:
    """The records of `hosting`'s sessions in `store` (`hosting.RecordKeeping`, handed to the
    app's POST and GET/DELETE parts), told to the other processes by `server`'s broker:
    `idle_timeout` is the app's `session_idle_timeout`,
    after which a record not seen expires (`expire`), and a quarter of which a session in
    use that changed nothing goes between two keep-alives (`save`)."""

    def __init__(
        self, server: HostedServer, hosting: AppSessions, store: SessionStore, idle_timeout: float
    ) -> None:
        self.hosting = hosting
        self.server = server
        self.sessions = hosting.sessions
        self.store = store
        self.idle_timeout = idle_timeout
        # Chosen once: a store that keeps a record alive without writing it, or None (one
        # of a user's own, without `touch`: read and written back, as before there was one).
        self._touchable = store if isinstance(store, TouchableSessionStore) else None
        # Chosen once too: a store that can tell a session deleted from a record lost.
        self._remembering = store if isinstance(store, RememberingSessionStore) else None
        self._refreshing: set[asyncio.Task[None]] = set()  # sessions read again (`_on_change`)
        self._writing: dict[str, asyncio.Future[None]] = {}  # records being written, by id
        # This app among the processes of a deployment, in its SESSION_CHANGED.
        self._origin = secrets.token_hex(8)

    async def find(
        self,
        sid: str,
        headers: Sequence[tuple[bytes, bytes]],
        owner: object,
        client: tuple[str, int] | None,
    ) -> HttpSession | Refusal:
        """`AppSessions.lookup`, and when the app does not hold the session but the store
        has its record (and `owner` opened it), the session rebuilt from the record."""
        hosting = self.hosting
        found = hosting.lookup(sid, headers, owner)
        if not isinstance(found, Refusal):
            if not found.handle.record.initialized:
                # The client's notifications/initialized may have gone to another process,
                # and this request may be here before its SESSION_CHANGED: read the record.
                await self.refresh(sid, found)
            return found
        if self.sessions.get(sid) is not None:
            return found
        record = await self.store.get(sid)
        if record is None or record.owner != owner_key(owner) or record.revision is None:
            return found
        if self.sessions.get(sid) is not None:  # restored by another request meanwhile
            return hosting.lookup(sid, headers, owner)
        room = hosting.client_caps
        caps = room.of(owner, None if client is None else client[0])
        refusal = await room.make_room(self.sessions, hosting.clock(), caps)
        if refusal is not None:
            return refusal
        try:
            session = hosting.open(record)
        except LocalProtocolError as exc:  # a revision this server no longer speaks, say
            # (an id's head only: the whole id is what a client shows to reach the session)
            logger.warning("session %s... could not be restored: %s", sid[:8], exc)
            return found
        session.gate = self  # (a new session's is set once its record is first written)
        if not self.sessions.add(sid, session, None if caps is None else caps[0]):
            await session.end()
            return room.refusal("max_sessions")
        # As read (the handle starts clean): nothing to write back until it changes here.
        logger.info("session %s... restored from its record", sid[:8])
        return wrong_version(session, headers) or session

    def before_answer(self, channel: HttpChannel) -> Awaitable[None] | None:
        """A session's record is written before a request's answer goes out when the request
        changed it (a log level, a subscription, the session's own visibility rules), or
        while a write is still in flight: the client's next request may reach another
        process, which must read what this one changed (read-your-writes). A request that
        changed nothing waits for nothing. (`streams.AnswerGate`, set on the sessions that
        have a record in the store.)"""
        assert isinstance(channel, HttpSession)
        handle = channel.handle
        if handle.dirty:
            return self.save_quietly(channel)
        writing = self._writing.get(handle.id)
        # (shielded: a waiter cancelled does not cancel the write's other waiters)
        return None if writing is None else asyncio.shield(writing)

    async def save(self, session: HttpSession) -> None:
        """Write the session's record to the store when it changed since it was built, read
        or last written (`dirty`); when a quarter of the idle timeout passed, keep it alive
        (`_keep_alive`: a store expires records by when they were last seen, and those in
        use must stay), or end the copy of a session another process ended.

        A copy of the session that another process changed (restored from the record, or
        read again on its SESSION_CHANGED) is clean as read: it writes nothing back, so an
        old copy never overwrites what the other process wrote since. The flag is cleared
        before the write, so a change made while the write is in flight marks it again."""
        handle = session.handle
        record = handle.record
        now = time.time()
        changed = handle.dirty
        if not changed:
            if now - record.last_seen < self.idle_timeout / 4:
                return
            if await self._keep_alive(session, now):
                return
        record.last_seen = now
        handle.dirty = False
        writing = asyncio.get_running_loop().create_future()
        self._writing[record.id] = writing
        try:
            await self.store.put(record)
        except BaseException:
            handle.dirty = True  # not written: the next request writes it again
            raise
        finally:
            if self._writing.get(record.id) is writing:
                del self._writing[record.id]
            writing.set_result(None)
        session.gate = self  # written: from now on its answers wait for its changes
        if changed:
            self.publish_change(record.id)

    async def _keep_alive(self, session: HttpSession, now: float) -> bool:
        """Keep the record of a copy that changed nothing alive (`save`): True when that is
        done, or when the copy ended instead; False when the record must be written (none is
        stored, or the store cannot touch one). What another process wrote since this copy was
        read (its SESSION_CHANGED not yet here) is taken, not overwritten with this copy's old
        fields: a `TouchableSessionStore` writes nothing of the record, so even a write that
        lands just before the touch stays; another store is read, then written (`save`), and
        a write landing between the two is undone.

        No record stored: the store lost it (a Redis restarted without persistence), and the
        copy writes it again; or a `DELETE` served by another process removed it, its news not
        yet here, and the copy, which must not bring the session back, ends as it would on that
        news (`refresh`). Only a `RememberingSessionStore` tells the two apart."""
        handle = session.handle
        touchable = self._touchable
        if touchable is not None:
            stored = await touchable.touch(handle.id, now)
        else:
            stored = await self.store.get(handle.id)
        if stored is None:
            remembering = self._remembering
            if remembering is None or not await remembering.ended(handle.id):
                return False
            sid = handle.id
            logger.info("session %s... was ended by another process: ended here too", sid[:8])
            if self.sessions.get(sid) is session:  # (else already ended here)
                self.sessions.remove(sid)
                await session.end()
            return True
        if not handle.dirty:  # (else changed here meanwhile)
            handle.refresh(stored)
        if touchable is None:
            return False
        # Nothing written: a change made here meanwhile stays `dirty`, for its request's
        # own write (`before_answer`), which tells the other processes.
        handle.record.last_seen = now
        session.gate = self  # (a record exists: its answers wait for its changes)
        return True

    async def save_quietly(self, session: HttpSession) -> None:
        """`save` once the response has gone out: a store that fails is logged, since no
        answer can carry it any more, and the next request writes the record again."""
        try:
            await self.save(session)
        except StoreUnavailable as exc:
            sid = session.handle.id
            logger.warning("the record of session %s... was not saved: %s", sid[:8], exc)

    async def delete(self, sid: str) -> None:
        """Delete the record of session `sid`, ended here by a DELETE: the copies other
        processes hold end too (`publish_change`)."""
        await self.store.delete(sid)
        self.publish_change(sid)

    async def expire(self) -> None:
        """Drop the records not seen for the idle timeout (the app's idle sweep: a record
        stays while its session lives in some process, as `save` keeps its `last_seen`
        recent)."""
        await self.store.expire(time.time() - self.idle_timeout)

    def publish_change(self, sid: str) -> None:
        """Tell the other processes holding session `sid` (if any can: a shared broker) to
        read its record again: it changed, or it is gone."""
        broker = self.server.broker
        if not isinstance(broker, MemoryBroker):
            broker.publish(Change(SESSION_CHANGED, f"{self._origin} {sid}"))

    def listen(self) -> Callable[[], None]:
        """Hear the other processes' `SESSION_CHANGED` (while the app runs: its lifespan);
        what stops it."""
        return self.server.broker.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        """The broker's `SESSION_CHANGED` from another app (its `uri` is the app's `_origin`
        and the session id): a session this app holds is read again."""
        if change.method != SESSION_CHANGED or change.uri is None:
            return
        origin, _, sid = change.uri.partition(" ")
        session = self.sessions.get(sid) if origin != self._origin else None
        if session is not None:
            task = asyncio.get_running_loop().create_task(self.refresh(sid, session))
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)
            task.add_done_callback(log_failure)  # nobody awaits it

    async def refresh(self, sid: str, session: HttpSession) -> None:
        """Take what another process changed in the record of `session`: its changes, or its
        end (a DELETE served there: the copy here ends too)."""
        try:
            record = await self.store.get(sid)
        except Exception:  # the store is unreachable: the next change tries again
            logger.warning("could not read the record of session %s...", sid[:8], exc_info=True)
            return
        if self.sessions.get(sid) is not session:
            return
        if record is None:
            self.sessions.remove(sid)
            await session.end()
            return
        # As read (`refresh` leaves the handle clean), so the next `save` writes nothing
        # back: the copy here must not write its own over what another process wrote.
        session.handle.refresh(record)
