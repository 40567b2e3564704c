"""A 2025-era upstream's questions to the client, asked of a 2026-07-28 client as multi
round-trip requests (spec: basic/patterns/mrtr; docs/proxy.md, "Clients of 2026-07-28").

An upstream server of the legacy era asks its client mid-call (`elicitation/create`,
`sampling/createMessage`, `roots/list`) and waits for the answer on the same call. A 2026
client cannot be asked: the request it made ends with an `InputRequiredResult` naming the
questions, and the client retries it with the answers (`inputResponses`) and the
`requestState` it was given. So the proxy keeps the upstream call running between the rounds
(`PendingCall`, holding a pooled upstream session of its own), answers the upstream's pending
questions with the retry's answers, and goes on waiting for the upstream's result or its next
question. The requestState names the call by a random id, sealed with the proxy's
`state_seal` (bound to the request and to the caller, and to the round: an earlier round's
state is refused), never trusted unsealed.

Bounds: the pending calls are at most the pool's upstream sessions
(`max_modern_upstreams`), and a call whose client does not retry within `input_timeout`
seconds is cancelled upstream and forgotten; a retry after it gets -32602 saying so.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import REQUIRED_CAPABILITY, has_capability
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.protocol.modern import missing_capability
from mcpkit.proxy.downstream import Down
from mcpkit.proxy.pool import LinkPool
from mcpkit.server.asking.request_state import StateSeal, request_digest
from mcpkit.server.catalog.callers import principal_of

if TYPE_CHECKING:
    from mcpkit.protocol.events import RequestReceived
    from mcpkit.protocol.terms import Terms
    from mcpkit.proxy.upstream_link import Downstream, Link
    from mcpkit.runtime.connection import ProgressCallback
    from mcpkit.types import ClientCapabilities, RequestId

__all__ = ["DEFAULT_INPUT_TIMEOUT", "PendingCall", "RoundTrips", "upstream_params"]

#: Seconds a call waits for its client's retry before it is cancelled upstream.
DEFAULT_INPUT_TIMEOUT: Final = 300.0
#: What a 2026 request's params carry that the upstream (of the legacy era) must not see.
_ROUND_FIELDS: Final = ("inputResponses", "requestState")
_RESERVED_META: Final = "io.modelcontextprotocol/"


def upstream_params(params: Any) -> Any:
    """A 2026 request's params as its 2025 counterpart: no per-request terms in `_meta` (the
    upstream session has its own), no progress token (the link puts its own), no answers or
    state (the proxy's, not the upstream's)."""
    if params is None:
        return None
    raw = msgspec.json.decode(msgspec.json.encode(params))
    if not isinstance(raw, dict):
        return raw
    fields = cast("dict[str, Any]", raw)
    for name in _ROUND_FIELDS:
        fields.pop(name, None)
    meta: Any = fields.pop("_meta", None)
    if isinstance(meta, dict):
        kept = {
            k: v
            for k, v in cast("dict[str, Any]", meta).items()
            if not k.startswith(_RESERVED_META) and k != "progressToken"
        }
        if kept:
            fields["_meta"] = kept
    return fields


def _input_request(method: str, params: Any) -> dict[str, Any]:
    """An upstream request as an InputRequest: its `_meta` (a progress token of the upstream
    session), task augmentation and URL elicitation id (2025-11-25 only) left out."""
    raw: Any = msgspec.to_builtins(params) if params is not None else {}
    request: dict[str, Any] = {"method": method}
    if isinstance(raw, dict):
        fields = cast("dict[str, Any]", raw)
        for name in ("_meta", "task", "elicitationId"):
            fields.pop(name, None)
        if fields:
            request["params"] = fields
    return request


def _lacking(caps: ClientCapabilities, method: str, params: Any) -> tuple[str, ...] | None:
    """The client capability an input request needs that `caps` does not declare."""
    path = REQUIRED_CAPABILITY.get(method)
    if path is None:
        return None
    if not has_capability(caps, path):
        return path
    if method == "elicitation/create":
        mode = field_of(params, "mode") or "form"
        declared = {m for m in ("form", "url") if has_capability(caps.elicitation, (m,))}
        if mode not in (declared or {"form"}):  # an empty object means form only
            return ("elicitation", str(mode))
    elif method == "sampling/createMessage" and field_of(params, "tools"):
        if not has_capability(caps, ("sampling", "tools")):
            return ("sampling", "tools")
    return None


def _url_elicitations(upstream: asyncio.Task[Any]) -> list[Any]:
    """The URL elicitations an upstream call's -32042 names (none for any other end)."""
    if upstream.cancelled():
        return []
    error = upstream.exception()
    if not isinstance(error, McpError) or error.code != codes.URL_ELICITATION_REQUIRED:
        return []
    found = field_of(error.data, "elicitations")
    if not isinstance(found, list):
        return []
    return [e for e in cast("list[object]", found) if isinstance(e, dict)]


