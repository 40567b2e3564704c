"""The response to a POST whose request is modern (2026-07-28), served in the
POST's own task (`mcpkit.server.request_peer`; spec: basic/transports/streamable-http,
"Sending Messages", "Receiving Messages", "Cancellation").

The answer is one JSON object, or an SSE stream when the app answers with streams and the
handler sends something while it runs (progress, log messages) - or streams its answer anyway
(the app's choice). An error answer that nothing preceded goes as JSON with the status its
revision gives it (400, 404 for an unknown method). Closing the response is the cancellation:
a call still running a moment after it began gets a watcher, which cancels it when the client
goes; a quick call never pays for one, nor for a timer of its own (`OwnCalls`). Each client
(its token's owner, else its address) has a cap of requests in flight (`OwnCalls.let_in`).

Before anything of the request runs, what the server's reading session read of the body is
checked against the headers a 2026-07-28 POST mirrors from it (`MirrorCheck`; the rule itself,
as a pure function, is `mirrored.mirror_problem`): a check only these POSTs get, asked where
they are served.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import get_running_loop
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final

import msgspec

from mcpkit._asgi import Headers, Message, Receive, Send, head_of, send_whole
from mcpkit.errors import McpError
from mcpkit.protocol.codes import (
    HEADER_MISMATCH,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.modern import REVISION_KEY
from mcpkit.protocol.outbox import ModernRead
from mcpkit.runtime.connection import serve
from mcpkit.runtime.response import MESSAGE, RESULT, Kind, Response
from mcpkit.transports.http._exchange import SSE_HEADERS, send_refusal, until_disconnect
from mcpkit.transports.http.live_sessions import ClientRoom, HostServer, RequestServer
from mcpkit.transports.http.mirrored import MirrorMemory, body_problem, error_body
from mcpkit.transports.sse import encode_event

__all__ = [
    "END_GRACE",
    "WATCH_AFTER",
    "MirrorCheck",
    "OwnCall",
    "OwnCalls",
    "error_status",
]

logger = logging.getLogger("mcpkit.http")

_JSON: Final = ((b"content-type", b"application/json"),)
#: Seconds a request runs at most before a watcher starts to notice its client leaving: a
#: call answered within half of it never costs a task for it (`OwnCalls`).
WATCH_AFTER: Final = 0.01
#: Seconds a listen ended to make room has to send its answer before it is cut off: a client
#: that does not read it must not keep it.
END_GRACE: Final = 5.0


#: Whose the listens `OwnCalls.let_in` ended are, until they end: no client's (its count
#: of requests leaves them out), but still among the calls served (`OwnCalls.cut_all`).
_ENDING: Final = object()


async def _answer_read(peer: RequestServer, read: ModernRead, send: Send) -> None:
    """Answer a body that held no request to serve: what the reading session answered itself
    (`RequestServer.answer_read`), 400 for a body refused as a whole, 202 for one that awaits
    no answer (notifications)."""
    started, refused = await peer.answer_read(read)
    if refused:
        await send_whole(send, error_status(refused[0]), refused[0], _JSON)
    elif not started:
        await send_whole(send, 202)


def _sse_head() -> Message:
    """The head of an SSE answer (a new header list each time: middleware may change it)."""
    return {"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS]}


class OwnCalls:
    """The 2026-07-28 requests an app serves now: ended all at once at shutdown (`cut_all`),
    and each watched for its client leaving once it has run `WATCH_AFTER` at most. One timer
    serves them all (armed when a call starts with none armed, re-armed while calls wait to
    be watched), not one per call: a timer costs more than a quick call's answer. Each
    client's are counted apart, oldest first, for its cap (`let_in`), which `caps` (the app's
    `request_caps`) set and word the 503 of.

    The timer looks every half of `WATCH_AFTER`, and a call is stamped with the number of
    looks before it began (`OwnCall.look`), not with the time: it is watched at the second
    look after, having run between half of `WATCH_AFTER` and `WATCH_AFTER` by then. (The
    count is an attribute read; a clock read would be a call on every call.)"""

    __slots__ = ("_by_client", "_looks", "_timer", "_unwatched", "caps")

    def __init__(self, caps: ClientRoom) -> None:
        self.caps = caps
        # Each client's requests in the order they began (`let_in`): its `OwnCall`s, and the
        # POSTs of a stateless app, which have none. Every call served now is in it: under
        # None when its client is unknown, under `_ENDING` once `let_in` ended it. (One
        # place for them all: a set of the calls besides would be two more steps a call.)
        self._by_client: dict[Hashable, dict[object, None]] = {}
        # In the order they started; an entry whose call ended is skipped when reached.
        self._unwatched: deque[OwnCall] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._looks = 0  # the timer's looks so far

    def __len__(self) -> int:
        return len(self._calls())

    def _calls(self) -> list[OwnCall]:
        """The calls served now."""
        every = self._by_client.values()
        return [call for mine in every for call in mine if isinstance(call, OwnCall)]

    async def serve(
        self,
        server: HostServer,
        new_peer: Callable[[Response], RequestServer],
        info: RequestInfo,
        body: bytes,
        receive: Receive,
        send: Send,
        json_response: bool,
        room: tuple[Hashable, int, str] | None,
        check: MirrorCheck,
    ) -> None:
        """Serve `body` (a 2026-07-28 request whose headers were checked) in this task, by the
        peer `new_peer` makes (`server.request_peer`, read once by the caller), and
        answer it (as JSON when `json_response`, else as its handler's messages say), once
        its client has room for it (`room`: from `caps.of`, see `let_in`; else a
        503), and unless `check`, asked of what the server's reading session read of it,
        refuses it (its answer then goes instead, 400). While it runs it is among these
        calls, as its client's: `OwnCall.cut` (a shutdown past its grace) ends it as a
        client that goes away does, the handler cancelled and the response ended with no
        answer. (Its settings come by position: every POST passes them.)"""
        task = asyncio.current_task(get_running_loop())
        assert task is not None
        # The call is its own response: one object made per request, not two.
        client: Hashable = None if room is None else room[0]
        call = OwnCall(send, json_response, receive, task, client, self._looks)
        full = self.let_in(room, call, server)
        if full is not None:
            return await send_refusal(send, self.caps.refusal(full))
        self._unwatched.append(call)  # watched once it has run WATCH_AFTER
        if self._timer is None:
            self._arm()
        call.request = peer = new_peer(call)
        # The body read by the server's reading session (which keeps nothing of it), then
        # the transport's own check of what it read, before anything of it runs: the
        # headers a 2026-07-28 POST mirrors from its body (-32020).
        read = check.checked(peer.reader.read_sessionless(body, info, peer))
        del body  # not kept while the request runs (a listen may stay open for hours)
        request = read.request  # (None for a body refused as a whole: `ModernRead`)
        try:
            if request is not None:
                # An exchange served as every request is (`runtime.connection.serve`): the
                # peer it was read for is its reply, which writes its answer to this call.
                await serve(request)
        except asyncio.CancelledError:
            call.serving = False
            if not call.cut_off or task.uncancel() > 0:
                raise  # not ours: the server cancels this response
            await call.end()
            return
        finally:
            call.serving = False
            if call.watcher is not None:
                call.watcher.cancel()
            self.count_out(call.client, call)  # (`_ENDING`'s, once `let_in` ended it)
            call.request = None
            # Calls mostly end in the order they began: the ended ones at the head of
            # `_unwatched` go now, not at the next sweep (each holds its POST's task and
            # `receive`: uvicorn's request cycle, its scope, headers and transport).
            unwatched = self._unwatched
            while unwatched and not unwatched[0].serving:
                unwatched.popleft()
        if call.cut_off:
            task.uncancel()  # a handler swallowed the cancellation; it is spent
        if request is None:
            await _answer_read(peer, read, send)

    def count(self, client: Hashable) -> int:
        """How many requests `client` has in flight (those ending to make room not counted)."""
        return len(self._by_client.get(client, ()))

    def let_in(
        self, room: tuple[Hashable, int, str] | None, request: object, server: HostServer
    ) -> str | None:
        """Count `request` among its client's requests in flight (`room`, from
        `caps.of`: the client, its cap and the cap's setting; None for a client not
        known) until `count_out`, once the client has room for one more: at once when it is
        below its cap, or once its oldest open `subscriptions/listen` is answered (its
        graceful end, `server.end_listen`; spec: basic/patterns/subscriptions, "Graceful
        Closure"), which then counts no more and is cut off if its answer is not out within
        `END_GRACE`. Otherwise the setting that is exhausted, for a 503, and nothing is
        counted: every request of the client's is a call someone waits for. Only the
        client's own requests ever end."""
        key = None if room is None else room[0]
        by_client = self._by_client
        mine = by_client.get(key)  # (one lookup of a tuple key: `in` then `[]` hash it twice)
        if mine is None:
            by_client[key] = {request: None}
            return None
        if room is not None and len(mine) >= room[1]:
            if not self._end_oldest_listen(key, mine, server):
                return room[2]
            logger.info("a client was at its %s cap: ended its oldest listen", room[2])
            mine = by_client.setdefault(key, {})  # (the listen it ended may have been all)
        mine[request] = None
        return None

    def _end_oldest_listen(
        self, key: Hashable, mine: dict[object, None], server: HostServer
    ) -> bool:
        """Answer the oldest open listen among `mine` (`key`'s calls), if one is: it is then
        counted under `_ENDING`, and cut off after `END_GRACE`."""
        for call in mine:
            if isinstance(call, OwnCall) and call.serving and server.end_listen(call.request):
                self.count_out(key, call)
                call.client = _ENDING  # (served still, until its answer is out or it is cut)
                self._by_client.setdefault(_ENDING, {})[call] = None
                asyncio.get_running_loop().call_later(END_GRACE, call.cut)
                return True
        return False

    def count_out(self, client: Hashable, request: object) -> None:
        """Count `request` no more among `client`'s (`let_in`); a client with none left goes."""
        # (One lookup of a tuple key: `in` then `[]` would hash it twice.)
        mine = self._by_client.get(client)
        if mine is not None:
            mine.pop(request, None)
            if not mine:
                del self._by_client[client]

    def _arm(self) -> None:
        """Arm the timer (none is) for the next look, half of `WATCH_AFTER` from now."""
        self._timer = get_running_loop().call_later(WATCH_AFTER / 2, self._sweep)

    def cut_all(self) -> None:
        for call in self._calls():
            call.cut()

    def _sweep(self) -> None:
        """A look: the calls that began before the previous one are watched."""
        self._timer = None
        self._looks = looks = self._looks + 1
        unwatched = self._unwatched
        while unwatched:
            call = unwatched[0]
            if call.serving and call.look >= looks - 1:  # began since the previous look
                self._arm()
                return
            unwatched.popleft()
            call.watch()  # (nothing for a call that has ended)


class OwnCall:
    """A request served in its POST's `task`, and its HTTP response (`send`, as JSON when
    `json`: a `mcpkit.runtime.response.Response`). Cut off (`cut`) when its client
    disconnects, which a watcher notices once the call has run for `WATCH_AFTER` at most
    (`OwnCalls`), or at shutdown."""

    __slots__ = (
        "client",
        "cut_off",
        "done",
        "json",
        "look",
        "receive",
        "request",
        "send",
        "serving",
        "streaming",
        "task",
        "watcher",
    )

    send: Send
    json: bool
    streaming: bool  # the head of an SSE answer is sent
    done: bool  # the final answer is sent
    receive: Receive
    task: asyncio.Task[Any]
    request: object  # what serves it (`HostServer.request_peer`)
    client: Hashable  # who sent it, for its cap (`OwnCalls.let_in`)
    look: int  # the looks of `OwnCalls`' timer before it began
    serving: bool
    cut_off: bool
    watcher: asyncio.Task[None] | None

    def __init__(
        self,
        send: Send,
        json: bool,
        receive: Receive,
        task: asyncio.Task[Any],
        client: Hashable,
        look: int,
    ) -> None:
        self.send = send
        self.json = json
        self.streaming = False
        self.done = False
        self.receive = receive
        self.task = task
        self.request = None
        self.client = client
        self.look = look
        self.serving = True
        self.cut_off = False
        self.watcher = None

    def answer_as_json(self) -> None:
        self.json = True

    async def end(self) -> None:
        """End the response with no answer (the request was cut off): an SSE stream that
        ends without its response, which a client reads as the server gone (with no
        resumption under 2026-07-28, there is nothing else to say)."""
        if self.done:
            return
        self.done = True
        try:
            if not self.streaming:
                await self.send(_sse_head())
            await self.send({"type": "http.response.body", "body": b""})
        except OSError:
            pass

    async def emit(self, data: bytes, kind: Kind) -> None:
        send = self.send
        try:
            if kind is MESSAGE:
                if self.json:
                    return  # one JSON object carries the answer alone
                if not self.streaming:
                    self.streaming = True
                    await send(_sse_head())
                await send(
                    {"type": "http.response.body", "body": encode_event(data), "more_body": True}
                )
            elif self.streaming:
                self.done = True
                await send({"type": "http.response.body", "body": encode_event(data)})
            else:
                self.done = True
                status = 200 if kind is RESULT else error_status(data)
                if self.json or status != 200:
                    await send(head_of(status, data, _JSON))
                    await send({"type": "http.response.body", "body": data})
                else:
                    await send(_sse_head())
                    await send({"type": "http.response.body", "body": encode_event(data)})
        except OSError:
            pass  # the client is gone (uvicorn: ClientDisconnected); the watcher says so too

    def cut(self) -> None:
        """Cancel the request. Only while it is served: the task then waits inside it, so
        the cancellation lands there (never after, where nothing would take it back)."""
        if self.serving and not self.cut_off:
            self.cut_off = True
            self.task.cancel()

    def watch(self) -> None:
        if self.serving and self.watcher is None:
            self.watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        await until_disconnect(self.receive)
        self.cut()


class MirrorCheck(msgspec.Struct):
    """`mirror_problem` (`check_revision`) of one body, asked of what the server's reading
    session read of it (`checked`): of the request it would serve, from the params it decoded
    (`request`); else (`rest`: a body it refused, or that held no request) from the body,
    decoded here. Either way the answer is `mirror_problem`'s over `read_mirrored`'s fields,
    and it replaces any the session gave; the body is let go once asked. (A struct: made in
    C, once per POST.)"""

    body: bytes | None
    headers: Headers
    #: The server's: its tools' mirrored arguments, and what its checks remember.
    memos: MirrorMemory
    #: `distinct(headers)`, when no name repeats.
    each: Mapping[bytes, bytes] | None

    def checked(self, read: ModernRead) -> ModernRead:
        """`read`, what the server's reading session read of the body, when the headers
        agree with it; else a read that refuses the body with -32020 (HTTP 400), whatever
        the session made of it."""
        request = read.request
        if request is None:
            answer = self.rest()
        else:
            rid = request.request_id
            terms = request.terms
            # (The revision its `_meta` names is its terms': told, so that the check need
            # not read the `_meta` itself.)
            revision = None if terms is None else terms.revision
            refusal = self.request(rid, request.method, request.params, revision)
            answer = None if refusal is None else error_body(rid, refusal)
        return read if answer is None else ModernRead(None, [], [], [answer], False)

    def request(
        self, request_id: int | str, method: str, params: Any, revision: str | None = None
    ) -> McpError | None:
        """The refusal of the request the body holds, read as `method` with `params` (and
        the revision its `_meta` names, where known), or None to serve it."""
        body = self.body
        if body is None:
            return None  # (asked before, of this body: its answer stands)
        self.body = None
        agreed = False  # (whether the fixed headers were found to say what the body does)
        each = self.each
        if each is not None:
            # The usual request: `_agrees` of the fields `read_mirrored` would read, found in
            # the params as decoded (whatever struct the method's params decode into), each a
            # string (decoded from the same JSON: the same value). Where they cannot be found
            # so, or do not agree, the full check below decides.
            kind: type = type(params)  # pyright: ignore[reportUnknownVariableType]  # (Any)
            memos = self.memos
            last = memos.last_attrs
            if kind is last[0] and method == last[1]:
                attrs = last[2]
            else:
                attrs = memos.attrs_for(kind, method)
            if attrs is not None:
                held, naming = attrs
                if revision is None:  # (else the session's, from the same `_meta`)
                    # (The usual attribute names read as attributes, not by `getattr`.)
                    meta: dict[str, Any] | None = (
                        params.meta if held == "meta" else getattr(params, held)
                    )
                    # (`type() is dict`: a `_meta` decoded as an object, its keys as sent)
                    revision = meta.get(REVISION_KEY) if type(meta) is dict else None
                named: object = (
                    None
                    if not naming
                    else params.name
                    if naming == "name"
                    else getattr(params, naming)
                )
                if (
                    type(revision) is str
                    and (not naming or type(named) is str)
                    and _agrees(memos, each, method, revision, named)
                ):
                    if method != "tools/call":
                        return None
                    # The usual tool mirrors no argument: one found so since the tools last
                    # changed is in `plain_tools` (the count compared first: a tool changed
                    # since is asked of again). (`named`: a string, tools/call names its tool.)
                    tools = memos.tools
                    if (
                        memos.tools_at == tools.changes and named in memos.plain_tools
                        if tools is not None
                        else memos.param_headers is None
                    ) or (type(named) is str and memos.mirrors_none(named)):
                        return None
                    agreed = True  # (the tool mirrors arguments: only they are left)
        # Anything else is checked as it always was: from the fields read from the body.
        refused = body_problem(body, self.headers, self.memos, self.each, agreed)
        return None if refused is None else refused[1]

    def rest(self) -> bytes | None:
        """The answer to a body that held no request to serve, from the body itself."""
        body = self.body
        if body is None:
            return None  # the request was asked about: its answer stands
        self.body = None
        refused = body_problem(body, self.headers, self.memos, self.each)
        return None if refused is None else error_body(refused[0].id, refused[1])


def _agrees(
    memos: MirrorMemory, each: Mapping[bytes, bytes], method: str, revision: str, named: object
) -> bool:
    """Whether the fixed headers (one of each, by name in `each`) say what the body does: its
    method, its `_meta` revision and the item it names (`named`, not mirrored unless a
    string). Each header's text is one lookup in a memo of the values seen (a client sends
    the same few), not a strip and a decode per request."""
    # (Subscripts in a `try`, not `.get` calls: a known value is found with no method call.)
    texts = memos.texts
    try:
        agree = texts[each[b"mcp-protocol-version"]] == revision
        agree = agree and texts[each[b"mcp-method"]] == method
    except KeyError:  # a header not sent, or a value not yet in the memo
        agree = _sent_text(memos, each, b"mcp-protocol-version") == revision
        agree = agree and _sent_text(memos, each, b"mcp-method") == method
    if not agree:
        return False
    if type(named) is not str:
        return True  # (nothing for Mcp-Name to mirror: the full check asks nothing of it)
    try:
        return memos.names[each[b"mcp-name"]] == named
    except KeyError:
        sent = each.get(b"mcp-name")
        return sent is not None and memos.decode_value(sent) == named


def _sent_text(memos: MirrorMemory, each: Mapping[bytes, bytes], name: bytes) -> str | None:
    value = each.get(name)
    return None if value is None else memos.text(value)


def error_status(message: bytes) -> int:
    """The HTTP status of a 2026-07-28 answer (basic/transports/streamable-http): 404 for an
    unknown method, 400 for the errors that say the request itself was wrong (invalid params,
    a header or revision mismatch, a capability the client did not declare), 200 otherwise."""
    try:
        answer = msgspec.json.decode(message, type=_ErrorOnly)
    except msgspec.DecodeError:
        return 200
    if answer.error is None:
        return 200
    return _ERROR_STATUS.get(answer.error.code, 200)


class _Code(msgspec.Struct):
    code: int = 0


class _ErrorOnly(msgspec.Struct):
    error: _Code | None = None


_ERROR_STATUS: Final = {
    METHOD_NOT_FOUND: 404,
    INVALID_PARAMS: 400,
    HEADER_MISMATCH: 400,
    MISSING_REQUIRED_CLIENT_CAPABILITY: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
    INVALID_REQUEST: 400,
    PARSE_ERROR: 400,
}
