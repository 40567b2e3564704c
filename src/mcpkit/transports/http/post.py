"""The POST path of the Streamable HTTP endpoint (spec: basic/transports, "Sending Messages to
the Server"): a body the app read within the limits (`read_body`), handed to the session it
names, to a new session when it is an initialize, or to a fresh stateless one, and answered
with one JSON object or an SSE stream. Its own module because it is the hot path, and the
largest part of `McpHttpApp`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable, Mapping, Sequence
from contextlib import suppress
from functools import partial
from typing import Final, TypeAlias

from mcpkit._asgi import Headers, Message, Receive, Scope, Send, send_whole
from mcpkit._asgi import read_body as read_whole_body
from mcpkit.auth.server.resource import identity_of
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.modern import carries_terms
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.sessions import owner_key
from mcpkit.transports.http._exchange import (
    BodyBudget,
    Exchange,
    Meanwhile,
    answer_json,
    send_refusal,
)
from mcpkit.transports.http.checks import (
    BodyLimit,
    EndpointPolicy,
    Refusal,
    client_address,
    protocol_version,
    refuse,
    session_id,
    too_large,
    unknown_session,
)
from mcpkit.transports.http.hosting import AppSessions, RecordKeeping
from mcpkit.transports.http.live_sessions import ClientRoom, HostServer, TokenGuard
from mcpkit.transports.http.mirrored import MirrorMemory
from mcpkit.transports.http.one_shot_sessions import open_modern
from mcpkit.transports.http.own_calls import MirrorCheck, OwnCalls
from mcpkit.transports.http.streams import HttpChannel, StreamSettings

__all__ = ["FIRST_WAIT", "PostRequests", "read_body"]

_JSON: Final = ((b"content-type", b"application/json"),)
# Seconds a call's SSE answer waits for its first message before the head goes out alone:
# long enough for a quick tool, short enough that no client notices. (Up to half as long
# again for a request served in its POST's task: `Meanwhile` counts time in half-steps.)
FIRST_WAIT: Final = 0.01

#: What the response of a request served in its POST's task is written with, should it
#: begin before the request ends (`PostRequests._respond_meanwhile`).
_Answer: TypeAlias = tuple[HttpChannel, Receive, Send, Sequence[tuple[bytes, bytes]]]


async def read_body(
    receive: Receive, max_size: int, budget: BodyBudget | None = None
) -> bytes | Refusal | None:
    """The request body, a 413 refusal once it passes `max_size`, or None when the client
    went away before sending it all. With a `budget`, the body counts against the bytes of
    bodies the app holds at once (503 past them). (How long a body may take is the uvicorn
    protocol's `body_timeout`: a deadline here would cost every request a timer.)"""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        # The usual body, all in its first message: checked as `_take` checks a chunk, and
        # held by the budget no longer than that (nothing is awaited in between).
        body: bytes = message.get("body", b"")
        size = len(body)
        if size > max_size:
            return too_large(max_size)
        if budget is None or budget.held + size <= budget.max_bytes:  # (`room`'s test first)
            return body
        refusal = budget.room(size)
        return body if refusal is None else refusal
    first = [message]

    async def again() -> Message:  # the first message, then the next ones
        return first.pop() if first else await receive()

    limit = BodyLimit(max_size)
    try:
        if budget is None:
            return await read_whole_body(again, limit.add)
        return await read_whole_body(again, partial(_take, limit, budget))
    finally:
        if budget is not None:
            budget.give_back(limit.held)


def _take(limit: BodyLimit, budget: BodyBudget, size: int) -> Refusal | None:
    """Count a chunk against the body's limit, then against the app's budget."""
    refusal = limit.add(size)
    if refusal is None:
        refusal = budget.take(size)
        if refusal is None:
            limit.held += size
    return refusal


class PostRequests:
    """How `McpHttpApp` answers a POST that passed its checks: `hosting` holds the sessions
    (and how they answer, their clock, the per-client caps of sessions), `own_calls` the
    2026-07-28 requests served now, `policy` says which revisions and sizes it serves (the
    app read the body within them, `read_body`), `guard` checks scopes (None: no auth),
    `request_caps` bounds a client's 2026-07-28 requests in flight, `stateless` serves each
    POST alone, its streams by `stateless_streams` (not resumable, charged to the app's
    budget). `mirror_memos`: what the checks of the server's 2026-07-28 POSTs consult and
    remember. `records`: where the sessions' records are kept (None: nowhere)."""

    def __init__(
        self,
        server: HostServer,
        hosting: AppSessions,
        own_calls: OwnCalls,
        *,
        policy: EndpointPolicy,
        guard: TokenGuard | None,
        stateless: bool,
        request_caps: ClientRoom,
        stateless_streams: StreamSettings,
        mirror_memos: MirrorMemory,
        records: RecordKeeping | None = None,
    ) -> None:
        self.server = server
        # What makes a 2026-07-28 request's peer, asked of the server once: it does not
        # change while the app serves, and a property read per request is a layer.
        self._new_peer = server.request_peer
        self.hosting = hosting
        self.policy = policy
        self.guard = guard
        self.stateless = stateless
        self.request_caps = request_caps
        self.stateless_streams = stateless_streams
        self.records = records
        self.json_response = hosting.json_response
        # (The policy's, read once: it is frozen.)
        self._max_size = policy.max_message_size
        self._modern_on = bool(policy.modern_revisions)
        self.client_caps = hosting.client_caps
        self.own_calls = own_calls
        self.clock = hosting.clock
        self.header_memos = hosting.header_memos
        #: MCP-Protocol-Version values that name a revision whose requests carry their own
        #: terms and no session revision (`protocol_version` refuses them): a POST with one
        #: and no Mcp-Session-Id is answered by that revision's rules, whatever its body.
        self._modern_versions = frozenset(
            revision.encode()
            for revision in policy.modern_revisions
            if revision not in policy.supported_revisions
        )
        #: MCP-Protocol-Version values that name a revision sessions speak: a POST with one
        #: and an Mcp-Session-Id is its session's, whatever its body's `_meta` holds.
        self._session_versions = frozenset(
            revision.encode()
            for revision in policy.supported_revisions
            if revision not in policy.modern_revisions
        )
        #: Starts the response of a request served in its POST's task still running after
        #: FIRST_WAIT (`_answer`): one timer for all of them.
        self.meanwhile: Meanwhile[Exchange, _Answer, asyncio.Task[None]] = Meanwhile(
            FIRST_WAIT, self._respond_meanwhile
        )
        #: The check a 2026-07-28 POST's body is read with (`_modern`): its mirrored
        #: headers (`MirrorCheck`), or a subclass that refuses more once they agree (an AWS
        #: Lambda function refuses a `subscriptions/listen`: `mcpkit.serverless`).
        self.request_check: type[MirrorCheck] = MirrorCheck
        self.mirror_memos = mirror_memos

    def __call__(
        self,
        scope: Scope,
        body: bytes | Refusal | None,
        receive: Receive,
        send: Send,
        token: AccessToken | None,
        each: Mapping[bytes, bytes] | None = None,
    ) -> Awaitable[None]:
        """What answers the POST whose body `read_body` read (a refusal: too large; None: the
        client went away): served by the rules of the revision its request carries
        (2026-07-28), else of the revision and the session its headers name (`_answer_body`).
        `each` is its headers by name when no name repeats (`distinct`). What to await: a
        2026-07-28 request's serving itself, not a coroutine around it."""
        if not isinstance(body, bytes):
            return _unread(send, body)
        # Who sent it, for either era's `RequestInfo` and caps. (`client_address` is asked
        # only of what is not uvicorn's (host, port) as it is: uvicorn's, the usual, needs no
        # call)
        client: tuple[str, int] | None = scope.get("client")
        if (
            type(client) is not tuple
            or len(client) != 2
            or type(client[0]) is not str
            or type(client[1]) is not int
        ):
            client = client_address(scope)
        if not (self._modern_on and self._modern_asked(body, scope["headers"], each)):
            return self._answer_body(scope, body, receive, send, token, each, client)
        # A 2026-07-28 POST, once its token's scopes allow it: its mirrored headers checked
        # against the body (-32020) by the session that reads it, from what it decodes anyway
        # (`MirrorCheck`), then served in this task under the terms it carries, its client
        # (the token's owner, else its address) below its `request_caps` (`OwnCalls.serve`).
        owner: object = None
        if token is not None and self.guard is not None:
            owner = self._owner(scope, token, body)
            if isinstance(owner, Refusal):
                return send_refusal(send, owner)
        headers = scope["headers"]
        check = self.request_check(body, headers, self.mirror_memos, each)
        info = RequestInfo("http", headers, client, token)
        room = self.request_caps.of(
            None if owner is None else owner_key(owner), None if client is None else client[0]
        )
        # No frame keeps a reference to the body while it is served (this one has returned):
        # a listen may stay open for hours, and its body is no longer needed once read (nor
        # kept by `check`).
        return self.own_calls.serve(
            self.server, self._new_peer, info, body, receive, send, self.json_response, room, check
        )

    async def _answer_body(
        self,
        scope: Scope,
        body: bytes,
        receive: Receive,
        send: Send,
        token: AccessToken | None,
        each: Mapping[bytes, bytes] | None,
        client: tuple[str, int] | None,
    ) -> None:
        """`__call__` of a body that its revision's rules do not answer: by the rules of the
        revision and the session its headers name (`each`: the headers by name, when no name
        repeats), from `client` (`client_address`). A body for a session goes to it when it is
        the token's owner's and the token's scopes allow what the body names that the session
        may see; one that names none, to `_post_without_session`."""
        headers = scope["headers"]
        memos = self.header_memos
        version = protocol_version(headers, self.policy.supported_revisions, each, memos)
        sid = session_id(headers, required=False, each=each, memos=memos)
        for found in (version, sid):
            if isinstance(found, Refusal):
                await send_refusal(send, found)
                return
        info = RequestInfo("http", headers, client, token)
        if sid is None or self.stateless:
            await self._post_without_session(scope, token, version, info, body, receive, send)
            return
        sid = str(sid)
        owner = None if token is None or self.guard is None else identity_of(token)
        records = self.records
        if records is None:  # nothing to restore a session from: no coroutine
            session = self.hosting.lookup(sid, headers, owner, each, version)
        else:
            session = await records.find(sid, headers, owner, client)
        if token is not None and self.guard is not None and not isinstance(session, Refusal):
            # Its scopes are checked once its session is found: the session's own rules
            # may hide what it names (`TokenGuard.check_scopes`).
            rules = session.handle.record.components
            session = self.guard.check_scopes(scope, token, body, rules) or session
        if isinstance(session, Refusal):
            await send_refusal(send, session)
            return
        try:
            exchange = await session.submit(body, info, serve_here=True)
        except ConnectionClosed:  # it ended since it was found
            await send_refusal(send, unknown_session(sid))
            return
        # Notifications alone (`notifications/initialized`): their 202 waits for what they
        # changed, as an answer does (`RecordKeeper.before_answer`).
        gate = session.gate
        waiting = None if gate is None or exchange.read[0] else gate.before_answer(session)
        if waiting is not None:
            await waiting
        await self._answer(session, exchange, receive, send, ())
        if records is not None:  # (else nothing to save)
            await records.save_quietly(session)

    def _modern_asked(
        self, body: bytes, headers: Headers, each: Mapping[bytes, bytes] | None
    ) -> bool:
        """Whether a POST is answered by the rules of a modern revision (2026-07-28),
        not a session's: its body carries them (an Mcp-Session-Id
        beside them is ignored, as 2026-07-28 says), or it names no session and a revision
        no session speaks (one `protocol_version` refuses). But a POST that names a session
        and, once, a revision sessions speak is the session's, its body not searched: a
        2026-07-28 request names 2026-07-28 there (basic/transports, "Protocol Version
        Header")."""
        if each is not None:
            if b"mcp-session-id" in each:  # a session's POST (most)
                if each.get(b"mcp-protocol-version") in self._session_versions:
                    return False
                return carries_terms(body)
            if each.get(b"mcp-protocol-version") in self._modern_versions:
                return True  # a 2026-07-28 client's usual POST: its body not searched
        if carries_terms(body):
            return True
        memos = self.header_memos
        if session_id(headers, required=False, each=each, memos=memos) is not None:
            return False
        version = protocol_version(headers, self.policy.supported_revisions, each, memos)
        return not isinstance(version, str)

    async def _post_without_session(
        self,
        scope: Scope,
        token: AccessToken | None,
        version: str | Refusal,
        info: RequestInfo,
        body: bytes,
        receive: Receive,
        send: Send,
    ) -> None:
        """`__call__` of a body that names no session (or any, to a stateless app), once its
        token's scopes allow it: a new session's, or a stateless one's."""
        owner: object = None
        if token is not None and self.guard is not None:
            owner = self._owner(scope, token, body)
            if isinstance(owner, Refusal):
                await send_refusal(send, owner)
                return
        if self.stateless:
            assert isinstance(version, str)
            await self._post_stateless(version, info, body, receive, send, owner)
            return
        await self._post_new(info, body, receive, send, owner)

    def _request_room(self, owner: object, info: RequestInfo, post: object) -> Hashable | Refusal:
        """Who sends a request that belongs to no session, for `request_caps` (None when
        unknown), once it has room for one more: `post` is then counted among its requests in
        flight (`OwnCalls.let_in`, until `count_out`). The 503 to send when it has none."""
        address = None if info.client is None else info.client[0]
        client = self.request_caps.of(None if owner is None else owner_key(owner), address)
        full = self.own_calls.let_in(client, post, self.server)
        if full is not None:
            return self.request_caps.refusal(full)
        return None if client is None else client[0]

    def _owner(self, scope: Scope, token: AccessToken, body: bytes) -> object:
        """Who `token` speaks for, once its scopes allow `body`; else the refusal to send.
        (For an app with auth: `guard` is set.)"""
        assert self.guard is not None
        scoped = self.guard.check_scopes(scope, token, body)
        return identity_of(token) if scoped is None else scoped

    async def _post_new(
        self, info: RequestInfo, body: bytes, receive: Receive, send: Send, owner: object
    ) -> None:
        """A body without a session id: only an initialize request may open a session, which
        belongs to `owner` (who the token speaks for; None without auth)."""
        caps = self.client_caps
        client = caps.of(owner, None if info.client is None else info.client[0])
        refusal = await caps.make_room(self.hosting.sessions, self.clock(), client)
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        session = self.hosting.open()
        session.owner = owner
        exchange: Exchange | None = None
        with suppress(ConnectionClosed):  # (it ended before it read the body: left None)
            exchange = await session.submit(body, info, resumable=False)
        if exchange is None or not session.opened:
            # Not an initialize (or one refused): answer as for any request without an id.
            await session.end()
            refused = [] if exchange is None else exchange.read[1]
            await send_refusal(send, _no_session() if not refused else _bad_body(refused[0]))
            return
        sid = session.handle.id
        key = None if client is None else client[0]
        # Another initialize may have taken the place made while this one was read.
        if not self.hosting.sessions.add(sid, session, key):
            refusal = await caps.make_room(self.hosting.sessions, self.clock(), client)
            if refusal is None and not self.hosting.sessions.add(sid, session, key):
                refusal = caps.refusal("max_sessions")
        if refusal is not None:
            await session.end()
            await send_refusal(send, refusal)
            return
        if self.records is not None:
            try:
                await self.records.save(session)
            except StoreUnavailable:
                # No record, no session: a client told this id could not reach it from any
                # other process. It initializes again once the store is back (503 and
                # Retry-After).
                self.hosting.sessions.remove(sid)
                await session.end()
                raise
        await self._answer(session, exchange, receive, send, ((b"mcp-session-id", sid.encode()),))

    async def _post_stateless(
        self,
        version: str,
        info: RequestInfo,
        body: bytes,
        receive: Receive,
        send: Send,
        owner: object,
    ) -> None:
        """Stateless: a fresh session on `version` serves this body alone (an initialize
        too, answered with no session id), then ends with all it held, even when the client
        left mid-answer: no later POST can reach it. Counted against its client's
        `request_caps` while it runs, as no session cap counts it."""
        post = object()  # what stands for this POST among its client's requests in flight
        client = self._request_room(owner, info, post)
        if isinstance(client, Refusal):
            await send_refusal(send, client)
            return
        session = None
        try:
            session = open_modern(
                self.server,
                version,
                json_response=self.json_response,
                clock=self.clock,
                settings=self.stateless_streams,
            )
            try:
                exchange = await session.submit(body, info)
            except ConnectionClosed:  # it ended before it read the body: not ours to say
                await send_refusal(send, refuse(500, "the request's session ended unread"))
            else:
                await self._answer(session, exchange, receive, send, ())
        finally:
            self.own_calls.count_out(client, post)
            if session is not None:
                await session.end()

    async def _answer(
        self,
        channel: HttpChannel,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
        first_wait: float = FIRST_WAIT,
    ) -> None:
        """Answer a POST once its session read the body: 400 for a body it refused, 202 for
        one that started no request, else one JSON object or the SSE stream of its requests.
        A request the body holds alone (`submit(serve_here=True)`) is served in this task
        first, so that a quick answer goes out with the response's head; one still running
        after FIRST_WAIT has its response begun meanwhile (`_respond_meanwhile`), so that
        what it sends goes out as it comes and a client that leaves is noticed. Another
        answer's stream waits up to `first_wait` seconds for its first message."""
        started, refused = exchange.read
        if refused:
            await send_refusal(send, _bad_body(refused[0]))
            return
        if not started:
            await send_whole(send, 202, b"", headers)
            return
        request, exchange.request = exchange.request, None
        if request is not None:
            # `meanwhile` begins its response if it still runs after FIRST_WAIT: an entry in
            # the dict its timer hands on, taken out once the request is served.
            waiting = self.meanwhile.add(exchange, (channel, receive, send, headers))
            try:
                await channel.serve(request)
            except BaseException:  # cancelled from elsewhere: the request ended unanswered
                await self._unanswered(channel, exchange, waiting)
                raise
            finally:
                del request  # not kept while the answer is written
            begun = (  # its response begun meanwhile, if it was: that task answers it
                None
                if waiting.pop(exchange, None) is not None
                else self.meanwhile.ran.pop(exchange, None)
            )
            if begun is not None:
                await begun
                return
            first_wait = 0.0
        if not self.json_response:
            if first_wait:  # (a poll's handler has said by then that it wants JSON)
                await _first_message(exchange, channel, first_wait)
            if not exchange.json:
                await self.hosting.carry(channel, exchange, receive, send, headers)
                return
            await channel.streams.forget(exchange)  # not a stream: nothing to resume
        if _get_stream_ready(channel):
            await asyncio.sleep(0)
        await answer_json(exchange, receive, send, headers)

    async def _unanswered(
        self, channel: HttpChannel, exchange: Exchange, waiting: dict[Exchange, _Answer]
    ) -> None:
        """`_answer` once the request it served ended unanswered (cancelled from elsewhere),
        its entry in `waiting` (`meanwhile`'s dict it was added to): the response begun
        meanwhile is cancelled, or the stream is left as one no connection carries."""
        if waiting.pop(exchange, None) is None:
            begun = self.meanwhile.ran.pop(exchange, None)
            if begun is not None:
                begun.cancel()
                return
        exchange.detach()
        await channel.release(exchange, delivered=False)

    def _respond_meanwhile(self, exchange: Exchange, answer: _Answer) -> asyncio.Task[None]:
        """Begin the response of a request `_answer` still serves after FIRST_WAIT, in a task
        of its own (`meanwhile`'s timer runs it: the loop is running)."""
        channel, receive, send, headers = answer
        # (What to answer with is chosen when the task runs, as the handler may still say
        # until then that it wants JSON: `HttpChannel.answer_as_json`.)
        return asyncio.get_running_loop().create_task(
            self._answer(channel, exchange, receive, send, headers, 0.0)
        )


async def _unread(send: Send, refusal: Refusal | None) -> None:
    """The answer to a POST whose body `read_body` did not read: its refusal (a body too
    large for any revision is 413 whatever its headers say), or none (None: the client went
    away)."""
    if refusal is not None:
        await send_refusal(send, refusal)


async def _first_message(exchange: Exchange, channel: HttpChannel, first_wait: float) -> None:
    """Wait up to `first_wait` seconds for a stream's first message; a wait cancelled is as if
    its connection went: the stream is let go, the request goes on."""
    generation = exchange.generation
    try:
        await exchange.reading().wait_ready(generation, first_wait)
    except asyncio.CancelledError:
        exchange.detach(generation)
        await channel.release(exchange, delivered=False)
        raise


def _get_stream_ready(channel: HttpChannel) -> bool:
    """Whether the GET stream's writer has been woken by what a request answered with JSON
    sent there while it ran (progress, log messages): it is then let write it before the
    answer (one turn, `asyncio.sleep(0)`: the writer, scheduled already, runs first), so its
    client hears of them before the result, as when the request ran in a task of its own."""
    get = channel.streams.stream
    return get is not None and get.ready(get.generation)


def _no_session() -> Refusal:
    refusal = session_id((), required=True)
    assert isinstance(refusal, Refusal)
    return refusal


def _bad_body(answer: bytes) -> Refusal:
    return Refusal(400, "the body is not a JSON-RPC message", answer, _JSON)
