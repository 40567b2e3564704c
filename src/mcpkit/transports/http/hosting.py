"""What a Streamable HTTP endpoint does with its sessions around requests: find one (for the
revision it negotiated), open one, forget one whose runtime ended, carry a stream on a response
(noted, so that a shutdown can end it). `McpHttpApp` holds this beside its requests' parts
(`post`, `get_delete`); what hosting the app adds over its lifetime (the server's lifespan,
the idle sweep, the shutdown) is the deployment's (`transports.deployment.app_lifespan`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from mcpkit._asgi import Receive, Send, quote_header, values_of
from mcpkit.errors import LocalProtocolError
from mcpkit.runtime.background import log_failure
from mcpkit.stores.broker import SESSION_CHANGED, Change, MemoryBroker
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.sessions import (
    RememberingSessionStore,
    SessionRecord,
    SessionStore,
    TouchableSessionStore,
    owner_key,
)
from mcpkit.transports.http._exchange import SSE_HEADERS, ClientCaps, Resumption, send_sse
from mcpkit.transports.http.checks import HeaderMemos, Refusal, refuse, unknown_session
from mcpkit.transports.http.live_sessions import (
    HostServer,
    HttpSession,
    SessionRegistry,
    make_room,
    no_room,
)
from mcpkit.transports.http.streams import HttpChannel, Stream, StreamSettings

__all__ = ["AppSessions"]

logger = logging.getLogger("mcpkit.http")


class AppSessions:
    """The sessions part of `McpHttpApp`: its live sessions and their records, and the streams
    its responses carry.

    `sessions` is the registry of live sessions, `session_store` where their records go (None:
    nowhere), `client_caps` the per-client caps a restored session counts in,
    `session_idle_timeout` when an idle one ends, `streams` the settings of their streams,
    `json_response` how they answer."""

    def __init__(
        self,
        server: HostServer,
        *,
        sessions: SessionRegistry[HttpSession],
        session_store: SessionStore | None,
        client_caps: ClientCaps,
        session_idle_timeout: float,
        streams: StreamSettings,
        json_response: bool,
        clock: Callable[[], float],
    ) -> None:
        self.server = server
        self.sessions = sessions
        #: What the checks of this app's requests remember of the headers its clients sent.
        self.header_memos = HeaderMemos()
        self.session_store = session_store
        # Chosen once: a store that keeps a record alive without writing it, or None (one
        # of a user's own, without `touch`: read and written back, as before there was one).
        self._touchable = (
            session_store if isinstance(session_store, TouchableSessionStore) else None
        )
        # Chosen once too: a store that can tell a session deleted from a record lost.
        self._remembering = (
            session_store if isinstance(session_store, RememberingSessionStore) else None
        )
        self.client_caps = client_caps
        self.session_idle_timeout = session_idle_timeout
        self.streams = streams
        self.json_response = json_response
        self.clock = clock
        self.open_streams: set[Stream] = set()  # those a response carries now
        self._refreshing: set[asyncio.Task[None]] = set()  # sessions read again (`on_change`)
        self._writing: dict[str, asyncio.Future[None]] = {}  # records being written, by id
        # This app among the processes of a deployment, in its SESSION_CHANGED.
        self._origin = secrets.token_hex(8)
        # What each session calls when its channel closes: one bound method for all of them.
        self._forget_session = self._forget

    def lookup(
        self,
        sid: str,
        headers: Sequence[tuple[bytes, bytes]],
        owner: object = None,
        each: Mapping[bytes, bytes] | None = None,
        version: object = None,
    ) -> HttpSession | Refusal:
        """The live session `sid` names, if `owner` opened it (who the request's token speaks
        for: another identity learns nothing, not even that it exists) and the request speaks
        its negotiated revision (`each`: the headers by name when no name repeats, `distinct`;
        `version`: the revision its MCP-Protocol-Version names, when `protocol_version` has
        read it already)."""
        session = self.sessions.get(sid)
        if session is None:
            return unknown_session(sid)
        # The record read here, not through `HttpSession.owner` and `revision`: every POST asks.
        record = session.handle.record
        # (no auth: no owner, and no call to say so)
        if record.owner != (None if owner is None else owner_key(owner)):
            return unknown_session(sid)
        if each is not None:  # the usual case: the header sent once, as negotiated
            terms = record.terms
            if terms is None or version == terms.revision:  # (the header not read again)
                return session
            sent = each.get(b"mcp-protocol-version")
            if sent is None or sent.decode("latin-1") == terms.revision:
                return session
        return _wrong_version(session, headers, each) or session

    async def find(
        self,
        sid: str,
        headers: Sequence[tuple[bytes, bytes]],
        owner: object,
        client: tuple[str, int] | None,
    ) -> HttpSession | Refusal:
        """`_lookup`, and when this app does not hold the session but its `session_store`
        has its record (and `owner` opened it), the session rebuilt from the record."""
        found = self.lookup(sid, headers, owner)
        store = self.session_store
        if store is None:
            return found
        if not isinstance(found, Refusal):
            if not found.handle.record.initialized:
                # The client's notifications/initialized may have gone to another process,
                # and this request may be here before its SESSION_CHANGED: read the record.
                await self.refresh(sid, found)
            return found
        if self.sessions.get(sid) is not None:
            return found
        record = await store.get(sid)
        if record is None or record.owner != owner_key(owner) or record.revision is None:
            return found
        if self.sessions.get(sid) is not None:  # restored by another request meanwhile
            return self.lookup(sid, headers, owner)
        caps = self.client_caps.of(owner, None if client is None else client[0])
        full = await make_room(self.sessions, self.clock(), caps)
        if full is not None:
            return no_room(full)
        try:
            session = self.open(record)
        except LocalProtocolError as exc:  # a revision this server no longer speaks, say
            # (an id's head only: the whole id is what a client shows to reach the session)
            logger.warning("session %s... could not be restored: %s", sid[:8], exc)
            return found
        if not self.sessions.add(sid, session, None if caps is None else caps[0]):
            await session.end()
            return no_room("max_sessions")
        # As read (the handle starts clean): nothing to write back until it changes here.
        logger.info("session %s... restored from its record", sid[:8])
        return _wrong_version(session, headers) or session

    def open(self, record: SessionRecord | None = None) -> HttpSession:
        """A new session, or with `record` the one it describes, rebuilt."""
        session = HttpSession(
            self.server,
            restore=record,
            json_response=self.json_response,
            clock=self.clock,
            settings=self.streams,
            on_close=self._forget_session,
        )
        self.server.sessions.add(session.handle)
        if record is not None and self.session_store is not None:
            session.gate = self  # (a new session's is set once its record is first written)
        return session

    def before_answer(self, channel: HttpChannel) -> Awaitable[None] | None:
        """A session's record is written before a request's answer goes out when the request
        changed it (a log level, a subscription, the session's own visibility rules), or
        while a write is still in flight: the client's next request may reach another
        process, which must read what this one changed (read-your-writes). A request that
        changed nothing waits for nothing. (`AnswerGate`, set on the sessions that have a
        record in the `session_store`.)"""
        assert isinstance(channel, HttpSession)
        handle = channel.handle
        if handle.dirty:
            return self.save_quietly(channel)
        writing = self._writing.get(handle.id)
        # (shielded: a waiter cancelled does not cancel the write's other waiters)
        return None if writing is None else asyncio.shield(writing)

    async def save(self, session: HttpSession) -> None:
        """Write the session's record to the `session_store` when it changed since it was
        built, read or last written (`dirty`); when a quarter of the idle timeout passed,
        keep it alive (`_keep_alive`: a store expires records by when they were last seen,
        and those in use must stay), or end the copy of a session another process ended.

        A copy of the session that another process changed (restored from the record, or
        read again on its SESSION_CHANGED) is clean as read: it writes nothing back, so an
        old copy never overwrites what the other process wrote since. The flag is cleared
        before the write, so a change made while the write is in flight marks it again."""
        store = self.session_store
        if store is None:
            return
        handle = session.handle
        record = handle.record
        now = time.time()
        changed = handle.dirty
        if not changed:
            if now - record.last_seen < self.session_idle_timeout / 4:
                return
            if await self._keep_alive(session, now):
                return
        record.last_seen = now
        handle.dirty = False
        writing = asyncio.get_running_loop().create_future()
        self._writing[record.id] = writing
        try:
            await store.put(record)
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
        store = self.session_store
        assert store is not None
        handle = session.handle
        touchable = self._touchable
        if touchable is not None:
            stored = await touchable.touch(handle.id, now)
        else:
            stored = await store.get(handle.id)
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
        """`_save` once the response has gone out: a store that fails is logged, since no
        answer can carry it any more, and the next request writes the record again."""
        try:
            await self.save(session)
        except StoreUnavailable as exc:
            sid = session.handle.id
            logger.warning("the record of session %s... was not saved: %s", sid[:8], exc)

    def publish_change(self, sid: str) -> None:
        """Tell the other processes holding session `sid` (if any can: a shared broker) to
        read its record again: it changed, or it is gone."""
        broker = self.server.broker
        if not isinstance(broker, MemoryBroker):
            broker.publish(Change(SESSION_CHANGED, f"{self._origin} {sid}"))

    def on_change(self, change: Change) -> None:
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
        store = self.session_store
        if store is None:
            return
        try:
            record = await store.get(sid)
        except Exception:  # the store is unreachable: the next change tries again
            logger.warning("could not read the record of session %s...", sid[:8], exc_info=True)
            return
        if self.sessions.get(sid) is not session:
            return
        if record is None:
            self.sessions.remove(sid)
            await session.end()
            return
        # As read (`refresh` leaves the handle clean), so the next `_save` writes nothing
        # back: the copy here must not write its own over what another process wrote.
        session.handle.refresh(record)

    def _forget(self, session: HttpSession) -> None:
        """A session whose channel closed (its runtime failed, or it was ended) is removed
        at once (its `on_close`)."""
        sid = session.handle.id
        if self.sessions.get(sid) is session:
            self.sessions.remove(sid)
        self.header_memos.forget_session_id(sid)  # (nor is its id remembered: `session_id`)
        self.server.sessions.discard(session.handle)

    async def carry(
        self,
        channel: HttpChannel,
        stream: Stream,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]] = (),
        resume: Resumption | None = None,
    ) -> None:
        """Carry `stream` on this response; then keep it for a resumption, or free it."""
        delivered = False
        body = None if resume is not None else stream.whole()
        try:
            if body is None:
                self.open_streams.add(stream)
                interval = self.streams.keepalive_interval
                delivered = await send_sse(receive, send, stream, headers, resume, interval)
            else:
                # The usual answer to a call: the stream ended before its response began, so
                # all of it goes out at once, in two sends, with no writer (`send_sse`) around
                # them; and it is not one of `open_streams`, as a shutdown has nothing to end.
                head = [*SSE_HEADERS, *headers]
                await send({"type": "http.response.start", "status": 200, "headers": head})
                await send({"type": "http.response.body", "body": body})
                delivered = True
        except OSError:  # the client is gone (as in `send_sse`, which says so itself)
            pass
        finally:
            if body is None:
                self.open_streams.discard(stream)
            del body  # not held while the store forgets
            waiting = channel.streams.release(stream, delivered)  # (no coroutine: the usual)
            if waiting is not None:
                await waiting


def _wrong_version(
    session: HttpSession,
    headers: Sequence[tuple[bytes, bytes]],
    each: Mapping[bytes, bytes] | None = None,
) -> Refusal | None:
    """400 when MCP-Protocol-Version names another revision than the session negotiated
    (basic/transports, "Protocol Version Header"). Absent, the negotiated one is meant: the
    spec assumes 2025-03-26 only when the server "has no other way to identify the version"."""
    if each is None:
        sent = values_of(headers, b"mcp-protocol-version")
    else:
        version = each.get(b"mcp-protocol-version")
        sent = [] if version is None else [version]
    negotiated = session.revision
    if not sent or negotiated is None or sent[0].strip(b" \t").decode("latin-1") == negotiated:
        return None
    return refuse(
        400,
        f"MCP-Protocol-Version {quote_header(sent[0])} is not the revision this session "
        f"negotiated ({negotiated}): send {negotiated}, or initialize a new session",
    )
