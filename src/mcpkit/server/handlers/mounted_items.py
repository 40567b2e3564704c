"""A request that names one item of a mounted server (a tool to call, a prompt to get, a
resource to read, a completion's ref), routed to that server under the name it knows, and its
answer shown back with the names the parent shows.

Apart from `server.mount` (mounting: what the parent shows of another server, and the checks
before it does) because this is a step of a request's way to its handler: `routing`'s
`through_layers` calls `route` once servers are mounted. Lists and subscriptions are the
parent's own (`mounted_lists`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import msgspec

from mcpkit.server.catalog.mounted_tools import MountedTools
from mcpkit.server.catalog.mounts import Mount
from mcpkit.server.catalog.registry import MountedSource
from mcpkit.server.catalog.visibility.every_component import Findable
from mcpkit.server.catalog.visibility.shown_to import check_routed, seen_by
from mcpkit.server.context import Context
from mcpkit.server.core import ServerCore
from mcpkit.server.mount import context_for, mount_of, owner_of
from mcpkit.types import ReadResourceResult

if TYPE_CHECKING:
    from mcpkit.server.handlers import Handler

__all__ = ["Found", "mounted_read", "route", "shown_contents"]


async def route(server: ServerCore, ctx: Context, handler: Handler, params: Any) -> Any:
    """Answer a request of `server`, which has mounts: the mounted server's for one of its
    items, `handler` otherwise (lists and subscriptions are answered here, from the merged
    registries).

    The request is judged twice, deliberately: here by the parent's rules under the names
    the parent shows (`check_routed`), then by the mounted server's own middleware and
    rules under its own names, as a client of that server alone would be."""
    finder = _FINDERS.get(ctx.method)
    found = finder(seen_by(server, ctx), params) if finder is not None else None
    if found is None:
        return await handler(server, ctx, params)
    check_routed(server, ctx, params)  # judged here, by the names this server shows
    mount, inner_params = found
    result = await mount.server.handle_mounted(context_for(mount.server, ctx), inner_params)
    if ctx.method != "resources/read":
        return result
    read: ReadResourceResult = (
        msgspec.json.decode(result, type=ReadResourceResult)  # encoded by a layer already
        if isinstance(result, msgspec.Raw)
        else result
    )
    # The mounted server answered with its own URIs; the client asked by the parent's.
    return shown_contents(mount, read)


#: A mounted item's route: the mount that serves it, and the request's params rewritten to
#: the names and URIs that server knows.
Found = tuple[Mount[ServerCore], Any]


def _tool_call(server: Findable, params: Any) -> Found | None:
    """The route of a tools/call for a mounted tool; None for the parent's own (or an
    unknown name, which the handler then refuses)."""
    origin = server.tools.origin(params.name)
    if origin is None:
        return None
    source = origin[0]
    if isinstance(source, MountedTools) and source.is_transformed(origin[1]):
        return None  # a derived tool: run here, and it calls its original there
    return mount_of(origin[0]), msgspec.structs.replace(params, name=origin[1])


def _prompt_get(server: Findable, params: Any) -> Found | None:
    """The route of a prompts/get for a mounted prompt; None for the parent's own."""
    origin = server.prompts.origin(params.name)
    if origin is None:
        return None
    return mount_of(origin[0]), msgspec.structs.replace(params, name=origin[1])


def mounted_read(server: Findable, params: Any) -> Found | None:
    """The mount serving `params.uri` (`owner_of`), with the params it reads by."""
    found = owner_of(server, params.uri)
    if found is None:
        return None
    return found[0], msgspec.structs.replace(params, uri=found[1])


def _completion(server: Findable, params: Any) -> Found | None:
    """The route of a completion/complete whose ref names a mounted prompt, template or
    resource; the ref is rewritten to the name or URI the mounted server knows, since its
    completers are keyed by those."""
    ref = params.ref
    origin: tuple[MountedSource[Any], str] | None
    if ref.type == "ref/prompt":
        origin = server.prompts.origin(ref.name)
        inner_ref = None if origin is None else msgspec.structs.replace(ref, name=origin[1])
    else:
        origin = server.templates.origin(ref.uri) or server.resources.origin(ref.uri)
        inner_ref = None if origin is None else msgspec.structs.replace(ref, uri=origin[1])
    if origin is None:
        return None
    return mount_of(origin[0]), msgspec.structs.replace(params, ref=inner_ref)


#: The methods that name one item, and how each finds the mount serving it. Every other
#: method (lists, subscriptions, tasks) is answered by the parent from its merged
#: registries or its own state.
_FINDERS: Final[dict[str, Callable[[Findable, Any], Found | None]]] = {
    "tools/call": _tool_call,
    "prompts/get": _prompt_get,
    "resources/read": mounted_read,
    "completion/complete": _completion,
}


def shown_contents(mount: Mount[ServerCore], result: ReadResourceResult) -> ReadResourceResult:
    """The contents of a mounted resource carry the URIs the parent shows.

    A content's `uri` names the resource it came from; left as the mounted server's, it
    would name a URI the client was never shown and cannot read from the parent. One that
    cannot be shown (no scheme) is kept as it is."""
    contents = [
        msgspec.structs.replace(item, uri=mount.uri(item.uri) or item.uri)
        for item in result.contents
    ]
    return msgspec.structs.replace(result, contents=contents)
