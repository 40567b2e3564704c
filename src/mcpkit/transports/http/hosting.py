"""What a Streamable HTTP endpoint does with its sessions around requests: find one (for the
revision it negotiated), open one, forget one whose runtime ended, carry a stream on a response
(noted, so that a shutdown can end it). `McpHttpApp` holds this beside its requests' parts
(`post`, `get_delete`). What a deployment adds is its own: the records of sessions that
outlive this process (`RecordKeeping`, kept in a session store by
`transports.deployment.session_records`), and what hosting the app adds over its lifetime
(the server's lifespan, the idle sweep, the shutdown: `transports.deployment.app_lifespan`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from mcpkit._asgi import Receive, Send, quote_header, values_of
from mcpkit.stores.sessions import SessionRecord, owner_key
from mcpkit.transports.http._exchange import SSE_HEADERS, Resumption, send_sse
from mcpkit.transports.http.checks import HeaderMemos, Refusal, refuse, unknown_session
from mcpkit.transports.http.live_sessions import (
    ClientRoom,
    HostServer,
    HttpSession,
    SessionRegistry,
)
from mcpkit.transports.http.streams import HttpChannel, Stream, StreamSettings

__all__ = ["AppSessions", "RecordKeeping", "wrong_version"]


class RecordKeeping(Protocol):
    """Where the records of the app's sessions are kept beyond this process, when it has a
    `session_store` (the deployment's `transports.deployment.session_records.RecordKeeper`,
    which says why): a request finds its session through it (`find`, which may rebuild one
    this process does not hold), and has its record written once it changed it (`save`;
    `save_quietly` once the answer is out) or deleted (`delete`, a DELETE). The binding
    names it by what it does and never imports the deployment."""

    async def find(
        self,
        sid: str,
        headers: Sequence[tuple[bytes, bytes]],
        owner: object,
        client: tuple[str, int] | None,
    ) -> HttpSession | Refusal: ...

    async def save(self, session: HttpSession) -> None: ...

    async def save_quietly(self, session: HttpSession) -> None: ...

    async def delete(self, sid: str) -> None: ...


class AppSessions:
    """The sessions part of `McpHttpApp`: its live sessions, and the streams its responses
    carry.

    `sessions` is the registry of live sessions, `client_caps` the per-client caps a new
    session counts in, `streams` the settings of their streams, `json_response` how they
    answer."""

    def __init__(
        self,
        server: HostServer,
        *,
        sessions: SessionRegistry[HttpSession],
        client_caps: ClientRoom,
        streams: StreamSettings,
        json_response: bool,
        clock: Callable[[], float],
    ) -> None:
        self.server = server
        self.sessions = sessions
        #: What the checks of this app's requests remember of the headers its clients sent.
        self.header_memos = HeaderMemos()
        self.client_caps = client_caps
        self.streams = streams
        self.json_response = json_response
        self.clock = clock
        self.open_streams: set[Stream] = set()  # those a response carries now
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
        return wrong_version(session, headers, each) or session

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
        return session

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


def wrong_version(
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
