"""MCP Apps for clients and hosts (the `io.modelcontextprotocol/ui` extension, SEP-1865,
docs/apps.md): what a tool's and a view's UI metadata say, typed, and which tools belong in the
model's list.

A host declares the extension with `Client(target, extensions=HOST_EXTENSIONS)`; a server that
supports it then lists tools with their `_meta.ui` (the view that renders their results, and
who may call them), and serves views as `ui://` resources of type `text/html;profile=mcp-app`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec

from mcpkit.types import BlobResourceContents, TextResourceContents, Tool
from mcpkit.types.apps_extension import (
    UI_EXTENSION,
    UI_RESOURCE_URI_KEY,
    VIEW_MIME_TYPE,
    ToolUi,
    ViewMeta,
)

__all__ = ["HOST_EXTENSIONS", "app_tools", "model_tools", "tool_ui", "view_meta"]

#: What a host that renders views declares (`Client(target, extensions=HOST_EXTENSIONS)`).
HOST_EXTENSIONS: Final[Mapping[str, Mapping[str, Any]]] = {
    UI_EXTENSION: {"mimeTypes": [VIEW_MIME_TYPE]}
}


def tool_ui(tool: Tool) -> ToolUi | None:
    """A tool's link to its view: `_meta.ui` (or the deprecated flat `_meta["ui/resourceUri"]`
    alone); None for a tool without one, or with one too malformed to read."""
    meta = tool.meta or {}
    raw = meta.get("ui")
    flat = meta.get(UI_RESOURCE_URI_KEY)
    if raw is None and not isinstance(flat, str):
        return None
    try:
        found = msgspec.convert(raw or {}, ToolUi)
    except msgspec.ValidationError:
        return None
    if found.resource_uri is None and isinstance(flat, str):
        found = msgspec.structs.replace(found, resource_uri=flat)
    return found


def view_meta(contents: TextResourceContents | BlobResourceContents) -> ViewMeta | None:
    """A view's settings (`_meta.ui` of its resources/read contents); None when it has none
    (a host then applies the restrictive default policy) or they are malformed."""
    raw = (contents.meta or {}).get("ui")
    if raw is None:
        return None
    try:
        return msgspec.convert(raw, ViewMeta)
    except msgspec.ValidationError:
        return None


def model_tools(tools: Iterable[Tool]) -> list[Tool]:
    """The tools a host gives its model: all but those for views alone (`visibility` without
    "model")."""
    return [t for t in tools if (ui := tool_ui(t)) is None or ui.for_model]


def app_tools(tools: Iterable[Tool]) -> list[Tool]:
    """The tools a view may call (`visibility` with "app", the default)."""
    return [t for t in tools if (ui := tool_ui(t)) is None or ui.for_app]
