"""Client middleware: layers around every request a `Client` sends, shaped as the server's."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from mcpkit.errors import McpError, RequestTimeout

if TYPE_CHECKING:
    from mcpkit.client.client import Client

__all__ = ["CallNext", "ClientMiddleware", "OutgoingRequest", "RequestLogging", "call_through"]

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


class RequestLogging:
    """One log record per request the client sends: method, target (tool or prompt name,
    resource URI), duration and outcome, in the message and as `record.mcp` (a dict, for
    structured handlers), under `mcpkit.client.requests` unless another logger is given.
    Arguments are never logged.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (a JSON-RPC error,
    with its code), "timeout", "cancelled", "exception" (anything else: the connection
    closed, say, with the exception's class).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.logger = logger if logger is not None else logging.getLogger("mcpkit.client.requests")
        self.level = level
        self.clock = clock

    async def __call__(self, request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        if not self.logger.isEnabledFor(self.level):
            return await call_next(params)
        start = self.clock()
        fields: dict[str, Any] = {"method": request.method, "target": _target_of(params)}
        try:
            result = await call_next(params)
        except RequestTimeout:  # an McpError too, but nothing answered
            fields["outcome"] = "timeout"
            raise
        except McpError as exc:
            fields.update(outcome="error", code=exc.code)
            raise
        except asyncio.CancelledError:
            fields["outcome"] = "cancelled"
            raise
        except Exception as exc:
            fields.update(outcome="exception", exception=type(exc).__name__)
            raise
        else:
            fields["outcome"] = "tool_error" if getattr(result, "is_error", None) else "ok"
            return result
        finally:
            fields["duration_ms"] = round((self.clock() - start) * 1000, 3)
            self.logger.log(
                self.level,
                "%s %s %s %.1f ms",
                fields["method"],
                fields["target"] or "-",
                fields["outcome"],
                fields["duration_ms"],
                extra={"mcp": fields},
            )


def _target_of(params: Any) -> str | None:
    """The tool or prompt name, or the resource URI, of a request's params (None if neither)."""
    for key in ("name", "uri"):
        if isinstance(params, dict):
            value = cast("dict[str, Any]", params).get(key)
        else:
            value = getattr(params, key, None)
        if isinstance(value, str):
            return value
    return None
