"""A headless MCP client that authorizes itself with OAuth, then lists the tools and calls whoami.

    mcpkit run examples/protected.py --transport http --port 8000      # in one terminal
    python examples/oauth_client.py http://127.0.0.1:8000/mcp           # in another

The first request gets 401; the client discovers the authorization server, registers, runs
the authorization code flow with PKCE without a browser (`HeadlessRedirect`: for authorization
servers that approve at once, such as the development one) and retries with the token.
Interactive apps use `LoopbackBrowser()` instead (see docs/auth.md).
"""

from __future__ import annotations

import asyncio
import sys

from mcpkit import Client
from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.metadata import ClientMetadata


async def main(url: str) -> None:
    auth = OAuth(HeadlessRedirect(), client_metadata=ClientMetadata(client_name="oauth_client"))
    async with Client(url, auth=auth) as client:
        tools = await client.list_tools()
        print("tools:", ", ".join(tool.name for tool in tools))
        result = await client.call_tool("whoami")
        print("whoami:", result.text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/oauth_client.py http://127.0.0.1:8000/mcp")
    asyncio.run(main(sys.argv[1]))