class _Asking(dict[str, Any]):
    """An InputRequiredResult without its requestState (which `RoundTrips` seals)."""


class _Question:
    __slots__ = ("answer", "method", "params", "request")

    def __init__(self, method: str, params: Any) -> None:
        self.method = method
        self.params = params
        self.request = _input_request(method, params)
        self.answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class PendingCall:
    """One 2026 request's upstream call, alive across its rounds (see the module's docstring):
    the holder of its link, and the `Downstream` of its call on it."""

    def __init__(self, call_id: str, calls: RoundTrips) -> None:
        self.id = call_id
        self.calls = calls
        self.link: Link | None = None
        self.upstream: asyncio.Task[Any] | None = None
        #: Rounds answered with an InputRequiredResult (the requestState names the last).
        self.round = 0
        #: The round being served: where the upstream's progress and log messages go.
        self.current: Down | None = None
        self._terms: Terms[ClientCapabilities] | None = None
        self._asked: dict[str, _Question] = {}
        self._numbers = itertools.count(1)
        self._wake = asyncio.Event()
        self._expiry: asyncio.TimerHandle | None = None
        self._call: tuple[RequestReceived, Any] | None = None
        #: The URL elicitations the upstream's -32042 named, asked of the client: the call
        #: is sent again once it has answered them.
        self._visits: dict[str, _Question] = {}
        self.finished = False

    async def start(self, ev: RequestReceived, params: Any) -> None:
        """Take an upstream session of the pool that declares what this call's client does,
        and send the call on it."""
        caps = None if ev.terms is None else ev.terms.peer_capabilities
        self.link = await self.calls.pool.acquire(self, caps)
        self._call = (ev, params)
        self._send()

    def _send(self) -> None:
        link = self.link
        assert link is not None and self._call is not None
        ev, params = self._call
        self.upstream = asyncio.create_task(link.forward(self, ev, params))

    # ------------------------------------------------------------- upstream side

    @property
    def request_id(self) -> RequestId | None:
        """The round being served's request (none between rounds)."""
        return None if self.current is None else self.current.request_id

    async def ask(
        self, ev: RequestReceived, related: Downstream | None, on_progress: ProgressCallback | None
    ) -> Any:
        """The upstream's question: asked of the client in the next InputRequiredResult;
        returns its answer (cancelled with the upstream's request)."""
        question = _Question(ev.method, ev.params)
        key = f"q{next(self._numbers)}"
        self._asked[key] = question
        self._wake.set()
        try:
            return await question.answer
        finally:
            self._asked.pop(key, None)

    async def log(self, params: Any) -> None:
        """An upstream log message, to the round being served (none between rounds)."""
        down = self.current
        if down is not None:
            await down.log(params)

    async def progress(self, progress: float, total: float | None, message: Any) -> None:
        down = self.current
        if down is not None:
            await down.progress(progress, total, message)

    # --------------------------------------------------------------- client side

    async def serve_round(
        self, down: Down, terms: Terms[ClientCapabilities], responses: Any
    ) -> Any:
        """One round: the answers given to the questions they answer, then the upstream's
        result, or the open questions (a dict, its requestState still to add)."""
        if self.current is not None:
            raise McpError(
                codes.INVALID_PARAMS,
                "Invalid params: this request's previous round is still being served; "
                "retry once it has been answered",
            )
        self._stop_expiry()
        self.current, self._terms = down, terms
        served = False
        try:
            self._answer(responses)
            result = await self._next()
            served = True
            return result
        finally:
            self.current = None
            if not served or self.finished:
                self.finish()  # the client cancelled it, or left, or it ended
            else:
                self._start_expiry()

    def _answer(self, responses: Any) -> None:
        if not isinstance(responses, dict):
            return
        for key, answer in cast("dict[str, Any]", responses).items():
            question = self._asked.get(key) or self._visits.get(key)
            if question is None or question.answer.done():
                continue  # not asked, or no longer (the upstream cancelled it)
            value: Any = msgspec.to_builtins(answer)
            if isinstance(value, dict):
                cast("dict[str, Any]", value).pop("resultType", None)
            question.answer.set_result(value)

    async def _next(self) -> Any:
        declined = bool(self._visits) and not self._visited()
        upstream = self.upstream
        assert upstream is not None
        while True:
            if upstream.done():
                visits = None if declined else _url_elicitations(upstream)
                if visits:
                    return self._input_required(self._ask_visits(visits))
                self.finished = True
                return upstream.result()  # (or its error)
            asked = {k: q for k, q in self._asked.items() if not q.answer.done()}
            if asked:
                return self._input_required(asked)
            self._wake.clear()
            waking = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait((upstream, waking), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waking.cancel()

    def _ask_visits(self, visits: list[Any]) -> dict[str, _Question]:
        """The URL elicitations of the upstream's -32042 (URLElicitationRequiredError, gone
        from 2026-07-28), asked as input requests: the 2026 way of "visit these, then retry"."""
        self._visits = {
            f"q{next(self._numbers)}": _Question("elicitation/create", visit) for visit in visits
        }
        return self._visits

    def _visited(self) -> bool:
        """The client answered the URL elicitations: the call goes upstream again, unless it
        declined one (False: then the upstream's error is its answer)."""
        visits, self._visits = self._visits, {}
        answers = [q.answer.result() if q.answer.done() else None for q in visits.values()]
        if not all(field_of(a, "action") == "accept" for a in answers):
            return False
        self._send()
        return True

    def _input_required(self, asked: dict[str, _Question]) -> _Asking:
        terms = self._terms
        assert terms is not None
        for question in asked.values():
            lacking = _lacking(terms.peer_capabilities, question.method, question.params)
            if lacking is not None:
                self.finished = True  # a round of its own could not answer it either
                raise missing_capability(lacking)
        self.round += 1
        return _Asking(
            resultType="input_required",
            inputRequests={key: q.request for key, q in asked.items()},
        )

    # ------------------------------------------------------------------- ending

    def _start_expiry(self) -> None:
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(self.calls.input_timeout, self.finish)

    def _stop_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def finish(self) -> None:
        """End the call: cancelled upstream if it still runs, its link back in the pool."""
        self.finished = True
        self._stop_expiry()
        self.calls.forget(self)
        if self.upstream is not None and not self.upstream.done():
            self.upstream.cancel()
        for question in self._asked.values():
            if not question.answer.done():
                question.answer.cancel()
        link = self.link
        if link is not None:
            self.link = None
            self.calls.pool.release(link, self)


class RoundTrips:
    """The pending calls of one proxy, found again by the sealed id in their requestState."""

    def __init__(self, pool: LinkPool, seal: StateSeal, input_timeout: float) -> None:
        if not input_timeout > 0:
            raise ValueError(
                f"input_timeout must be a number of seconds > 0, not {input_timeout!r}"
            )
        self.pool = pool
        self.seal = seal
        self.input_timeout = input_timeout
        self.calls: dict[str, PendingCall] = {}

    def __len__(self) -> int:
        return len(self.calls)

    async def serve(self, down: Down, ev: RequestReceived, params: Any) -> Any:
        """Serve one round of a 2026 request that may ask its client something."""
        assert ev.terms is not None
        binding = request_digest(ev.method, params)
        principal = principal_of(None if ev.request_info is None else ev.request_info.auth)
        state = field_of(params, "request_state")
        if state is None:  # a first round (answers without a state answer nothing here)
            call = PendingCall(secrets.token_urlsafe(18), self)
            self.calls[call.id] = call
            try:
                await call.start(ev, upstream_params(params))
            except BaseException:
                call.finish()
                raise
            responses = None
        else:
            content = self.seal.open(state, binding, principal).content
            found = self.calls.get(str(content.get("call")))
            if found is None or found.finished:
                raise _refused(
                    "the upstream call it continues is no longer pending (its client did not "
                    f"retry within input_timeout, {self.input_timeout:g} s, or it ended)"
                )
            call = found
            if content.get("r") != call.round:
                raise _refused("it is an earlier round's; send the latest requestState")
            responses = field_of(params, "input_responses")
        result: Any = await call.serve_round(down, ev.terms, responses)
        if isinstance(result, _Asking):
            content = {"call": call.id, "r": call.round}
            return {**result, "requestState": self.seal.seal(binding, principal, content)}
        return result

    def forget(self, call: PendingCall) -> None:
        self.calls.pop(call.id, None)

    def aclose(self) -> None:
        """End every pending call (the proxy stops serving)."""
        for call in list(self.calls.values()):
            call.finish()


def _refused(why: str) -> McpError:
    return McpError(codes.INVALID_PARAMS, f"Invalid params: requestState is refused: {why}")
