"""The requests a server's protocol sessions answer by themselves (`initialize`, `ping`,
`server/discover`), handed to the middleware instead where a typed middleware has a hook for
one: their handlers, the outermost layer that has the protocol check and settle the answer
before it is sent, and which of the three a server's middleware asks for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mcpkit.protocol.server_session import ServerSession
from mcpkit.runtime.layers import CallNext
from mcpkit.server.middleware.typed import TypedMiddleware
from mcpkit.server.request_peer import RequestPeer
from mcpkit.server.session import ServerSessionHandle
from mcpkit.types import InitializeRequestParams, InitializeResult

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["ACCEPTING", "HANDSHAKE_HOOKS", "discover", "initialize", "intercepted", "ping"]

#: Each such request, and the hook that makes the protocol hand it to the middleware.
HANDSHAKE_HOOKS: Mapping[str, str] = MappingProxyType(
    {"initialize": "on_initialize", "ping": "on_ping", "server/discover": "on_discover"}
)


def intercepted(middleware: Sequence[Any]) -> frozenset[str]:
    """The methods of `HANDSHAKE_HOOKS` whose hook a typed middleware of `middleware`
    overrides: those a protocol session hands out (`ServerSession.intercepts`). Without
    such a hook the session answers them itself, as fast as ever, and no middleware sees
    them."""
    return frozenset(
        method
        for method, hook in HANDSHAKE_HOOKS.items()
        for layer in middleware
        if isinstance(layer, TypedMiddleware) and layer.overrides(hook)
    )


def protocol_of(ctx: Context) -> ServerSession:
    """The protocol session that read the request of `ctx` (a 2025 session's, or the one
    that reads modern requests)."""
    peer = ctx.session
    if isinstance(peer, ServerSessionHandle):
        return peer.protocol
    assert isinstance(peer, RequestPeer)  # (no other peer reads a request of a client)
    return peer.reader


async def initialize(server: object, ctx: Context, params: Any) -> InitializeResult:
    """The answer the protocol would have sent (its revision negotiated)."""
    assert isinstance(params, InitializeRequestParams)
    return protocol_of(ctx).initialize_answer(params)


async def ping(server: object, ctx: Context, params: Any) -> dict[str, Any]:
    """The empty result a ping gets (basic/utilities/ping), for a hook to wrap."""
    return {}


async def discover(server: object, ctx: Context, params: Any) -> dict[str, Any]:
    """The protocol's own server/discover answer, for the hooks to change; what they make
    of it is checked by `_accept_discover` before it goes."""
    return protocol_of(ctx).discover_answer()


async def _accept_initialize(ctx: Context, params: Any, call_next: CallNext) -> Any:
    # Outermost: what the layers made of the answer is checked, and the session settled on
    # it, right before the runtime sends it (no await in between). A refusal on the way
    # here settles nothing: the session is still waiting for an initialize.
    result = await call_next(params)
    received = protocol_of(ctx).accept_initialize(params, result)
    peer = ctx.session
    if isinstance(peer, ServerSessionHandle):
        peer.on_event(received)  # as the protocol's own answer would have told it
    return result


async def _accept_discover(ctx: Context, params: Any, call_next: CallNext) -> Any:
    """Outermost, as for initialize: a hook may change the answer, but not its revisions,
    nor claim a capability the server does not declare (`ServerSession.accept_discover`)."""
    return protocol_of(ctx).accept_discover(await call_next(params))


#: The layer outside all middleware of the methods whose answer the protocol checks.
ACCEPTING: Mapping[str, Any] = MappingProxyType(
    {"initialize": _accept_initialize, "server/discover": _accept_discover}
)
