"""A server for the connection panel's tests: its instructions name the environment variable
the panel may add (MCPKIT_PANEL_MARK), a tool tells the Authorization header a URL target got,
and another returns a result whose keys are too long for one line of the message log."""

from __future__ import annotations

import os

from mcpkit import Context, Server

server = Server("panel", instructions=f"mark={os.environ.get('MCPKIT_PANEL_MARK', 'none')}")


@server.tool()
def authorization(ctx: Context) -> str:
    """The Authorization header this request came with (over HTTP), or "none"."""
    info = ctx.request_info
    for name, value in info.headers if info is not None else ():
        if name == b"authorization":
            return value.decode()
    return "none"


@server.tool()
def long_keys() -> dict[str, object]:
    """Keys with no space to break at, as URIs and hashes are."""
    key = "https://example.com/" + "segment/" * 12 + "end"
    return {key: {("k" * 90): "v" * 150}, "short": 1}
