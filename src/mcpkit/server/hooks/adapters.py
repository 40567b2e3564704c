"""A typed middleware's hooks as chain layers: each decodes what its hook takes and puts
what the hook gives back into the wire shape the next layer expects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.runtime.layers import CallNext
from mcpkit.types import (
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["HOOKS", "Layer", "hook_layer", "request_layer"]

#: A chain layer: `async (ctx, params, call_next) -> result`.
Layer = Callable[["Context", Any, CallNext], Awaitable[Any]]

#: The hook of each request method.
HOOKS: Mapping[str, str] = {
    "tools/call": "on_call_tool",
    "tools/list": "on_list_tools",
    "resources/list": "on_list_resources",
    "resources/templates/list": "on_list_resource_templates",
    "resources/read": "on_read_resource",
    "prompts/list": "on_list_prompts",
    "prompts/get": "on_get_prompt",
    "initialize": "on_initialize",
    "ping": "on_ping",
    "server/discover": "on_discover",
}

#: The list field of each list method's result, and the result's type.
_LISTS: Mapping[str, tuple[str, type[Any]]] = {
    "tools/list": ("tools", ListToolsResult),
    "resources/list": ("resources", ListResourcesResult),
    "resources/templates/list": ("resource_templates", ListResourceTemplatesResult),
    "prompts/list": ("prompts", ListPromptsResult),
}


def request_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """`on_request` as a layer."""

    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        return hook(ctx, ctx.method, params, call_next)

    return layer


def hook_layer(method: str, hook: Callable[..., Awaitable[Any]]) -> Layer:
    """The hook of `method` (one of `HOOKS`), bound to its middleware, as a layer."""
    if method == "tools/call":
        return _call_tool_layer(hook)
    if method == "resources/read":
        return _read_resource_layer(hook)
    if method == "prompts/get":
        return _get_prompt_layer(hook)
    if method == "initialize":
        return _initialize_layer(hook)
    if method in ("ping", "server/discover"):
        return _answer_layer(hook)
    return _list_layer(hook, *_LISTS[method])


def _initialize_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    # No params for call_next: the answer is the protocol's for the request as it came
    # (the revision negotiated from what the client asked).
    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        return hook(ctx, params, lambda: call_next(params))

    return layer


def _answer_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        return hook(ctx, lambda: call_next(params))

    return layer


def _call_tool_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        raw = params.arguments
        if isinstance(raw, msgspec.Raw):  # (still JSON text; empty when none were sent)
            arguments = msgspec.json.decode(raw) if len(raw) else None
        else:
            arguments = raw
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            return await call_next(params)  # the tool says what is wrong with them

        def call(name: str, arguments: dict[str, Any]) -> Awaitable[Any]:
            return call_next(msgspec.structs.replace(params, name=name, arguments=arguments))

        return await hook(ctx, params.name, arguments, call)

    return layer


def _read_resource_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        def call(uri: str) -> Awaitable[Any]:
            return call_next(
                params if uri == params.uri else msgspec.structs.replace(params, uri=uri)
            )

        return hook(ctx, params.uri, call)

    return layer


def _get_prompt_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        def call(name: str, arguments: dict[str, str] | None) -> Awaitable[Any]:
            return call_next(msgspec.structs.replace(params, name=name, arguments=arguments))

        return hook(ctx, params.name, params.arguments, call)

    return layer


def _list_layer(hook: Callable[..., Awaitable[Any]], field: str, result_type: type[Any]) -> Layer:
    async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        answered: list[Any] = []  # the inner result, to put the hook's items back into

        async def call() -> list[Any]:
            result = await call_next(params)
            answered.append(result)
            return list(getattr(result, field))

        items = await hook(ctx, call)
        if not answered:  # the hook answered by itself: one page, the whole list
            return result_type(**{field: items})
        return msgspec.structs.replace(answered[-1], **{field: items})

    return layer
