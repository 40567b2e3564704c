"""The web inspector: a page on 127.0.0.1 to connect to any MCP server and try everything it
offers (docs/inspector.md)."""

from __future__ import annotations

from mcpkit.inspector.serve import serve_inspector

__all__ = ["serve_inspector"]
