"""The callbacks a client host provides, as Protocols, and how server requests reach them.

Spec: client/sampling, client/elicitation, client/roots. A callback may return the result
struct or a plain dict of the same shape; it may be sync or async.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.runtime.workers import call_handler
from mcpkit.types import (
    ClientCapabilities,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ListRootsResult,
    LoggingMessageNotificationParams,
    Root,
)

__all__ = [
    "ElicitationHandler",
    "LogHandler",
    "NotificationHandler",
    "RootsProvider",
    "SamplingHandler",
    "ServerRequestRouter",
    "declared_capabilities",
    "with_meta",
]


class SamplingHandler(Protocol):
    def __call__(
        self, params: CreateMessageRequestParams
    ) -> CreateMessageResult | dict[str, Any] | Awaitable[CreateMessageResult | dict[str, Any]]: ...


class ElicitationHandler(Protocol):
    def __call__(
        self, params: ElicitRequestParams
    ) -> ElicitResult | dict[str, Any] | Awaitable[ElicitResult | dict[str, Any]]: ...


class LogHandler(Protocol):
    def __call__(self, params: LoggingMessageNotificationParams) -> Awaitable[None] | None: ...


class NotificationHandler(Protocol):
    def __call__(self, method: str, params: Any) -> Awaitable[None] | None: ...


RootsProvider = Sequence[Root] | Callable[[], "Sequence[Root] | Awaitable[Sequence[Root]]"]


def _as(tp: type[Any], value: Any) -> Any:
    if isinstance(value, tp):
        return value
    try:
        return msgspec.convert(value, tp, from_attributes=True)
    except msgspec.ValidationError as exc:
        raise McpError(
            codes.INTERNAL_ERROR, f"the client callback returned an invalid {tp.__name__}: {exc}"
        ) from exc


class ServerRequestRouter:
    """Answers the requests a server sends to the client."""

    def __init__(
        self,
        *,
        sampling: SamplingHandler | None,
        elicitation: ElicitationHandler | None,
        url_elicitation: ElicitationHandler | None,
        roots: RootsProvider | None,
    ) -> None:
        self.sampling = sampling
        self.elicitation = elicitation
        self.url_elicitation = url_elicitation
        self.roots = roots

    async def handle(self, method: str, params: Any) -> Any:
        if method == "sampling/createMessage" and self.sampling is not None:
            return _as(CreateMessageResult, await call_handler(self.sampling, (params,)))
        if method == "elicitation/create":
            by_url = isinstance(params, ElicitRequestParams) and params.mode == "url"
            handler = self.url_elicitation if by_url else self.elicitation
            if handler is not None:
                return _as(ElicitResult, await call_handler(handler, (params,)))
        if method == "roots/list" and self.roots is not None:
            roots = self.roots
            listed = await call_handler(roots) if callable(roots) else roots
            return ListRootsResult(roots=list(listed))
        raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {method}")


def declared_capabilities(
    sampling: Any,
    sampling_tools: bool,
    elicitation: Any,
    url_elicitation: Any,
    roots: Any,
    extensions: Mapping[str, Mapping[str, Any]] | None = None,
) -> ClientCapabilities:
    """What the client declares: only what it has a handler for, and its extensions."""
    modes: dict[str, Any] = {}
    if elicitation is not None:
        modes["form"] = {}
    if url_elicitation is not None:
        modes["url"] = {}
    sampling_caps: dict[str, Any] | None = None
    if sampling is not None:
        sampling_caps = {"tools": {}} if sampling_tools else {}
    caps: dict[str, Any] = {}
    if sampling_caps is not None:
        caps["sampling"] = sampling_caps
    if modes:
        caps["elicitation"] = modes
    if roots is not None:
        caps["roots"] = {"listChanged": True}
    if extensions:
        # SEP-2133: identifier -> settings, each a JSON object (`{}` for none).
        for extension_id, settings in extensions.items():
            if "/" not in extension_id or not isinstance(settings, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ValueError(
                    f"extensions maps 'vendor-prefix/name' to a settings mapping ({{}} for "
                    f"none), not {extension_id!r}: {settings!r}"
                )
        caps["extensions"] = {k: dict(v) for k, v in extensions.items()}
    return msgspec.convert(caps, ClientCapabilities)


def with_meta(result: Any, key: str, value: Any) -> Any:
    """`result` (a struct or dict) as a dict with `_meta[key] = value` ("Associating
    Task-Related Messages": responses related to a task carry its id too)."""
    raw: dict[str, Any] = dict(msgspec.to_builtins(result))
    raw["_meta"] = {**(raw.get("_meta") or {}), key: value}
    return raw
