"""The POST path of the Streamable HTTP endpoint (spec: basic/transports, "Sending Messages to
the Server"): a body read within the limits, handed to the session it names, to a new session
when it is an initialize, or to a fresh stateless one, and answered with one JSON object or an
SSE stream. Its own module because it is the hot path, and the largest part of `McpHttpApp`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Hashable, Mapping, Sequence
from typing import Final, TypeAlias

from mcpkit._asgi import Message, Receive, Scope, Send, send_whole
from mcpkit.auth.server.resource import identity_of
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.own_terms import carries_terms
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.sessions import owner_key
from mcpkit.transports.http._exchange import (
    BodyBudget,
    ClientCaps,
    Meanwhile,
    More,
    answer_json,
    body_in,
    client_address,
    read_rest,
    send_refusal,
)
from mcpkit.transports.http.checks import (
    EndpointPolicy,
    Refusal,
    protocol_version,
    refuse,
    session_id,
    unknown_session,
)
from mcpkit.transports.http.guard import Guard
from mcpkit.transports.http.hosting import AppSessions
from mcpkit.transports.http.live_sessions import (
    HostServer,
    HttpSession,
    make_room,
    no_room,
)
from mcpkit.transports.http.mirror_memos import MirrorMemos
from mcpkit.transports.http.mirrored import MirrorCheck
from mcpkit.transports.http.one_shot_sessions import open_stateless
from mcpkit.transports.http.own_calls import no_request_room
from mcpkit.transports.http.streams import Exchange, HttpChannel, StreamSettings

__all__ = ["FIRST_WAIT", "PostRequests"]

_JSON: Final = ((b"content-type", b"application/json"),)
# Seconds a call's SSE answer waits for its first message before the head goes out alone:
# long enough for a quick tool, short enough that no client notices. (Up to half as long
# again for a request served in its POST's task: `Meanwhile` counts time in half-steps.)
FIRST_WAIT: Final = 0.01

#: What the response of a request served in its POST's task is written with, should it
#: begin before the request ends (`PostRequests._respond_meanwhile`).
_Answer: TypeAlias = tuple[Receive, Send, Sequence[tuple[bytes, bytes]]]


class PostRequests:
    """How `McpHttpApp` answers a POST that passed its checks: `hosting` holds the sessions
    (and how they answer, their clock, the per-client caps of sessions and the 2026-07-28
    requests served now), `policy` says which revisions and sizes it serves, `bodies` bounds
    the bodies read at once, `guard` checks scopes (None: no auth), `request_caps` bounds a
    client's 2026-07-28 requests in flight, `stateless` serves each POST alone, its streams
    by `stateless_streams` (not resumable, charged to the app's budget). `mirror_memos`: what
    the checks of the server's 2026-07-28 POSTs consult (None: the app's own)."""

    def __init__(
        self,
        server: HostServer,
        hosting: AppSessions,
        *,
        policy: EndpointPolicy,
        bodies: BodyBudget,
        guard: Guard | None,
        stateless: bool,
        request_caps: ClientCaps,
        stateless_streams: StreamSettings,
        mirror_memos: MirrorMemos | None = None,
    ) -> None:
        self.server = server
        self.hosting = hosting
        self.policy = policy
        self.bodies = bodies
        self.guard = guard
        self.stateless = stateless
        self.request_caps = request_caps
        self.stateless_streams = stateless_streams
        self.json_response = hosting.json_response
        # (The policy's, read once: it is frozen.)
        self._max_size = policy.max_message_size
        self._own_terms_on = bool(policy.stateless_revisions)
        self.client_caps = hosting.client_caps
        self.own_calls = hosting.own_calls
        self.clock = hosting.clock
        #: MCP-Protocol-Version values that name a revision whose requests carry their own
        #: terms and no session revision (`protocol_version` refuses them): a POST with one
        #: and no Mcp-Session-Id is answered by that revision's rules, whatever its body.
        self._own_terms_versions = frozenset(
            revision.encode()
            for revision in policy.stateless_revisions
            if revision not in policy.supported_revisions
        )
        #: Starts the response of a request served in its POST's task still running after
        #: FIRST_WAIT (`_serve_here`): one timer for all of them.
        self.meanwhile: Meanwhile[Exchange, _Answer, asyncio.Task[None]] = Meanwhile(
            FIRST_WAIT, self._respond_meanwhile
        )
        #: The check a 2026-07-28 POST's body is read with (`_own_terms`): its mirrored
        #: headers (`MirrorCheck`), or a subclass that refuses more once they agree (an AWS
        #: Lambda function refuses a `subscriptions/listen`: `mcpkit.serverless`).
        self.request_check: type[MirrorCheck] = MirrorCheck
        self.mirror_memos = (
            MirrorMemos(server.param_headers) if mirror_memos is None else mirror_memos
        )

    def __call__(
        self,
        scope: Scope,
        message: Message,
        receive: Receive,
        send: Send,
        token: AccessToken | None,
        each: Mapping[bytes, bytes] | None = None,
    ) -> Awaitable[None]:
        """What answers the POST whose first message (`receive`'s) is `message`: what to
        await, the serving itself where it can be told at once (a 2026-07-28 request), not a
        coroutine around it; `each` is its headers by name when no name repeats
        (`distinct`)."""
        # fast path: an awaitable, not a coroutine of its own (docs/performance.md, fast paths)
        # fast path: mirrors `read_body` (docs/performance.md, fast paths)
        # The usual body is in the first message, read with no coroutine of its own.
        body = body_in(message, self._max_size, self.bodies)
        if type(body) is More:  # (`type() is`: More has no subclass)
            return self._answer_rest(scope, token, message, receive, send, each)
        # No frame keeps the body once this returns (see `_own_terms`).
        return self._answer_body(scope, body, receive, send, token, each)

    def _answer_body(
        self,
        scope: Scope,
        body: bytes | Refusal | None,
        receive: Receive,
        send: Send,
        token: AccessToken | None,
        each: Mapping[bytes, bytes] | None,
    ) -> Awaitable[None]:
        """`__call__` once the body is read: by the rules of the revision its request carries
        (2026-07-28), else of the revision and the session its headers name. What to await:
        for a session's POST (most), `_post_to_session` itself, not a coroutine around it."""
        # fast path: an awaitable, not a coroutine of its own (docs/performance.md, fast paths)
        # 2026-07-28: a request that carries its own terms (an Mcp-Session-Id beside them is
        # ignored, as 2026-07-28 says) is answered by its revision's rules; its headers are
        # checked against its body there. A POST whose headers name such a revision and no
        # session goes there whatever its body says (its revision would be refused below),
        # so a 2026 client's usual POST is known by two lookups, its body not searched.
        # (First: the session-era checks would only build a refusal to throw away.)
        if (
            self._own_terms_on
            and isinstance(body, bytes)
            and (
                (
                    each is not None
                    and b"mcp-session-id" not in each
                    and each.get(b"mcp-protocol-version") in self._own_terms_versions
                )
                or carries_terms(body)
            )
        ):
            return self._own_terms(scope, token, body, receive, send, each)
        headers = scope["headers"]
        version = protocol_version(headers, self.policy.supported_revisions, each)
        sid = session_id(headers, required=False, each=each)
        if isinstance(body, bytes) and self._own_terms_on and sid is None:
            if not isinstance(version, str):
                # No session, and a revision header we serve no session on: its rules.
                return self._own_terms(scope, token, body, receive, send, each)
        # The body's refusal first: a body too large for any revision is 413 whatever its
        # headers say (a 2026-07-28 one would be told its revision is unknown otherwise).
        for found in (body, version, sid):
            if isinstance(found, Refusal):
                return send_refusal(send, found)
        if body is None or isinstance(body, Refusal):
            return _nothing()  # the client went away
        info = RequestInfo("http", headers, client_address(scope), token)
        if sid is not None and not self.stateless:
            # Its scopes are checked once its session is found: the session's own rules
            # may hide what it names (`Guard.check_scopes`).
            whose = None if token is None or self.guard is None else identity_of(token)
            return self._post_to_session(
                scope, str(sid), info, body, receive, send, whose, each, version
            )
        return self._post_without_session(scope, token, version, info, body, receive, send)

    async def _answer_rest(
        self,
        scope: Scope,
        token: AccessToken | None,
        message: Message,
        receive: Receive,
        send: Send,
        each: Mapping[bytes, bytes] | None,
    ) -> None:
        """`__call__` of a body not all in its first message: the rest read first."""
        body = await read_rest(message, receive, self.policy.max_message_size, self.bodies)
        serving = self._answer_body(scope, body, receive, send, token, each)
        del body, message  # (see `_own_terms`)
        await serving

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
        """`_answer_body` of a body that names no session (or any, to a stateless app),
        once its token's scopes allow it: a new session's, or a stateless one's."""
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

    async def _post_to_session(
        self,
        scope: Scope,
        sid: str,
        info: RequestInfo,
        body: bytes,
        receive: Receive,
        send: Send,
        owner: object,
        each: Mapping[bytes, bytes] | None,
        version: str | Refusal,
    ) -> None:
        """A body for the session `sid` names, when it is `owner`'s and the token's scopes
        allow what it names that the session may see (`each`: the headers by name, when no
        name repeats; `version`: what `protocol_version` read of them, never a refusal)."""
        hosting = self.hosting
        if hosting.session_store is None:  # nothing to restore a session from: no coroutine
            session = hosting.lookup(sid, info.headers, owner, each, version)
        else:
            session = await hosting.find(sid, info.headers, owner, info.client)
        if isinstance(session, Refusal):
            await send_refusal(send, session)
            return
        token: AccessToken | None = info.auth
        if token is not None and self.guard is not None:
            rules = session.handle.record.components
            scoped = self.guard.check_scopes(scope, token, body, rules)
            if scoped is not None:
                await send_refusal(send, scoped)
                return
        # fast path: mirrors `_submit` and `_answer` (docs/performance.md, fast paths)
        try:
            exchange = await session.submit(body, info, serve_here=True)
        except ConnectionClosed:
            await send_refusal(send, unknown_session(sid))
            return
        if exchange.request is not None and not exchange.read[1]:
            await self._serve_here(exchange, receive, send, ())  # the usual POST: one request
        else:
            if session.gate is not None and not exchange.read[0]:
                # Notifications alone (`notifications/initialized`): their 202 waits for
                # what they changed, as an answer does (`AppSessions.before_answer`).
                waiting = session.gate.before_answer(session)
                if waiting is not None:
                    await waiting
            await self._answer(exchange, receive, send, ())
        if hosting.session_store is not None:  # (else nothing to save)
            await hosting.save_quietly(session)

    def _own_terms(
        self,
        scope: Scope,
        token: AccessToken | None,
        body: bytes,
        receive: Receive,
        send: Send,
        each: Mapping[bytes, bytes] | None,
    ) -> Coroutine[object, object, None]:
        """A 2026-07-28 POST, once its token's scopes allow it and its client (the token's
        owner, else its address) is below its `request_caps`: its mirrored headers checked
        against the body (-32020), then served in this task under the terms it carries
        (`own_terms`), answered with the status its revision gives errors (400, 404 for an
        unknown method), and forgotten. What to await for it: the request's own serving, not
        a coroutine around it."""
        # fast path: an awaitable, not a coroutine of its own (docs/performance.md, fast paths)
        owner: object = None
        if token is not None and self.guard is not None:
            owner = self._owner(scope, token, body)
            if isinstance(owner, Refusal):
                return send_refusal(send, owner)
        headers = scope["headers"]
        # The mirrored headers are checked by the session that reads the body, from what it
        # decodes anyway (`MirrorCheck`): its refusal (-32020, 400) comes before the session's.
        check = self.request_check(body, headers, self.mirror_memos, each)
        # (`client_address` is asked only of what is not uvicorn's (host, port) as it is:
        # uvicorn's, the usual, needs no call)
        client: tuple[str, int] | None = scope.get("client")
        if (
            type(client) is not tuple
            or len(client) != 2
            or type(client[0]) is not str
            or type(client[1]) is not int
        ):
            client = client_address(scope)
        info = RequestInfo("http", headers, client, token)
        caps = self.request_caps
        room: tuple[Hashable, int, str] | None
        if owner is None and client is not None:
            # fast path: mirrors `caps.of` (docs/performance.md, fast paths)
            # (a client known by its address alone)
            room = ("address", client[0]), caps.per_address, caps.address_setting
        else:
            address = None if client is None else client[0]
            room = caps.of(None if owner is None else owner_key(owner), address)
        # No frame keeps a reference to the body while it is served (this one has returned):
        # a listen may stay open for hours, and its body is no longer needed once read (nor
        # kept by `check`).
        return self.own_calls.serve(
            self.server, info, body, receive, send, self.json_response, room, check
        )

    def _request_room(self, owner: object, info: RequestInfo, post: object) -> Hashable | Refusal:
        """Who sends a request that belongs to no session, for `request_caps` (None when
        unknown), once it has room for one more: `post` is then counted among its requests in
        flight (`OwnCalls.let_in`, until `count_out`). The 503 to send when it has none."""
        address = None if info.client is None else info.client[0]
        key = None if owner is None else owner_key(owner)  # (no auth: no call per request)
        client = self.request_caps.of(key, address)
        full = self.own_calls.let_in(client, post, self.server)
        if full is not None:
            return no_request_room(full)
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
        client = self.client_caps.of(owner, None if info.client is None else info.client[0])
        full = await make_room(self.hosting.sessions, self.clock(), client)
        if full is not None:
            await send_refusal(send, no_room(full))
            return
        session = self.hosting.open()
        session.owner = owner
        exchange = await _submit(session, body, info, resumable=False)
        if exchange is None or not session.opened:
            # Not an initialize (or one refused): answer as for any request without an id.
            await session.end()
            refused = [] if exchange is None else exchange.read[1]
            await send_refusal(send, _no_session() if not refused else _bad_body(refused[0]))
            return
        sid = session.handle.id
        key = None if client is None else client[0]
        # Another initialize may have taken the place made while this one was read.
        full = None if self.hosting.sessions.add(sid, session, key) else "max_sessions"
        if full is not None:
            full = await make_room(self.hosting.sessions, self.clock(), client)
            if full is None and not self.hosting.sessions.add(sid, session, key):
                full = "max_sessions"
        if full is not None:
            await session.end()
            await send_refusal(send, no_room(full))
            return
        try:
            await self.hosting.save(session)
        except StoreUnavailable:
            # No record, no session: a client told this id could not reach it from any other
            # process. It initializes again once the store is back (503 and Retry-After).
            self.hosting.sessions.remove(sid)
            await session.end()
            raise
        await self._answer(exchange, receive, send, ((b"mcp-session-id", sid.encode()),))

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
            session = open_stateless(
                self.server,
                version,
                json_response=self.json_response,
                clock=self.clock,
                settings=self.stateless_streams,
            )
            exchange = await _submit(session, body, info)
            if exchange is None:  # the session ended before it read the body: not ours to say
                await send_refusal(send, refuse(500, "the request's session ended unread"))
            else:
                await self._answer(exchange, receive, send, ())
        finally:
            self.own_calls.count_out(client, post)
            if session is not None:
                await session.end()

    async def _answer(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        started, refused = exchange.read
        if refused:
            await send_refusal(send, _bad_body(refused[0]))
        elif not started:
            await send_whole(send, 202, b"", headers)
        elif exchange.request is not None:
            await self._serve_here(exchange, receive, send, headers)
        else:
            await self._respond(exchange, receive, send, headers, FIRST_WAIT)

    async def _serve_here(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        """Serve the body's one request in this task, then answer it: a quick answer goes
        out with the response's head. A request still running after FIRST_WAIT has its
        response begun meanwhile, in a task of its own (`_respond_meanwhile`), so that what
        it sends goes out as it comes and a client that leaves is noticed, as for any
        request."""
        request, exchange.request = exchange.request, None
        channel = exchange.channel
        assert request is not None and channel is not None
        # `meanwhile` begins its response if it still runs after FIRST_WAIT
        # (`_respond_meanwhile`): an entry in the dict its timer hands on, taken out once
        # the request is served.
        meanwhile = self.meanwhile
        waiting = meanwhile.add(exchange, (receive, send, headers))
        try:
            await channel.serve(request)
        except BaseException:  # cancelled from elsewhere: the request ended unanswered
            await self._unanswered(exchange, waiting)
            raise
        finally:
            del request  # not kept while the answer is written
        begun = (  # its response begun meanwhile, if it was: that task answers it
            None if waiting.pop(exchange, None) is not None else meanwhile.ran.pop(exchange, None)
        )
        if begun is not None:
            await begun
            return
        # fast path: mirrors `_respond` with no first wait (docs/performance.md, fast paths)
        if self.json_response:
            if not _get_stream_ready(channel):
                await answer_json(exchange, receive, send, headers)
                return
        elif not exchange.json:  # (whole, if it ended before its response began)
            await self.hosting.carry(channel, exchange, receive, send, headers)
            return
        await self._respond_with_care(exchange, receive, send, headers, 0.0)

    async def _unanswered(self, exchange: Exchange, waiting: dict[Exchange, _Answer]) -> None:
        """`_serve_here` once its request ended unanswered (cancelled from elsewhere), its
        entry in `waiting` (`meanwhile`'s dict it was added to): the response begun meanwhile
        is cancelled, or the stream is left as `_respond` leaves one no connection carries."""
        if waiting.pop(exchange, None) is None:
            begun = self.meanwhile.ran.pop(exchange, None)
            if begun is not None:
                begun.cancel()
                return
        channel = exchange.channel
        assert channel is not None
        exchange.detach()
        await channel.release(exchange, delivered=False)

    def _respond_meanwhile(self, exchange: Exchange, answer: _Answer) -> asyncio.Task[None]:
        """Begin the response of a request `_serve_here` still serves after FIRST_WAIT, in
        a task of its own (`meanwhile`'s timer runs it: the loop is running)."""
        receive, send, headers = answer
        # (What to answer with is chosen when the task runs, as the handler may still say
        # until then that it wants JSON: `HttpChannel.answer_as_json`.)
        return asyncio.get_running_loop().create_task(
            self._respond_with_care(exchange, receive, send, headers, 0.0)
        )

    def _respond(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
        first_wait: float,
    ) -> Coroutine[object, object, None]:
        """Answer a POST that started requests: one JSON object, or its SSE stream. The
        usual answer is the coroutine that writes it, with none of this method's around it;
        `_respond_with_care` is the rest."""
        # fast path: an awaitable, not a coroutine of its own (docs/performance.md, fast paths)
        channel = exchange.channel
        assert channel is not None
        if not first_wait:
            if self.json_response:
                if not _get_stream_ready(channel):
                    return answer_json(exchange, receive, send, headers)
            elif not exchange.json:
                return self.hosting.carry(channel, exchange, receive, send, headers)
        return self._respond_with_care(exchange, receive, send, headers, first_wait)

    async def _respond_with_care(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        headers: Sequence[tuple[bytes, bytes]],
        first_wait: float,
    ) -> None:
        """`_respond` when the answer may wait a moment: for its first message (`first_wait`),
        for the GET stream's writer, or for the stream to be forgotten (a JSON answer chosen
        by the handler)."""
        channel = exchange.channel
        assert channel is not None
        if self.json_response:
            if _get_stream_ready(channel):
                await asyncio.sleep(0)
            await answer_json(exchange, receive, send, headers)
            return
        # A call's stream waits a moment for its first message, so that a quick answer goes
        # out with the response's head; and a poll's handler has said by then that it
        # wants JSON (HttpChannel.answer_as_json).
        if first_wait:
            generation = exchange.generation
            try:
                await exchange.wait_ready(generation, first_wait)
            except asyncio.CancelledError:  # as if its connection went: the request goes on
                exchange.detach(generation)
                await channel.release(exchange, delivered=False)
                raise
        if exchange.json:
            await channel.streams.forget(exchange)  # not a stream: nothing to keep for a resumption
            if _get_stream_ready(channel):
                await asyncio.sleep(0)
            await answer_json(exchange, receive, send, headers)
        else:
            await self.hosting.carry(channel, exchange, receive, send, headers)


async def _submit(
    session: HttpSession,
    body: bytes,
    info: RequestInfo,
    *,
    resumable: bool = True,
    serve_here: bool = False,
) -> Exchange | None:
    """Hand `body` to the session, which reads it; None if the session ended. With
    `serve_here`, a request the body holds alone is left on the exchange, to be served in
    this task (`_serve_here`). (Not in a stateless app, whose client leaving ends the
    POST's session and so its request: that is the POST's task's to notice.)"""
    try:
        return await session.submit(body, info, resumable=resumable, serve_here=serve_here)
    except ConnectionClosed:
        return None


def _get_stream_ready(channel: HttpChannel) -> bool:
    """Whether the GET stream's writer has been woken by what a request answered with JSON
    sent there while it ran (progress, log messages): it is then let write it before the
    answer (one turn, `asyncio.sleep(0)`: the writer, scheduled already, runs first), so its
    client hears of them before the result, as when the request ran in a task of its own."""
    get = channel.streams.stream
    return get is not None and get.ready(get.generation)


async def _nothing() -> None:
    """What `_answer_body` answers a POST whose client went away with: nothing."""


def _no_session() -> Refusal:
    refusal = session_id((), required=True)
    assert isinstance(refusal, Refusal)
    return refusal


def _bad_body(answer: bytes) -> Refusal:
    return Refusal(400, "the body is not a JSON-RPC message", answer, _JSON)
