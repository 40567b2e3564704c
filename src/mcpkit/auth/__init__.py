"""OAuth 2.1 for MCP (spec: basic/authorization): the resource-server side (`mcpkit.auth.server`),
the client side (`mcpkit.auth.client`) and the documents they exchange (`mcpkit.auth.metadata`).

Everything here beyond the documents needs the `[auth]` extra (httpx and joserfc)."""
