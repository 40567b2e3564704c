"""The proxy's end of a client session: `initialize` is handed to the proxy, not answered at
once, so the answer can be the upstream server's own (its capabilities, serverInfo and
instructions) once the upstream session for this client is open. So is a 2026-07-28
`server/discover`, answered from the upstream sessions that serve 2026 requests."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.events import Event
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import Terms
from mcpkit.types import ClientCapabilities, InitializeRequestParams, InitializeResult, RequestId

__all__ = ["ProxiedSession"]


class ProxiedSession(ServerSession):
    """A `ServerSession` whose `initialize` arrives as a `RequestReceived` (basic/lifecycle:
    the client waits for the answer before anything but pings, so it may come later)."""

    def check_inbound_request(
        self, method: str, terms: Terms[ClientCapabilities] | None
    ) -> McpError | None:
        refusal = super().check_inbound_request(method, terms)
        if (
            refusal is not None
            and refusal.code == codes.METHOD_NOT_FOUND
            and terms is not self.terms  # (its own: 2026-07-28)
        ):
            # A 2026-07-28 request comes before anything told us what the upstream serves
            # (no initialize): the upstream refuses what it does not declare itself.
            return None
        return refusal

    def handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool:
        if method == "server/discover":
            return False  # a RequestReceived: answered with the upstream's capabilities
        if method != "initialize" or self.stateless:
            return super().handle_own_request(rid, method, params, events)
        assert isinstance(params, InitializeRequestParams)
        # What the plain session records at once, so later checks (and the HTTP app, which
        # keeps a session once it left "new") see an initializing session.
        requested = params.protocol_version
        supported = self.supported_revisions
        version = requested if requested in supported else supported[0]
        self.settle(Terms(version, params.capabilities, params.client_info))
        self._step("initialize answered")
        return False  # a RequestReceived: the proxy answers with `answer_initialize`

    def agree(self, revision: str) -> None:
        """Speak `revision` from now on (the one the upstream server chose)."""
        terms = self.terms
        assert terms is not None  # (set when initialize arrived)
        self.settle(msgspec.structs.replace(terms, revision=revision))

    def initialize_result(self, upstream: InitializeResult) -> InitializeResult:
        """Our answer: the upstream's facts, on the revision agreed, with our capabilities."""
        self.capabilities = upstream.capabilities
        self.server_info = upstream.server_info
        self.instructions = upstream.instructions
        self.agree(upstream.protocol_version)
        return InitializeResult(
            protocol_version=upstream.protocol_version,
            capabilities=upstream.capabilities,
            server_info=upstream.server_info,
            instructions=upstream.instructions,
        )
