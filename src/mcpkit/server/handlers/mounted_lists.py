"""A mounted server's list middleware where its parent lists: the parent's tools/list (and
resources/list, resources/templates/list, prompts/list) shows a mounted server's components as
that server's own middleware leaves them, left out or edited, as a client of that server
alone would see them (docs/server.md, "Composing servers").

The parent's registries merge the mounted ones live, below every middleware; so where a
mounted server (or one mounted in it, at any depth) has layers that take part in the list
method, the parent asks it for its list through those layers (`handle_mounted`, every page)
and keeps, of that server's components, those it listed, as it listed them (renamed as the
parent shows them). A parent whose mounted servers have no such layer lists as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import msgspec

from mcpkit.server.catalog.mounted_tools import MountedTools
from mcpkit.server.catalog.registry import MountedSource, Registry
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.middleware.chains import chain_for
from mcpkit.types import (
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.server.core import ServerCore
from mcpkit.server.catalog.mounts import Mount

__all__ = ["as_mounted_servers_list"]

S = TypeVar("S")

#: Per list method: its result's type, the field of its items, each item's key field, and
#: the registry of a server it lists.
_LISTS: Final[dict[str, tuple[type[Any], str, str, Callable[[ServerCore], Registry[Any]]]]] = {
    "tools/list": (ListToolsResult, "tools", "name", lambda server: server.tools),
    "prompts/list": (ListPromptsResult, "prompts", "name", lambda server: server.prompts),
    "resources/list": (ListResourcesResult, "resources", "uri", lambda server: server.resources),
    "resources/templates/list": (
        ListResourceTemplatesResult,
        "resource_templates",
        "uri_template",
        lambda server: server.templates,
    ),
}
_MAX_PAGES: Final = 1_000  # (a cursor that never ends is a bug of a layer)


def _edits(server: ServerCore, method: str) -> bool:
    """Whether `server`'s middleware, or that of a server mounted in it at any depth, takes
    part in `method` requests."""
    if server.middleware and chain_for(server.middleware, method):
        return True
    return any(_edits(mount.server, method) for mount in server.mounts)


async def _listed(mount: Mount[ServerCore], ctx: Context, method: str) -> dict[str, Any]:
    """The wire items `mount`'s server lists through its middleware, by key, every page.

    Every page, because the parent pages its own merged list: it must know all that the
    mounted server's middleware keeps before it can say what is on any one of its pages."""
    result_type, field, key, _ = _LISTS[method]
    inner = ctx.derive(server=mount.server)  # (the request's Context for that server)
    found: dict[str, Any] = {}
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        answer = await mount.server.handle_mounted(inner, PaginatedRequestParams(cursor=cursor))
        page = _as_result(answer, result_type)
        for item in getattr(page, field):
            found[getattr(item, key)] = item
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _as_result(answer: Any, result_type: type[S]) -> S:
    """A list answer as its result type (a layer may have encoded it, or made a dict).

    A layer's answer is checked against the result type here: one that is not a valid
    list result raises msgspec's error rather than being merged half-read."""
    if isinstance(answer, result_type):
        return answer
    if isinstance(answer, msgspec.Raw):
        return msgspec.json.decode(answer, type=result_type)
    return msgspec.convert(answer, result_type)


async def as_mounted_servers_list(
    ctx: Context, registry: Registry[Any], items: Sequence[S]
) -> Sequence[S]:
    """`items` of the request's list, with the components of each mounted server whose
    middleware takes part in this list as that middleware left them."""
    server = ctx.server
    method = ctx.method
    # Cheap checks first: most lists of most servers have no mounted middleware to ask.
    if not server.mounts or method not in _LISTS:
        return items
    _, _, key_field, registry_of = _LISTS[method]
    # (by the mounted server's registry: what a mounted entry's source reads from)
    listed = {
        id(registry_of(mount.server)): await _listed(mount, ctx, method)
        for mount in server.mounts
        if _edits(mount.server, method)
    }
    if not listed:
        return items
    # The parent's own order and filtering stand (its rules judged `items` already); only
    # the components of a mount that was asked are dropped or replaced by what it listed.
    kept: list[S] = []
    for item in items:
        wire: Any = cast(Any, item).wire
        origin = registry.origin(getattr(wire, key_field))
        shown = None if origin is None else listed.get(id(origin[0].registry))
        if origin is None or shown is None:
            kept.append(item)
            continue
        edit = shown.get(origin[1])
        if edit is not None:  # (else that server's middleware left it out)
            kept.append(_edited(item, edit, origin[0], origin[1], key_field))
    return kept


def _edited(item: S, edit: Any, source: MountedSource[Any], inner: str, key_field: str) -> S:
    """`item` as the mounted server's middleware listed it (`edit`, by its own key `inner`),
    shown under the parent's key; `item` itself where the middleware changed nothing, or
    where the parent shows a tool derived from it (the transform's own words stand)."""
    if isinstance(source, MountedTools) and source.is_transformed(inner):
        return item
    original: Any = source.registry.get(inner)
    if original is None or edit == original.wire:
        return item
    shown: Any = item
    changes: dict[str, Any] = {key_field: getattr(shown.wire, key_field)}
    if edit.meta == original.wire.meta:
        changes["meta"] = shown.wire.meta  # (the parent's view URIs stay)
    wire = msgspec.structs.replace(edit, **changes)
    if isinstance(shown, ToolSpec):  # (its text-only form is made again)
        return cast(S, dataclasses.replace(shown, wire=wire, plain_wire=None))
    return cast(S, dataclasses.replace(shown, wire=wire))
