"""What a handler's Context lists and gets of its own server (`ctx.list_resources()`,
`ctx.list_resource_templates()`, `ctx.list_prompts()`, `ctx.get_prompt()`): what the calling
client would be answered, every page at once, outside the middleware, as `ctx.read_resource`
reads (spec: server/resources, server/prompts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.server.catalog.access import check_access, visible
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.renames import unknown
from mcpkit.server.catalog.shown_to import hidden, shown_to
from mcpkit.server.handlers import features
from mcpkit.server.mount import context_for, prompt_owner
from mcpkit.types import GetPromptRequestParams, GetPromptResult, Prompt, Resource, ResourceTemplate

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["get_prompt", "list_prompts", "list_resource_templates", "list_resources"]


def _shown(ctx: Context, registry: Registry[Any]) -> list[Any]:
    """The wire objects of `registry`'s items that the client of `ctx` is listed: those its
    token's scopes allow, less what the server's rules and its session's hide."""
    server = ctx.server
    items = shown_to(server.visibility, ctx, registry, visible(registry.items(), ctx.auth))
    return [spec.wire for spec in items]


def list_resources(ctx: Context) -> list[Resource]:
    """resources/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.resources)


def list_resource_templates(ctx: Context) -> list[ResourceTemplate]:
    """resources/templates/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.templates)


def list_prompts(ctx: Context) -> list[Prompt]:
    """prompts/list as the caller of `ctx` would get it, all pages."""
    return _shown(ctx, ctx.server.prompts)


async def get_prompt(ctx: Context, name: str, arguments: dict[str, str] | None) -> GetPromptResult:
    """prompts/get of `name` as the caller of `ctx` would get it: the same messages, the same
    error for a prompt it may not see, its scopes checked; a mounted server's prompt is
    rendered by that server, with a Context of its own, as a routed request is."""
    server = ctx.server
    found = prompt_owner(server, name) if server.mounts else None
    if found is None:
        params = GetPromptRequestParams(name=name, arguments=arguments)
        return await features.get_prompt(server, ctx, params)
    # Judged here, by the name this server shows, then rendered where it is served.
    spec = server.prompts.get(name)
    if spec is None or hidden(server.visibility, ctx, "prompt", spec):
        raise unknown("prompt", name, server.visibility.tombstones)
    check_access(spec, ctx.auth, "prompt", name)
    mount, inner = found
    return await get_prompt(context_for(mount.server, ctx), inner, arguments)
