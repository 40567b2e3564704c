"""The resource-server side of MCP authorization: protected resource metadata, token
verification, challenges."""
