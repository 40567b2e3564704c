"""A typed middleware's hooks as chain layers: each decodes what its hook takes and puts
what the hook gives back into the wire shape the next layer expects.

The chain itself (`runtime.layers`) passes a request's params and result as the wire
structs; a hook gets plain values instead (a tool's name and arguments, a URI, a list of
items) and a `call_next` that takes the same. An adapter is built once per middleware
and method, at the first such request, and only for the hooks the middleware overrides
(`TypedMiddleware.layers_for`).
"""

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

#: The hook of each request method. A method not named here reaches a typed middleware
#: only through `on_request`.
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

#: The list field of each list method's result, and the result's type (to build one when
#: a hook answers without calling on).
_LISTS: Mapping[str, tuple[str, type[Any]]] = {
    "tools/list": ("tools", ListToolsResult),
    "resources/list": ("resources", ListResourcesResult),
    "resources/templates/list": ("resource_templates", ListResourceTemplatesResult),
    "prompts/list": ("prompts", ListPromptsResult),
}


def request_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """`on_request` as a layer: every method, its params and `call_next` as they are."""

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
    # What is left of `HOOKS` are the list methods; a method in neither is a KeyError,
    # a bug of this module rather than of the middleware.
    return _list_layer(hook, *_LISTS[method])


def _initialize_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """initialize: the hook sees the client's params and may change the answer."""

    # No params for call_next: the answer is the protocol's for the request as it came
    # (the revision negotiated from what the client asked).
    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        return hook(ctx, params, lambda: call_next(params))

    return layer


def _answer_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """ping and server/discover: no params worth a hook's reading, only the answer."""

    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        return hook(ctx, lambda: call_next(params))

    return layer


def _call_tool_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """tools/call: the hook gets the name and the arguments as a dict, and may call on
    with others (a rename, a default added)."""

    async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        # The arguments are decoded here only because a hook asks for them: without one,
        # they go to the tool still as JSON text.
        raw = params.arguments
        if isinstance(raw, msgspec.Raw):  # (still JSON text; empty when none were sent)
            arguments = msgspec.json.decode(raw) if len(raw) else None
        else:
            arguments = raw
        # No arguments sent is an empty object to the hook, as to the tool.
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            return await call_next(params)  # the tool says what is wrong with them

        # A copy of the params with the hook's values: the request's own stay as they came,
        # for the layers outside this one.
        def call(name: str, arguments: dict[str, Any]) -> Awaitable[Any]:
            return call_next(msgspec.structs.replace(params, name=name, arguments=arguments))

        return await hook(ctx, params.name, arguments, call)

    return layer


def _read_resource_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """resources/read: the hook gets the URI, and may read another in its place."""

    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        # The params are copied only when the URI changed.
        def call(uri: str) -> Awaitable[Any]:
            return call_next(
                params if uri == params.uri else msgspec.structs.replace(params, uri=uri)
            )

        return hook(ctx, params.uri, call)

    return layer


def _get_prompt_layer(hook: Callable[..., Awaitable[Any]]) -> Layer:
    """prompts/get: the hook gets the name and the (string) arguments."""

    def layer(ctx: Context, params: Any, call_next: CallNext) -> Awaitable[Any]:
        def call(name: str, arguments: dict[str, str] | None) -> Awaitable[Any]:
            return call_next(msgspec.structs.replace(params, name=name, arguments=arguments))

        return hook(ctx, params.name, params.arguments, call)

    return layer


def _list_layer(hook: Callable[..., Awaitable[Any]], field: str, result_type: type[Any]) -> Layer:
    """A list method: the hook gets the items and gives back the items to list (filtered,
    reordered, added to); the result keeps everything else the inner one had, its
    `nextCursor` included, so paging still works around a hook."""

    async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        answered: list[Any] = []  # the inner result, to put the hook's items back into

        # The params go on untouched: the cursor a client sent pages the inner list.
        async def call() -> list[Any]:
            result = await call_next(params)
            answered.append(result)
            return list(getattr(result, field))

        items = await hook(ctx, call)
        if not answered:  # the hook answered by itself: one page, the whole list
            return result_type(**{field: items})
        return msgspec.structs.replace(answered[-1], **{field: items})

    return layer
