"""`mcp_component_fn`: what one operation becomes on a server, shown to a function of the
user's before it is made, which may rename, retitle, redescribe, tag or annotate it in
place (FastMCP's hook, in the same shape: the operation, then the component).

What it may not change is refused, naming the operation and the fix: the kind (a route map
or `route_map_fn` chooses it, under the rule that only a GET is read) and the URI
(`uri_prefix` chooses it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpkit.openapi.operations import Operation
from mcpkit.openapi.route_maps import RouteKind

__all__ = ["ComponentFn", "OpenApiComponent", "checked_component"]


@dataclass
class OpenApiComponent:
    """One route as the server will list it: change `name`, `title`, `description`, `tags`
    (a set) or `meta` (the item's `_meta`) in place. `kind` and `uri` are shown to decide
    by; changing them is refused."""

    kind: RouteKind
    uri: str | None
    name: str
    title: str | None
    description: str | None
    tags: set[str]
    meta: dict[str, Any] = field(default_factory=dict[str, Any])


#: `mcp_component_fn(operation, component)`: changes `component` in place; returns nothing.
ComponentFn = Callable[[Operation, OpenApiComponent], None]


def checked_component(
    component: OpenApiComponent, kind: RouteKind, uri: str | None, where: str
) -> OpenApiComponent:
    """`component` as `mcp_component_fn` left it, if every field still holds what it may;
    else a TypeError or ValueError naming `where` (the operation) and the field."""
    said = f"mcp_component_fn for {where}"
    if component.kind != kind:
        raise ValueError(
            f"{said} changed kind to {component.kind!r}: choose the kind with a route map "
            "or route_map_fn, which are checked for it"
        )
    if component.uri != uri:
        raise ValueError(f"{said} changed uri to {component.uri!r}: uri_prefix= sets URIs")
    if not isinstance(component.name, str) or not component.name:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{said} set name to {component.name!r}: a name is a non-empty string")
    for label, text in (("title", component.title), ("description", component.description)):
        if text is not None and not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"{said} set {label} to {text!r}: a string, or None")
    if not isinstance(component.tags, set | frozenset | list | tuple):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{said} set tags to {component.tags!r}: a set of strings")
    for tag in component.tags:
        if not isinstance(tag, str) or not tag:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"{said} added the tag {tag!r}: a tag is a non-empty string")
    if not isinstance(component.meta, dict):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{said} set meta to {component.meta!r}: a dict")
    return component
