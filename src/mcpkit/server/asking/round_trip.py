"""Multi round-trip requests (spec: basic/patterns/mrtr): how a handler's questions to the client
work under 2026-07-28, where the server sends the client no requests.

The same handler code serves both eras. Under 2025-11-25 `ctx.elicit()` sends a request on the
session and waits for the answer. Under 2026-07-28 there is no session to wait on: the request
ends with an `InputRequiredResult` that carries the question, and the client retries the same
request with the answer (`inputResponses`) and the `requestState` we gave it. mcpkit resumes
the handler by running it again from the start, with the answers it already has replayed in
order: each question is numbered in the order it is asked (or named, with `key=`), and a
question whose answer is known returns it at once.

So everything a handler does before its last question runs once per round. The rule (docs/
server.md, "Tools that ask"): before a question, do nothing that must happen only once (no
writes, no charges, no messages to people), or make it idempotent; do it after the last
question. A handler must also ask the same questions in the same order on every run: each
answer is bound to a digest of the question it answered, and a run that asks something else
at that place fails loudly (-32603 naming the tool), rather than silently using an answer to
another question.

Questions asked concurrently (`asyncio.gather(ctx.elicit(...), ctx.sample(...))`) go out
together in one InputRequiredResult: each unanswered ask records its question and raises
`InputRequired`, which is a BaseException so that a handler's `except Exception` does not
swallow it; all gathered asks have run by the time the first reaches the handler's caller.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import REQUIRED_CAPABILITY, has_capability
from mcpkit.protocol.modern import missing_capability
from mcpkit.protocol.terms import Terms
from mcpkit.server.asking.request_state import OpenedState, StateSeal, request_digest
from mcpkit.types import ClientCapabilities

if TYPE_CHECKING:
    from mcpkit.stores.replay import ReplayCache

__all__ = ["InputRequired", "RoundTrip", "RoundTripAsking"]

#: Keys sorted: a question's digest must not depend on the order its params were built in,
#: or the same question asked on the next run would look like another one.
_encoder: Final = msgspec.json.Encoder(order="sorted")


class InputRequired(BaseException):
    """Raised by an ask whose answer the client has not given yet: the handler stops here and
    the request ends with the open questions. Never seen by user code that catches Exception."""


class RoundTrip:
    """The questions and answers of one round of a 2026-07-28 request.

    `answers` are what the client answered, from earlier rounds (in the requestState) and this
    one (`inputResponses`); `digests` bind each earlier answer to its question. `questions` are
    the ones asked this run and not answered, which `result` turns into an InputRequiredResult.
    """

    __slots__ = (
        "_binding",
        "_numbers",
        "answers",
        "digests",
        "method",
        "opened",
        "params",
        "principal",
        "questions",
        "seal",
        "terms",
        "used",
    )

    def __init__(
        self,
        seal: StateSeal,
        terms: Terms[ClientCapabilities],
        method: str,
        params: Any,
        principal: str | None,
    ) -> None:
        self.seal = seal
        self.terms = terms
        self.principal = principal
        self.method = method
        self.params = params
        self._binding: str | None = None
        self.answers: dict[str, Any] = {}
        self.digests: dict[str, str] = {}
        #: The requestState this round came with, verified (None on a first round).
        self.opened: OpenedState | None = None
        state = getattr(params, "request_state", None)
        if state is not None:
            self.opened = seal.open(state, self.binding, principal)
            answers: Any = self.opened.content.get("a")
            digests: Any = self.opened.content.get("d")
            if isinstance(answers, dict) and isinstance(digests, dict):
                self.answers.update(cast("dict[str, Any]", answers))
                self.digests.update(cast("dict[str, str]", digests))
        responses = getattr(params, "input_responses", None)
        if responses:
            # Only answers to the questions the state says were asked and left open count:
            # an answer to a question never asked (sent with no state at all, or ahead of
            # its question) is ignored, as mrtr's "Error Handling" says of what a server does
            # not recognize, and the question is asked when the handler reaches it; an
            # earlier answer cannot be replaced, it travels sealed.
            for key, answer in responses.items():
                if key in self.digests and key not in self.answers:
                    self.answers[key] = msgspec.to_builtins(answer)
        self.questions: dict[str, dict[str, Any]] = {}
        #: Answers the handler used this run, with their questions' digests: the next state.
        self.used: dict[str, tuple[Any, str]] = {}
        self._numbers = itertools.count(1)

    async def spend(self, replay: ReplayCache) -> None:
        """Accept this round's requestState once only (`Server(request_state_single_use=
        True)`): `replay` is the store's replay cache, which every process sharing the store
        asks, so a state replayed to another worker is refused there too. McpError -32602
        for a state already used, or sealed before states had an id."""
        opened = self.opened
        if opened is None:
            return  # a first round: nothing to spend
        # Refused rather than let through: a state with no id could be replayed at will, and
        # single-use is what this server was told to guarantee (mrtr, "Server Requirements").
        if opened.id is None:
            raise _spent("it was sealed before this server made them single-use")
        # Remembered until the state expires, when `StateSeal.open` refuses it anyway; the
        # extra second covers `open` still accepting it at `expires` itself.
        lifetime = max(opened.expires - self.seal.clock(), 0.0) + 1.0
        if not await replay.first_use(f"mcpkit:request-state:{opened.id}", lifetime):
            raise _spent("it was used already")

    @property
    def binding(self) -> str:
        """The digest of the request that its requestState is bound to (made when needed:
        most requests never ask anything)."""
        if self._binding is None:
            self._binding = request_digest(self.method, self.params)
        return self._binding

    @property
    def tool(self) -> str:
        """The request, as an error message names it."""
        params = self.params
        return f"{self.method} {getattr(params, 'name', None) or getattr(params, 'uri', '')}"

    def ask(self, method: str, params: Any, result_type: Any, key: str | None = None) -> Any:
        """The answer to this question, decoded as `result_type`, when the client gave it;
        else record the question and raise InputRequired."""
        # No question of a kind the client did not declare (mrtr, "Server Requirements" 7):
        # it could never be answered, and the client would retry in vain.
        path = REQUIRED_CAPABILITY.get(method)
        if path is not None and not has_capability(self.terms.peer_capabilities, path):
            raise missing_capability(path)
        number = next(self._numbers)
        name = key if key is not None else f"q{number}"
        raw: Any = msgspec.to_builtins(params) if params is not None else {}
        import hashlib  # (here, not at the top: most servers never load hashlib)

        digest = hashlib.sha256(_encoder.encode([method, raw])).hexdigest()[:24]
        # Keys are unique within a request (mrtr, "Server Requirements" 2); two asks under
        # one key would also be handed the same answer.
        if name in self.questions or name in self.used:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"{self.tool} asked two questions under the key {name!r}: keys must be unique",
            )
        known = self.digests.get(name)
        if known is not None and known != digest:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"{self.tool} asked a different question as question {name!r} than in the "
                "previous round: a handler that asks must ask the same questions in the same "
                "order on every run (docs/server.md, 'Tools that ask')",
            )
        answer = self.answers.get(name)
        if answer is not None:
            try:
                decoded = msgspec.convert(answer, result_type)
            except msgspec.ValidationError:
                decoded = None  # not an answer to this question: asked again
            if decoded is not None:
                self.used[name] = (answer, digest)
                return decoded
        # Unanswered (or answered with something that is no result of `method`): the question
        # goes into this round's InputRequiredResult, asked again if it was asked before, as
        # mrtr's "Error Handling" has a server do for missing input.
        request: dict[str, Any] = {"method": method}
        if raw:
            request["params"] = raw
        self.questions[name] = request
        self.digests[name] = digest
        raise InputRequired

    def result(self) -> dict[str, Any]:
        """The InputRequiredResult of this round: the open questions, and the state that holds
        the answers used so far (the client echoes it with the answers to the questions)."""
        # Only answers used this run are carried on: one the handler no longer reached is
        # dropped. The open questions' digests go too, so the next round accepts answers to
        # exactly these questions (see `__init__`).
        digests = {name: digest for name, (_, digest) in self.used.items()}
        digests.update({name: self.digests[name] for name in self.questions})
        content = {"a": {name: answer for name, (answer, _) in self.used.items()}, "d": digests}
        return {
            "resultType": "input_required",
            "inputRequests": self.questions,
            "requestState": self.seal.seal(self.binding, self.principal, content),
        }


def _spent(why: str) -> McpError:
    """-32602, as for any requestState refused (`request_state._refused`): the state is a
    parameter of the request, and the client's way out is to start again without it."""
    return McpError(
        codes.INVALID_PARAMS,
        f"Invalid params: requestState is refused: {why}, and each is accepted once "
        "(request_state_single_use); start the request again without it",
    )


class RoundTripAsking:
    """The `Asking` strategy of a 2026-07-28 request (`mcpkit.server.asking.asks`): the answer
    if the client gave it, else the request ends with the question (see `RoundTrip.ask`)."""

    __slots__ = ("key", "round_trip")

    def __init__(self, round_trip: RoundTrip, key: str | None = None) -> None:
        self.round_trip = round_trip
        self.key = key

    async def ask(self, method: str, params: Any, timeout: float | None, result_type: Any) -> Any:
        """`timeout` is not used: nothing is waited for, the request ends with the question
        and the client takes what time it needs before its retry."""
        return self.round_trip.ask(method, params, result_type, self.key)

    async def send(self, method: str, params: Any, result_type: Any) -> Any:
        """As `ask`. A task-augmented ask does not come this way: `ClientAsks._ask` puts it
        as a plain question when a round trip serves the request."""
        return self.round_trip.ask(method, params, result_type, self.key)

    def asking(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Nothing to hold: no request stays open between the rounds."""
        return contextlib.nullcontext()
