"""The server's role in a session: the handshake, version negotiation and capability rules.

Spec: basic/lifecycle. The client opens with `initialize`; the server answers with the
requested revision when it speaks it, else its latest; the client then sends
`notifications/initialized`. Each side refuses requests for features it did not declare
(-32601) and never sends requests for features the peer did not declare. The client's role
is `client_session`.

Each role fills in `Session`'s hooks. `check_inbound_request` decides whether the peer's
request may be served now: first the phase table (`phases`), then the capability we declared.
That order decides which error a peer sees when both apply: a known method that comes too
early is -32600 whatever feature it needs; only in a phase that serves it can it be -32601.
`handle_own_request` and `handle_own_notification` consume the handshake messages, and
`check_outbound_request` refuses, with LocalProtocolError, to send what the phase or the
peer's declared capabilities forbid: a bug on our side, so it raises rather than answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Final

import msgspec
from msgspec import UNSET

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.answer_checks import (
    check_discover_answer,
    check_initialize_answer,
    discover_answer,
    initialize_answer,
    negotiated,
)
from mcpkit.protocol.answering import progress_token_of
from mcpkit.protocol.capabilities import (
    capability_error,
    check_request_to_client,
    undeclared,
)
from mcpkit.protocol.depth import SHORT_MESSAGE
from mcpkit.protocol.events import (
    Event,
    InitializedReceived,
    InitializeReceived,
    RequestInfo,
    RequestReceived,
)
from mcpkit.protocol.extensions import Extension, declares, methods_with
from mcpkit.protocol.ids import RequestIds
from mcpkit.protocol.jsonrpc import Envelope
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.modern import ModernOffer, carries_terms, missing_capability
from mcpkit.protocol.outbox import Batch, ModernRead
from mcpkit.protocol.phases import SERVER_PHASES, SERVER_STEPS, next_phase
from mcpkit.protocol.receiving import METHOD_TABLES
from mcpkit.protocol.session import DEFAULT_MAX_INFLIGHT, Session
from mcpkit.protocol.terms import KeepsTerms, Terms
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    InitializeRequestParams,
    InitializeResult,
    RequestId,
    ServerCapabilities,
)
from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS, MethodInfo, methods_for

__all__ = ["ServerSession"]

# What the peer counts as having declared before the handshake: nothing, so every capability
# check on it fails closed until `initialize` says otherwise.
_NO_CLIENT_CAPABILITIES: Final = ClientCapabilities()
_MODERN: Final = SERVER_PHASES["modern"]
# `check_inbound_request` asks nothing of this row: it refuses no method.
assert _MODERN.receives is None and not _MODERN.refuses
# Methods only a modern request can name: without them, the request lacks the
# `_meta` its revision requires (-32602), rather than naming an unknown method.
_MODERN_ONLY: Final = frozenset(
    m for rev in MODERN_REVISIONS for m in methods_for(rev)
) - frozenset(methods_for(SUPPORTED_REVISIONS[0]))


class ServerSession(Session):
    """The server's end: answers `initialize` itself (or hands it to the runtime, `intercepts`,
    which then has it checked and settled by `accept_initialize`), then serves the declared
    features.

    `phase` changes only through `SERVER_STEPS`. `terms` is None until the handshake settles
    it (`initialize` answered, `resume`, `start_stateless`), and is then replaced whole, never
    changed. `capabilities` are what the client was told in the `initialize` result: every
    inbound request is checked against them, so they should not change after it.
    """

    inbound_direction = "client_to_server"
    answers_itself = frozenset({"ping", "initialize", "server/discover"})
    #: What 2026-07-28 params decode into where they differ, for the offer a session
    #: builds when none is given (`ModernOffer.param_types`).
    modern_param_types: ClassVar[Mapping[str, type]] = MappingProxyType({})
    #: The capabilities last checked against and the methods they do not serve (`undeclared`),
    #: worked out by `check_inbound_request` when it meets other capabilities: one lookup per
    #: request. Kept on the class, one entry for every session: the sessions of a server share
    #: its capabilities object (one table per session was 272 bytes of every idle session).
    _unserved: tuple[object, Mapping[str, tuple[str, ...]]] = (None, MappingProxyType({}))
    #: Whether `read_sessionless` may take its fast path for the usual request
    #: (`__init_subclass__`).
    _folds: bool = True

    def __init__(
        self,
        server_info: Implementation,
        capabilities: ServerCapabilities,
        *,
        instructions: str | None = None,
        supported_revisions: Sequence[str] = SUPPORTED_REVISIONS,
        modern: ModernOffer | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        param_types: Mapping[str, type] | None = None,
        request_ids: RequestIds | None = None,
        extension_methods: Mapping[str, MethodInfo] | None = None,
    ) -> None:
        super().__init__(
            max_message_size=max_message_size,
            max_json_depth=max_json_depth,
            max_inflight=max_inflight,
            param_types=param_types,
            request_ids=request_ids,
            extension_methods=extension_methods,
        )
        self.server_info = server_info
        self.capabilities = capabilities
        self.instructions = instructions
        #: The revisions we speak, preferred first: a client that asks for one we lack is
        #: offered the first (basic/lifecycle, Version Negotiation: it SHOULD be our latest).
        self.supported_revisions = tuple(supported_revisions)
        #: What requests that carry their own terms are offered (2026-07-28): the server's,
        #: shared by its sessions, else the defaults.
        self.modern = modern or ModernOffer(
            self.supported_revisions, param_types=self.modern_param_types
        )
        #: A name in `phases.SERVER_PHASES`, which says what may be received and sent
        #: (`_rules`, looked up once per change: checked on every message).
        self.phase = "new"
        self._rules = SERVER_PHASES["new"]

    def keep_terms_in(self, holder: KeepsTerms) -> None:
        """Keep the terms the handshake settles in `holder` (the session's record, which a
        store writes), and nowhere else: what `initialize` settled is held once. A new
        session only; a holder with terms already (a record read back) holds what `resume`
        settles next."""
        if self.phase != "new":
            raise LocalProtocolError(f"only a new session keeps its terms elsewhere ({self.phase})")
        self._kept = holder

    @property
    def client_info(self) -> Implementation | None:
        """What the client said of itself in `initialize`."""
        return None if self.terms is None else self.terms.peer_info

    @property
    def client_capabilities(self) -> ClientCapabilities:
        """What the client declared in `initialize` (nothing, before it)."""
        return _NO_CLIENT_CAPABILITIES if self.terms is None else self.terms.peer_capabilities

    @property
    def stateless(self) -> bool:
        """Whether the session serves stateless HTTP (`start_stateless`): no handshake is
        needed, and no request is ever sent to the client."""
        return self.phase == "stateless"

    def _step(self, happened: str) -> None:
        """Move to the phase `happened` leads to; what the table does not list changes nothing."""
        phase = next_phase(SERVER_STEPS, self.phase, happened)
        if phase is not None:
            self.phase = phase
            self._rules = SERVER_PHASES[phase]

    def start_stateless(self, revision: str) -> None:
        """Serve one exchange without a handshake, on `revision` (stateless Streamable HTTP:
        each request comes to a fresh session that knows nothing of the client).

        The session serves at once, with empty client capabilities; an `initialize` is still
        answered (the client sends one first) and settles what the client declared. It never
        sends a request: the client's answer would come on another POST, to no session at all.
        """
        self.settle(Terms(revision, _NO_CLIENT_CAPABILITIES, stateless=True))
        self._step("stateless")

    def resume(
        self,
        revision: str,
        client_info: Implementation | None,
        client_capabilities: ClientCapabilities | None,
        *,
        initialized: bool = True,
    ) -> None:
        """Go on with a session whose handshake happened elsewhere (in a process that saved
        its record, say): what `initialize` settled is taken as given, and the session is
        operating (or, when the client had not yet sent `notifications/initialized`,
        waiting for it). Only a new session can be resumed, on a revision it speaks."""
        if self.phase != "new":
            raise LocalProtocolError(
                f"only a new session can be resumed (this one is {self.phase})"
            )
        if revision not in self.supported_revisions:
            raise LocalProtocolError(
                f"cannot resume a session on revision {revision!r}: this server speaks "
                f"{', '.join(self.supported_revisions)}"
            )
        caps = client_capabilities or _NO_CLIENT_CAPABILITIES
        self.settle(Terms(revision, caps, client_info))
        # The steps a live handshake takes, so the phase tables alone say what may follow.
        self._step("initialize answered")
        if initialized:
            self._step("notifications/initialized")

    def initialized_elsewhere(self) -> None:
        """The client sent `notifications/initialized` to another process serving this
        session (its saved record says so): the session is operating, as if it had come."""
        if self.phase == "initializing":
            self._step("notifications/initialized")

    def revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None:
        return self.modern.revision_refusal(params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass that changes a step `read_sessionless` writes out is read the general way.
        cls._folds = all(getattr(cls, name) is getattr(ServerSession, name) for name in _FOLDED)

    def read_sessionless(
        self, data: bytes, info: RequestInfo | None = None, served_by: Any = None
    ) -> ModernRead:
        # fast path: mirrors `Receiving.read_sessionless` (docs/performance.md, fast paths)
        # The usual 2026-07-28 POST (one request, its `_meta` read before) read as `_FOLDED`
        # lists; anything else is told before queuing, and read the general way from there.
        receiving = self.receiving
        size, depth = len(data), receiving.max_json_depth
        if (
            not self._folds
            or self.outbox.items
            or not self._rules.modern
            or not self.modern.revisions
            or size > receiving.max_message_size
            or not size
            or data[0] != 123  # `{` (its first byte as an int, not a slice: no object made)
            or not data.isascii()
            # `receive_data`'s depth rule: only a body it would decode without `check_bytes`
            or (
                size > depth
                and (
                    size > SHORT_MESSAGE
                    or (
                        (91 in data or size > 4 * depth)
                        and data.count(b"{") + (data.count(b"[") if 91 in data else 0) > depth
                    )
                )
            )
        ):
            return receiving.read_sessionless(data, info, served_by)
        # (`decode_message`'s decode: what it refuses is read, and refused, the general way)
        try:
            env = jsonrpc.decode_envelope(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return receiving.read_sessionless(data, info, served_by)
        if env.jsonrpc != "2.0":
            return receiving.read_sessionless(data, info, served_by)
        rid = env.id
        method = env.method
        if method is UNSET or rid is UNSET or rid is None:
            return self._read_sessionless_from(env, info, served_by)  # (not a request)
        if env.result is not UNSET or env.error is not UNSET:
            return self._read_sessionless_from(env, info, served_by)
        modern = self.modern
        codec = modern.codec
        terms = codec.cached(env.params)
        if (
            terms is None
            or self.extension_methods
            or method in modern.extension_of
            or rid in self._inflight
            or method in _ANSWERS_ITSELF
            or terms is self._kept.terms
        ):
            return self._read_sessionless_from(env, info, served_by)
        methods = METHOD_TABLES[terms.revision]
        known = methods[method] if method in methods else None
        unserved = ServerSession._unserved
        if (
            known is None
            or known.kind != "request"
            or _INBOUND not in known.direction
            or unserved[0] is not self.capabilities
            or method in unserved[1]
            or len(self._inflight) >= self.answering.max_inflight
        ):
            return self._read_sessionless_from(env, info, served_by)
        names_token = codec.names_token
        types = modern.param_types if names_token else modern.unread_types
        tp = types[method] if method in types else known.params
        decode = _DECODES[tp] if tp in _DECODES else _decode_of(tp)
        raw = env.params
        try:
            params = decode(jsonrpc.EMPTY_PARAMS if raw is UNSET else raw)
        except (msgspec.DecodeError, RecursionError):
            return self._read_sessionless_from(env, info, served_by)
        # (looked for only where the `_meta`'s bytes may name one, the terms cache says)
        token = progress_token_of(params) if names_token else None
        request = RequestReceived(rid, method, params, token, info, terms, served_by, served_by)
        return ModernRead(request, _NOTHING, _NOTHING, _NOTHING, True)

    def _read_sessionless_from(
        self, env: Envelope, info: RequestInfo | None, served_by: Any
    ) -> ModernRead:
        """`Receiving.read_sessionless` of a body that decoded into `env` (nothing queued before
        it), from `receive_envelope` on."""
        events: list[Event] = []
        receiving = self.receiving
        receiving.receive_envelope(env, events, None, info)
        return receiving.read_sessionless_end(events, 0, served_by)

    def receive_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        # 2026-07-28: where no handshake settled the session's terms (`Phase.modern`), a
        # request may carry its own; it is served under them and the "modern" phase row,
        # and leaves the session as it was. A 2025-era session's requests skip this at
        # once (their rules have no `modern`).
        if self._rules.modern and self.modern.revisions and batch is None:
            codec = self.modern.codec
            # (the common case first: a `_meta` seen before, found by its bytes)
            terms: Terms[ClientCapabilities] | McpError | None = codec.cached(env.params)
            if terms is None and (carries_terms(env.params) or env.method in _MODERN_ONLY):
                terms = codec.read(env.params)
            if terms is not None:
                self._receive_own(env, events, request_info, terms, codec.names_token)
                return
        receiving = self.receiving
        self.answering.serve_request(
            env,
            events,
            batch,
            request_info,
            self._kept.terms,
            receiving.methods,
            receiving.param_types,
        )

    def _receive_own(
        self,
        env: Envelope,
        events: list[Event],
        request_info: RequestInfo | None,
        terms: Terms[ClientCapabilities] | McpError,
        names_token: bool,
    ) -> None:
        """`receive_request` of a request that carries its own `terms` (or the error its
        `_meta` is refused with), whose `_meta` may name a progress token if `names_token`:
        where it cannot, the params are decoded with it left unread (`unread_meta`)."""
        rid: RequestId = env.id  # type: ignore[assignment]  # classify() checked it
        if isinstance(terms, McpError):
            self.outbox.error(rid, terms.code, terms.message, None, data=terms.data)
            return
        revision = terms.revision
        methods = self.methods_of(revision) if self.extension_methods else METHOD_TABLES[revision]
        method: str = env.method  # type: ignore[assignment]  # classify() checked it
        modern = self.modern
        if method in modern.extension_of and method not in methods:
            extended = self._extended(terms, modern.extension_of[method])
            if isinstance(extended, McpError):
                self.outbox.error(rid, extended.code, extended.message, None, data=extended.data)
                return
            methods = extended
        types = modern.param_types if names_token else modern.unread_types
        self.answering.serve_request(env, events, None, request_info, terms, methods, types)

    def _extended(
        self, terms: Terms[ClientCapabilities], extension: Extension
    ) -> Mapping[str, MethodInfo] | McpError:
        """The methods served to a request under `terms` that names a method of `extension`:
        its revision's and the extensions'; or the refusal when it did not declare it."""
        if not declares(terms.peer_capabilities, extension.id):
            # SEP-2663 (and SEP-2575, "Missing Required Capabilities"): an extension's
            # method needs the extension in the request's own client capabilities.
            return missing_capability(("extensions", extension.id))
        methods = methods_with(terms.revision, self.modern.extensions)
        if self.extension_methods:  # (the extensions every revision serves: skills)
            methods = {**methods, **self.extension_methods}
        return methods

    def encode_answer(
        self,
        request_id: RequestId,
        result: Any,
        method: str,
        terms: Terms[Any] | None,
        server_info: Implementation | None = None,
    ) -> bytes:
        if terms is None:
            terms = self._kept.terms
        modern = self.modern
        if terms is not None and terms.revision in modern.revisions:
            # A 2026-07-28 result gets the fields its revision adds (`modern`).
            info = self.server_info if server_info is None else server_info
            return modern.codec.response(request_id, result, method, info, modern.cache)
        return super().encode_answer(request_id, result, method, terms)

    def check_inbound_request(
        self, method: str, terms: Terms[ClientCapabilities] | None
    ) -> McpError | None:
        # A modern request (2026-07-28) is served under the terms it carries, never under the
        # session's: those are None until a handshake, and replaced whole, never by a request's.
        if terms is not self._kept.terms:
            # Its phase row (`_MODERN`) receives any method and refuses none.
            if method in self.modern.extension_of:
                return None  # (an extension's method: served as the extension, checked above)
        else:
            # basic/lifecycle, Initialization: only initialize and ping before the handshake;
            # a second initialize is refused too (`phases._AGAIN`).
            rules = self._rules
            if rules.receives is not None or method in rules.refuses:  # (the usual: no call)
                refusal = rules.refusal(method)
                if refusal is not None:
                    return McpError(codes.INVALID_REQUEST, refusal)
        # basic/lifecycle, Operation: only negotiated capabilities are used, ours included.
        # (Read again should the session be given other capabilities: they are not changed
        # in place, only replaced.)
        unserved = ServerSession._unserved
        if unserved[0] is not self.capabilities:
            unserved = ServerSession._unserved = (self.capabilities, undeclared(self.capabilities))
        if method in unserved[1]:  # (`in`, not a `get` call: most methods are served)
            path = unserved[1][method]
            return McpError(codes.METHOD_NOT_FOUND, capability_error(method, path, "the server"))
        return None

    def handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool:
        if method == "server/discover":
            if method in self.intercepts:
                return False  # the runtime answers: `discover_answer`, `accept_discover`
            self.send_response(rid, self.discover_answer())
            return True
        # Reached only where the phase allows initialize: once in a stateful session
        # (`phases._AGAIN` refuses a second), on every POST of a stateless one.
        if method != "initialize":
            return super().handle_own_request(rid, method, params, events)
        assert isinstance(params, InitializeRequestParams)
        if method in self.intercepts:
            return False  # the runtime answers: `initialize_answer`, `accept_initialize`
        result = self.initialize_answer(params)
        # Settled before the result is queued: `send_response` shapes a result for the
        # session's revision, so a 2024-11-05 client gets an InitializeResult it knows.
        received = self._settle_initialize(params, result.protocol_version)
        self.send_response(rid, result)
        events.append(received)
        return True

    def initialize_answer(self, params: InitializeRequestParams) -> InitializeResult:
        """What `initialize` is answered with: the revision negotiated, what we declare."""
        declared = (self.capabilities, self.server_info, self.instructions)
        return initialize_answer(params, self.supported_revisions, *declared)

    @property
    def initializing(self) -> bool:
        """Whether an `initialize` handed out (`intercepts`) waits for its answer: the
        session is opening, though its phase is still "new"."""
        return "initialize" in self.intercepts and any(
            request.method == "initialize" for request in self._inflight.values()
        )

    def accept_initialize(
        self, params: InitializeRequestParams, result: InitializeResult
    ) -> InitializeReceived:
        """Settle the session on `result`, the answer to `params` about to be sent (made by
        `initialize_answer`, its instructions or capabilities maybe changed since: only
        narrowed, `check_initialize_answer`); McpError, and nothing settled, if it may not be
        sent. Call it right before sending `result`."""
        if self.phase not in ("new", "stateless"):  # (one answered while this one waited)
            raise McpError(
                codes.INVALID_REQUEST, "Invalid Request: initialize was already answered"
            )
        version = negotiated(params.protocol_version, self.supported_revisions)
        check_initialize_answer(result, version, self.server_info, self.capabilities)
        return self._settle_initialize(params, version)

    def _settle_initialize(
        self, params: InitializeRequestParams, version: str
    ) -> InitializeReceived:
        # A stateless session answers initialize too, but stays stateless: its terms must not
        # promise a session that requests could be sent back on.
        terms = Terms(version, params.capabilities, params.client_info, stateless=self.stateless)
        self.settle(terms)
        self._step("initialize answered")
        return InitializeReceived(params, version)

    def discover_answer(self) -> dict[str, Any]:
        """server/discover: the revisions we speak, our capabilities and instructions (the
        server's info goes in the result's `_meta`, as on every 2026 result)."""
        modern = self.modern
        return discover_answer(
            modern.all_revisions, self.capabilities, modern.extensions, self.instructions
        )

    def accept_discover(self, result: dict[str, Any]) -> dict[str, Any]:
        """`result`, a `discover_answer` maybe changed since, if it may be sent (McpError if
        not: `check_discover_answer`)."""
        check_discover_answer(result, self.discover_answer())
        return result

    def handle_own_notification(self, method: str, params: Any, events: list[Event]) -> bool:
        if method != "notifications/initialized":
            return False
        # Consumed in every phase (a notification gets no answer, right or wrong): one that
        # comes before initialize was answered is dropped, as no step leads from "new".
        if self.phase == "initializing":  # (a repeated one changes nothing, and says nothing)
            self._step(method)
            events.append(InitializedReceived())
        return True

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        # basic/lifecycle, Initialization: no request but ping before `initialized`; none
        # at all when stateless.
        rules = self._rules
        if rules.sends is not None:
            refusal = rules.send_refusal(method)
            if refusal is not None:
                raise LocalProtocolError(refusal)
        check_request_to_client(self.client_capabilities, method, params)


#: A params type -> its decode (`jsonrpc.part_decoder`), kept by `ServerSession.read_sessionless`.
_DECODES: Final[dict[Any, Callable[[bytes | msgspec.Raw], Any]]] = {}


def _decode_of(tp: Any) -> Callable[[bytes | msgspec.Raw], Any]:
    decode = _DECODES[tp] = jsonrpc.part_decoder(tp)
    return decode


#: The events, answers and refusals of the usual request `read_sessionless` reads: none, one list
#: for all of them (never added to: its reader only tests them), not three made a request.
_NOTHING: Final[list[Any]] = []

#: The class settings `ServerSession.read_sessionless` reads as these constants: a class attribute
#: read through an instance is not specialized in Python 3.11.
_INBOUND: Final = ServerSession.inbound_direction
_ANSWERS_ITSELF: Final = ServerSession.answers_itself

#: The role's steps and settings `ServerSession.read_sessionless` writes out for the usual request
#: (beside the parts' own: `Receiving.receive_data` and `receive_envelope`,
#: `Answering.serve_request` and `_start_request`): a subclass that changes any of them is
#: read through them.
_FOLDED: Final = (
    "inbound_direction",
    "answers_itself",
    "receive_request",
    "_receive_own",
    "check_inbound_request",
)
