"""What a handler's Context lists and gets of its own server (`ctx.list_resources()`,
`ctx.list_resource_templates()`, `ctx.list_prompts()`, `ctx.get_prompt()`): what the calling
client would be answered, every page at once, outside the middleware, as `ctx.read_resource`
reads (spec: server/resources, server/prompts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Self

from mcpkit.server.catalog.prompts import render_prompt
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.visibility.access import visible
from mcpkit.server.catalog.visibility.shown_to import Request, served, shown_to
from mcpkit.types import GetPromptResult, Prompt, Resource, ResourceTemplate

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.server.core import ServerCore

__all__ = ["Reader", "get_prompt", "list_prompts", "list_resource_templates", "list_resources"]


class Reader(Request, Protocol):
    """A request's Context as far as these reads go (named so, not `Context`, which uses
    this module)."""

    @property
    def auth(self) -> AccessToken | None: ...

    def derive(self, *, server: ServerCore | None = None) -> Self: ...


def _shown(ctx: Reader, registry: Registry[Any]) -> list[Any]:
    """The wire objects of `registry`'s items that the client of `ctx` is listed: those its
    token's scopes allow, less what the server's rules and its session's hide."""
    items = shown_to(ctx.server.visibility, ctx, registry, visible(registry.items(), ctx.auth))
    return [spec.wire for spec in items]


def list_resources(ctx: Reader) -> list[Resource]:
    """resources/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.resources)


def list_resource_templates(ctx: Reader) -> list[ResourceTemplate]:
    """resources/templates/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.templates)


def list_prompts(ctx: Reader) -> list[Prompt]:
    """prompts/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.prompts)


async def get_prompt(ctx: Reader, name: str, arguments: dict[str, str] | None) -> GetPromptResult:
    """prompts/get of `name` as the caller of `ctx` would get it (`handlers.features`): the
    same messages, the same error for a prompt it may not see, its scopes checked. A mounted
    server's prompt is judged here, by the name this server shows, then rendered by that
    server with a Context of its own, as a routed request is (`handlers.mounted_items.route`)."""
    server = ctx.server
    found = served(server, ctx, "prompt", name)
    assert found is not None  # (None is only for completion's templates)
    origin = server.prompts.origin(name) if server.mounts else None
    if origin is not None:
        source, inner = origin
        for mount in server.mounts:
            if mount.server.prompts is source.registry:
                return await get_prompt(ctx.derive(server=mount.server), inner, arguments)
    return await render_prompt(found.item, arguments, ctx, server.sync_in_thread)
