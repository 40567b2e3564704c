"""Client middleware: layers around every request a `Client` sends, shaped as the server's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpkit.client.client import Client

__all__ = ["CallNext", "ClientMiddleware", "OutgoingRequest", "call_through"]

#: The next layer inward: give it the params (changed or not), await the decoded result.
#: The same shape as `mcpkit.server.middleware.CallNext`.
CallNext = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What a client layer knows of the request it wraps: `method` and the `client` sending
    it (its `target`, `protocol_version`, `server_info`...)."""

    method: str
    client: Client


#: A layer: `async (request, params, call_next) -> result`. `request.method` names the
#: request; the layer may change `params` before `call_next(params)` (a dict, None or a
#: params struct, as the caller gave it), change or replace the decoded result, or raise.
ClientMiddleware = Callable[[OutgoingRequest, Any, CallNext], Awaitable[Any]]


def _layer(layer: ClientMiddleware, request: OutgoingRequest, inner: CallNext) -> CallNext:
    def call(params: Any) -> Awaitable[Any]:
        return layer(request, params, inner)

    return call


def call_through(
    layers: Sequence[ClientMiddleware],
    request: OutgoingRequest,
    params: Any,
    innermost: CallNext,
) -> Awaitable[Any]:
    """Run `innermost(params)` inside `layers`, the first of them outermost."""
    call = innermost
    for layer in reversed(layers):
        call = _layer(layer, request, call)
    return call(params)
