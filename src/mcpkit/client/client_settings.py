"""What a `Client` is made with, grouped by the part each setting configures: the connection
(`ConnectionSettings`: the transport, the bounds on what the server sends, the message tap),
what the client offers the server (`ClientOffers`: its handlers for the server's requests,
tasks, extensions) and how the protocol era is chosen (`EraSettings`).

Each field is named as `Client`'s keyword that sets it, so a client made from an
`mcpServers` config hands the same settings to the client of each of its servers as those
keywords (`options`, read by `group.clients_of`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.client.callbacks import ServerRequestRouter, declared_capabilities
from mcpkit.client.era import Opening, era
from mcpkit.client.results import RESULT_TYPES
from mcpkit.client.tap import TappedChannel
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.extensions import own_requests
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.reply import RequestHandler
from mcpkit.transports.connect import Target, open_target
from mcpkit.types.skills import SKILLS_METHODS

if TYPE_CHECKING:
    import httpx

    from mcpkit.client.callbacks import ElicitationHandler, RootsProvider, SamplingHandler
    from mcpkit.client.tap import MessageTap
    from mcpkit.protocol.events import Event
    from mcpkit.runtime.channel import MessageChannel
    from mcpkit.stores.tasks import TaskStore
    from mcpkit.types import ClientCapabilities, Implementation
    from mcpkit.types.methods import MethodInfo

__all__ = ["ClientOffers", "ConnectionSettings", "EraSettings", "options"]


class ConnectionSettings(msgspec.Struct, frozen=True):
    """How a client's connection is opened and read: the transport's options
    (`open_target`), the bounds on the server's messages and on answers it does not read,
    and the observer of every message."""

    stderr: Any
    max_message_size: int
    max_json_depth: int
    send_high_water: int
    headers: Mapping[str, str] | None
    auth: httpx.Auth | None
    on_message: MessageTap | None

    async def open(self, target: Target) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
        """A channel to `target` (tapped when there is an observer), and its release."""
        channel, release = await open_target(
            target,
            stderr=self.stderr,
            max_message_size=self.max_message_size,
            headers=self.headers,
            auth=self.auth,
        )
        if self.on_message is not None:
            channel = TappedChannel(channel, self.on_message)
        return channel, release

    def connection(
        self,
        session: ClientSession,
        channel: MessageChannel,
        on_request: RequestHandler,
        peer: Any,
        on_event: Callable[[Event], None],
    ) -> Connection:
        """The connection that pumps `session` over `channel`, the server's requests served
        by `on_request` for `peer`."""
        return Connection(
            session,
            channel,
            on_request=on_request,
            peer=peer,
            on_event=on_event,
            hold_timeouts_while_serving=True,
            send_high_water=self.send_high_water,
        )


class ClientOffers(msgspec.Struct, frozen=True):
    """What a client offers the server: who it is, the handlers of the server's requests
    (and so the capabilities it declares), tasks, and the extensions it speaks."""

    client_info: Implementation
    sampling_handler: SamplingHandler | None
    sampling_tools: bool
    elicitation_handler: ElicitationHandler | None
    url_elicitation_handler: ElicitationHandler | None
    roots: RootsProvider | None
    tasks: bool
    task_store: TaskStore | None
    extensions: Mapping[str, Mapping[str, Any]] | None
    extension_methods: Iterable[str]

    def router(self) -> ServerRequestRouter:
        """What answers the server's requests."""
        return ServerRequestRouter(
            sampling=self.sampling_handler,
            elicitation=self.elicitation_handler,
            url_elicitation=self.url_elicitation_handler,
            roots=self.roots,
        )

    def capabilities(self) -> ClientCapabilities:
        """What the client declares: what it has a handler for, and its extensions."""
        return declared_capabilities(
            self.sampling_handler,
            self.sampling_tools,
            self.elicitation_handler,
            self.url_elicitation_handler,
            self.roots,
            self.extensions,
        )

    def methods(self) -> Mapping[str, MethodInfo]:
        """The methods of the extensions it speaks beside each revision's: skills, and
        those named in `extension_methods` (SEP-2133)."""
        if not self.extension_methods:
            return SKILLS_METHODS
        return {**SKILLS_METHODS, **own_requests(self.extension_methods)}

    def session(
        self,
        capabilities: ClientCapabilities,
        methods: Mapping[str, MethodInfo],
        bounds: ConnectionSettings,
    ) -> ClientSession:
        """The protocol session of one connection, speaking `methods` beside each revision's,
        within `bounds`' message limits."""
        return ClientSession(
            self.client_info,
            capabilities,
            max_message_size=bounds.max_message_size,
            max_json_depth=bounds.max_json_depth,
            result_types=RESULT_TYPES,
            extension_methods=methods,
        )


class EraSettings(msgspec.Struct, frozen=True):
    """How the protocol era is chosen at connect (`mcpkit.client.era`)."""

    protocol: str
    protocol_version: str | None
    init_timeout: float | None
    max_input_rounds: int

    def opening(
        self,
        target: Target,
        offers: ClientOffers,
        capabilities: ClientCapabilities,
        router: ServerRequestRouter,
        hears_logs: bool,
    ) -> Opening:
        """What the client brings to the `server/discover` probe (or `initialize`)."""
        requested_version, protocol = era(self.protocol, self.protocol_version)
        return Opening(
            target,
            protocol,
            requested_version,
            capabilities,
            offers.client_info,
            router,
            self.max_input_rounds,
            self.init_timeout,
            hears_logs=hears_logs,
        )


def options(*settings: msgspec.Struct) -> dict[str, Any]:
    """`settings` as the `Client` keywords that set them."""
    found: dict[str, Any] = {}
    for group in settings:
        found.update(msgspec.structs.asdict(group))
    return found
