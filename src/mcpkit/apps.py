"""MCP Apps (the `io.modelcontextprotocol/ui` extension, SEP-1865): interactive views that a
server ships with its tools and a host renders in a sandboxed iframe (docs/apps.md).

Servers: `@server.view("ui://...")` / `server.add_view(...)` and `@server.tool(view=...,
visibility=...)`, with `Csp` and `Permissions` for a view's settings. Hosts:
`Client(target, extensions=HOST_EXTENSIONS)`, then `tool_ui`, `view_meta`, `model_tools` and
`app_tools` to read what the server sent.
"""

from __future__ import annotations

from mcpkit.client.ui_meta import HOST_EXTENSIONS, app_tools, model_tools, tool_ui, view_meta
from mcpkit.types.apps_extension import (
    UI_EXTENSION,
    UI_RESOURCE_URI_KEY,
    VIEW_MIME_TYPE,
    Csp,
    Permissions,
    ToolUi,
    ViewMeta,
    Visibility,
)

__all__ = [
    "HOST_EXTENSIONS",
    "UI_EXTENSION",
    "UI_RESOURCE_URI_KEY",
    "VIEW_MIME_TYPE",
    "Csp",
    "Permissions",
    "ToolUi",
    "ViewMeta",
    "Visibility",
    "app_tools",
    "model_tools",
    "tool_ui",
    "view_meta",
]
