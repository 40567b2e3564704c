"""The client's role in a session: the handshake from its side, and its capability rules.

Spec: basic/lifecycle. The client opens with `initialize`, offering the newest revision it
speaks; the server answers with that revision or another it speaks, which the client may
refuse by not speaking it (the session then fails). The client then sends
`notifications/initialized` and uses only what the server declared (a request for anything
else is refused here, before it is sent: LocalProtocolError, a bug on our side). It serves the
server's requests (sampling, elicitation, roots) only for what it declared itself (-32601).
The phases are the table `phases.CLIENT_PHASES`; the server's role is `server_session`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import (
    REQUIRED_CAPABILITY,
    TASK_CAPABILITY,
    capability_error,
    check_task_augmentation,
    has_capability,
    task_params,
)
from mcpkit.protocol.events import ErrorReceived, Event, ResponseReceived
from mcpkit.protocol.extensions import TASKS
from mcpkit.protocol.ids import RequestIds
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.phases import CLIENT_PHASES, CLIENT_STEPS, next_phase
from mcpkit.protocol.session import DEFAULT_MAX_INFLIGHT, Session
from mcpkit.protocol.terms import Terms
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    InitializeRequestParams,
    InitializeResult,
    RequestId,
    ServerCapabilities,
)
from mcpkit.types.methods import LATEST_REVISION, SUPPORTED_REVISIONS, MethodInfo

__all__ = ["ClientSession"]

#: What a server has declared before it has answered: nothing, so every capability check
#: refuses until the handshake (or discover) says otherwise. Shared, and never changed.
_NO_SERVER_CAPABILITIES: Final = ServerCapabilities()


class ClientSession(Session):
    """The client's end: sends `initialize`, checks the answer, then uses what was declared.

    `phase` changes only through `CLIENT_STEPS`. `initialize_result` and `terms` are set
    together, once, by an `initialize` result on a revision we speak; a result on another
    leaves them None and the session "failed", where only ping is sent or served.
    """

    #: The methods this end may receive are the server's to send (`types.methods`): a request
    #: only a client may make, arriving here, is refused as unknown.
    inbound_direction = "server_to_client"

    def __init__(
        self,
        client_info: Implementation,
        capabilities: ClientCapabilities,
        *,
        supported_revisions: Sequence[str] = SUPPORTED_REVISIONS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        result_types: Mapping[str, type] | None = None,
        request_ids: RequestIds | None = None,
        extension_methods: Mapping[str, MethodInfo] | None = None,
    ) -> None:
        super().__init__(
            max_message_size=max_message_size,
            max_json_depth=max_json_depth,
            max_inflight=max_inflight,
            result_types=result_types,
            request_ids=request_ids,
            extension_methods=extension_methods,
        )
        #: Sent in `initialize` as `clientInfo`.
        self.client_info = client_info
        #: What we declare; the server's requests are served only within it.
        self.capabilities = capabilities
        #: The revisions we accept in the server's answer; any other fails the session.
        self.supported_revisions = tuple(supported_revisions)
        #: A name in `phases.CLIENT_PHASES`, which says what may be received and sent
        #: (`_rules`, looked up once per change).
        self.phase = "new"
        self._rules = CLIENT_PHASES["new"]
        #: The server's whole answer (its instructions, say), for the caller to read.
        self.initialize_result: InitializeResult | None = None

    @property
    def server_capabilities(self) -> ServerCapabilities:
        """What the server declared in its `initialize` result (nothing, before it)."""
        return _NO_SERVER_CAPABILITIES if self.terms is None else self.terms.peer_capabilities

    def _step(self, happened: str) -> None:
        """Move to the phase `happened` leads to; what the table does not list changes nothing."""
        phase = next_phase(CLIENT_STEPS, self.phase, happened)
        if phase is not None:
            self.phase = phase
            self._rules = CLIENT_PHASES[phase]

    def start(self, protocol_version: str = LATEST_REVISION) -> RequestId:
        """Queue the `initialize` request; its ResponseReceived means the session is ready.

        `protocol_version` is the revision asked for (basic/lifecycle, Version Negotiation:
        it SHOULD be our latest); the server answers with it or with one of its own, which
        fails the session, and the request with ErrorReceived, if we do not speak it."""
        if self.phase != "new":
            raise LocalProtocolError("initialize was already sent")
        self._step("initialize sent")
        return self.send_request(
            "initialize",
            InitializeRequestParams(
                protocol_version=protocol_version,
                capabilities=self.capabilities,
                client_info=self.client_info,
            ),
        )

    def speak_modern(
        self,
        revision: str,
        capabilities: ServerCapabilities | None = None,
        server_info: Implementation | None = None,
    ) -> None:
        """Speak `revision` (one of `MODERN_REVISIONS`) with no handshake: each request
        then carries the revision and our capabilities itself (basic/versioning, 2026-07-28;
        the caller adds that `_meta`), and only what the server declared in `server/discover`
        (`capabilities`; nothing before it) may be asked of it. Called again with what
        discover said once it has answered."""
        if self.phase not in ("new", "operating") or (
            self.phase == "operating" and (self.terms is None or not self.terms.stateless)
        ):
            raise LocalProtocolError("the session already began with initialize")
        self.settle(
            Terms(revision, capabilities or _NO_SERVER_CAPABILITIES, server_info, stateless=True)
        )
        # The tasks extension's methods (SEP-2663), which the client declares in this era:
        # a call the server runs as a task is followed with tasks/get and tasks/update.
        self.receiving.methods = {**self.receiving.methods, **TASKS.methods}
        # No handshake to wait for: the session operates from its first request.
        self.phase = "operating"
        self._rules = CLIENT_PHASES["operating"]

    def forget_modern(self) -> None:
        """Back to a new session that begins with `initialize`: the server did not speak the
        modern revision probed with `server/discover` (basic/versioning, Backward
        Compatibility)."""
        if self.terms is not None and not self.terms.stateless:
            raise LocalProtocolError("the session already began with initialize")
        self.terms = None
        # The methods speak_modern added (the tasks extension's) go too: until initialize
        # settles a revision, what we receive is read as the latest session-based one's.
        self.receiving.methods = self.methods_of(LATEST_REVISION)
        self.phase = "new"
        self._rules = CLIENT_PHASES["new"]

    def forget_refused_initialize(self) -> None:
        """Back to a new session after the server refused `initialize` with an error: a
        server of the modern revision does (-32022), and the client may probe it with
        `server/discover` instead (basic/versioning, Backward Compatibility)."""
        # Only while initialize waits with no answer settled: after a result the session
        # has terms, and going back would forget what the server declared.
        if self.phase != "initializing" or self.terms is not None:
            raise LocalProtocolError("initialize is not waiting, or was answered")
        self.phase = "new"
        self._rules = CLIENT_PHASES["new"]

    def on_result(self, rid: RequestId, method: str, result: Any, events: list[Event]) -> None:
        """A result for one of our requests, already matched to it and decoded (`Session`).
        Only `initialize`'s needs more than passing on: it settles the session's terms."""
        if method == "initialize":
            assert isinstance(result, InitializeResult)
            version = result.protocol_version
            # basic/lifecycle, Version Negotiation: a server that does not speak our revision
            # answers with another; if we do not speak that one either, we "SHOULD
            # disconnect". The session fails, and the caller of `start` gets the error.
            if version not in self.supported_revisions:
                self._step("unsupported revision")
                events.append(
                    ErrorReceived(
                        rid,
                        McpError(
                            codes.INVALID_REQUEST,
                            f"the server chose protocol version {version!r}, which this client "
                            f"does not support (supported: {', '.join(self.supported_revisions)})",
                        ),
                    )
                )
                return
            self.settle(Terms(version, result.capabilities, result.server_info))
            self.initialize_result = result
            self._step("initialize result")
            # Queued here, inside `receive_data`, not left to whoever handles the event: the
            # caller learns from ResponseReceived that the session is ready and may send
            # requests at once, and `initialized` is how basic/lifecycle has the client say
            # it is ready "to begin normal operations": it must go first.
            self.send_notification("notifications/initialized")
        events.append(ResponseReceived(rid, result))

    def check_inbound_request(self, method: str, terms: Terms[Any] | None) -> McpError | None:
        """The error to answer a server's request with, or None to serve it. An error, not
        an exception: the server made the mistake, and it gets a JSON-RPC error answer."""
        # As the server's: the phase first (-32600), then what we declared (-32601).
        rules = self._rules
        if rules.receives is not None or method in rules.refuses:  # (the common case: no call)
            refusal = rules.refusal(method)
            if refusal is not None:
                return McpError(codes.INVALID_REQUEST, refusal)
        path = REQUIRED_CAPABILITY.get(method)
        if path is not None and not has_capability(self.capabilities, path):
            return McpError(codes.METHOD_NOT_FOUND, capability_error(method, path, "the client"))
        return None

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        """Raise LocalProtocolError if `method` may not be sent now: the mistake is ours,
        so it is raised to our caller before any bytes go out, rather than left for the
        server to refuse."""
        # basic/lifecycle, Initialization: nothing but ping (and initialize itself) until
        # the server has answered initialize; then only what the server declared.
        rules = self._rules
        if rules.sends is not None:
            refusal = rules.send_refusal(method)
            if refusal is not None:
                raise LocalProtocolError(refusal)
        path = REQUIRED_CAPABILITY.get(method)
        terms = self.terms
        if terms is not None and terms.stateless:
            # 2026-07-28 basic/versioning: a client "is free to invoke any RPC inline" (the
            # server's discover is optional, and it answers what it lacks with -32601).
            return
        caps = _NO_SERVER_CAPABILITIES if terms is None else terms.peer_capabilities
        if path is not None and not has_capability(caps, path):
            raise LocalProtocolError(
                f"the server did not declare the '{'.'.join(path)}' capability, so {method} "
                "cannot be sent to it"
            )
        # A request asked to run as a task needs the server's tasks capability for that
        # method too (2025-11-25 basic/utilities/tasks), not just the method's own.
        if method in TASK_CAPABILITY and task_params(params) is not None:
            check_task_augmentation(method, caps, "server")
