"""The MCP servers other hosts (Claude Desktop, Cursor, VS Code...) have configured on this
machine: where each keeps them (`places`), reading them (`configured`), and `HOST:NAME` as a
TARGET, in the client layer so that the CLI and the web inspector share one reader."""

from __future__ import annotations

__all__: list[str] = []
