"""A server whose result has keys too long for one line of the inspector's message log."""

from __future__ import annotations

from mcpkit import Server

server = Server("panel")


@server.tool()
def long_keys() -> dict[str, object]:
    """Keys with no space to break at, as URIs and hashes are."""
    key = "https://example.com/" + "segment/" * 12 + "end"
    return {key: {("k" * 90): "v" * 150}, "short": 1}
