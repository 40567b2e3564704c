"""`TypedMiddleware`: server middleware written as one typed hook per operation, of which
only those a subclass overrides are installed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcpkit.runtime.layers import CallNext
from mcpkit.server.middleware.adapters import HOOKS, Layer, hook_layer, request_layer

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.server.session import ServerSessionHandle
    from mcpkit.types import (
        CallToolResult,
        CreateTaskResult,
        GetPromptResult,
        InitializeRequestParams,
        InitializeResult,
        Prompt,
        ReadResourceResult,
        Resource,
        ResourceTemplate,
        Tool,
    )

__all__ = [
    "AnswerNext",
    "CallToolNext",
    "GetPromptNext",
    "InitializeNext",
    "ListNext",
    "ReadResourceNext",
    "TypedMiddleware",
]

#: The next step of `on_call_tool`: `await call_next(name, arguments)`.
CallToolNext = Callable[[str, "dict[str, Any]"], Awaitable[Any]]
#: The next step of an `on_list_*` hook: `await call_next()`, the page's items.
ListNext = Callable[[], Awaitable[list[Any]]]
#: The next step of `on_read_resource`: `await call_next(uri)`.
ReadResourceNext = Callable[[str], Awaitable["ReadResourceResult"]]
#: The next step of `on_get_prompt`: `await call_next(name, arguments)`.
GetPromptNext = Callable[[str, "dict[str, str] | None"], Awaitable["GetPromptResult"]]
#: The next step of `on_initialize`: `await call_next()`, the answer the protocol made.
InitializeNext = Callable[[], Awaitable["InitializeResult"]]
#: The next step of `on_ping` and `on_discover`: `await call_next()`, the answer as a dict.
AnswerNext = Callable[[], Awaitable["dict[str, Any]"]]


class TypedMiddleware:
    """Middleware with one hook per operation (docs/server.md, "Typed middleware hooks").

    Subclass it and override the hooks you need; add an instance as any middleware
    (`Server(middleware=[...])`, `add_middleware`). Each request hook gets decoded values
    and a `call_next` that takes them, changed or not: tools/call's arguments as a dict,
    the lists as the wire objects (`Tool`, `Resource`...) of the page, which a hook may
    filter or replace. `on_request` wraps every request that reaches middleware, outside
    this object's own hook for it. Only the hooks a subclass overrides are installed: a
    request of a method none of them is about never passes through this object (and a
    subclass method named `on_...` that is no hook is a TypeError, not a hook never run).

    `on_initialize`, `on_ping` and `on_discover` (2026-07-28's `server/discover`) are the
    requests the protocol answers by itself: only a server whose middleware overrides one of
    them hands that request to its middleware (all of it, `on_request` and plain layers
    included), and the answer a hook returns is checked before it is sent (the negotiated
    revision and the server's info unchanged, no capability the server does not declare).
    `on_notification` observes: it runs in a task of its own after the session took the
    notification, and what it raises is logged; a notification posted apart from a request
    (2026-07-28) concerns no session and is not shown.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Only the hooks a subclass overrides are installed, so one under a misspelt name
        # would never run: refused where the class is written.
        super().__init_subclass__(**kwargs)
        for name in vars(cls):
            if name.startswith("on_") and not hasattr(TypedMiddleware, name):
                import difflib  # (only for the error)

                hooks = [h for h in vars(TypedMiddleware) if h.startswith("on_")]
                close = difflib.get_close_matches(name, hooks, n=1)
                raise TypeError(
                    f"{cls.__qualname__}.{name} is no hook of TypedMiddleware"
                    + (f" (did you mean {close[0]}?)" if close else "")
                    + f"; its hooks are {', '.join(hooks)}"
                )

    async def on_request(self, ctx: Context, method: str, params: Any, call_next: CallNext) -> Any:
        """Every request that reaches middleware, with its wire params (as a chain layer's)."""
        return await call_next(params)

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> CallToolResult | CreateTaskResult | dict[str, Any]:
        """tools/call, its arguments decoded; the answer is the tool's result, or, for a call
        run as a task, the created task (2025-11-25) or the tasks extension's answer
        (2026-07-28). A call whose arguments are not a JSON object passes by: the tool
        answers it with its own input error."""
        result: CallToolResult | CreateTaskResult | dict[str, Any] = await call_next(
            name, arguments
        )
        return result

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        """tools/list: the tools of the page the caller asked for."""
        return await call_next()

    async def on_list_resources(self, ctx: Context, call_next: ListNext) -> list[Resource]:
        """resources/list: the resources of the page."""
        return await call_next()

    async def on_list_resource_templates(
        self, ctx: Context, call_next: ListNext
    ) -> list[ResourceTemplate]:
        """resources/templates/list: the templates of the page."""
        return await call_next()

    async def on_list_prompts(self, ctx: Context, call_next: ListNext) -> list[Prompt]:
        """prompts/list: the prompts of the page."""
        return await call_next()

    async def on_read_resource(
        self, ctx: Context, uri: str, call_next: ReadResourceNext
    ) -> ReadResourceResult:
        """resources/read of `uri`."""
        return await call_next(uri)

    async def on_get_prompt(
        self,
        ctx: Context,
        name: str,
        arguments: dict[str, str] | None,
        call_next: GetPromptNext,
    ) -> GetPromptResult:
        """prompts/get of `name` with `arguments`."""
        return await call_next(name, arguments)

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        """A 2025-era session's `initialize`, before it is answered: `params` holds the
        client's info and capabilities, `call_next()` gives the answer (the revision the
        protocol negotiated in `protocol_version`). Raise McpError to refuse the session;
        return the answer with other `instructions` or fewer `capabilities` to change what
        the client is told (what a request asks is still checked against what the server
        declares). The session is settled once the answer is accepted: `ctx.session` is
        not yet (its `protocol_version` is None until then)."""
        return await call_next()

    async def on_ping(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        """`ping`, of a session or of a 2026-07-28 client; `call_next()` gives `{}`."""
        return await call_next()

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        """2026-07-28's `server/discover`: `call_next()` gives its answer as the wire has it
        (`supportedVersions`, `capabilities`, `instructions`); change `instructions`, or
        leave capabilities out, as `on_initialize` may."""
        return await call_next()

    async def on_notification(self, session: ServerSessionHandle, method: str, params: Any) -> None:
        """A notification the client of a 2025-era session sent (roots/list_changed...); the
        protocol's own (initialized, cancelled, progress) are the session's and not shown."""

    def overrides(self, hook: str) -> bool:
        """Whether this object's class overrides `hook` (only those are installed)."""
        return getattr(type(self), hook) is not getattr(TypedMiddleware, hook)

    def layers_for(self, method: str) -> tuple[Layer, ...]:
        """The layers this object adds to a `method` request, outermost first: `on_request`
        and the method's own hook, those of them overridden (none: the request passes by)."""
        table: dict[str, tuple[Layer, ...]] | None = self.__dict__.get("_mcpkit_layers")
        if table is None:  # built once: a class's overrides do not change
            table = self.__dict__["_mcpkit_layers"] = {}
        layers = table.get(method)
        if layers is None:
            layers = table[method] = self._layers(method)
        return layers

    def _layers(self, method: str) -> tuple[Layer, ...]:
        layers: list[Layer] = []
        if self.overrides("on_request"):
            layers.append(request_layer(self.on_request))
        hook = HOOKS.get(method)
        if hook is not None and self.overrides(hook):
            layers.append(hook_layer(method, getattr(self, hook)))
        return tuple(layers)

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        # As a plain layer (where a path runs the whole chain, a mounted tool's call say):
        # this object's layers of `ctx.method`, as the server installs them.
        for layer in reversed(self.layers_for(ctx.method)):
            call_next = _bound(layer, ctx, call_next)
        return await call_next(params)


def _bound(layer: Layer, ctx: Context, inner: CallNext) -> CallNext:
    def call(params: Any) -> Awaitable[Any]:
        return layer(ctx, params, inner)

    return call
