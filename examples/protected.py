"""A protected MCP server with the development authorization server mounted beside it.

    mcpkit run examples/protected.py --transport http --host 127.0.0.1 --port 8000

serves the MCP endpoint at http://127.0.0.1:8000/mcp and, on the same origin, an OAuth 2.1
authorization server that approves every request at once (for local work and tests only: see
docs/auth.md to point a server at a real provider). Any OAuth-capable MCP client completes the
flow headlessly; with mcpkit:

    python examples/oauth_client.py http://127.0.0.1:8000/mcp
"""

from __future__ import annotations

from mcpkit import Context, Server
from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings

#: Every token needs `mcp`; `admin` opens one more tool (a client steps up to get it).
auth_server = DevAuthorizationServer(
    DevServerSettings(scopes=("mcp", "admin"), default_scopes=("mcp",))
)
server = Server(
    "protected",
    version="1.0.0",
    instructions="Call whoami to see who you are to this server.",
    auth=auth_server.protect(required_scopes=["mcp"], resource_name="mcpkit protected example"),
)


@server.tool()
def whoami(ctx: Context) -> dict[str, object]:
    """Who the access token speaks for, and what it allows."""
    token = ctx.auth
    if token is None:  # served without authorization (over stdio, say)
        return {"subject": None, "scopes": []}
    return {"subject": token.subject, "client_id": token.client_id, "scopes": sorted(token.scopes)}


@server.tool(scopes=["admin"])
def rotate_secrets() -> str:
    """Rotates the (pretend) secrets: only for tokens with the `admin` scope."""
    return "secrets rotated"


if __name__ == "__main__":
    server.run(transport="http")
