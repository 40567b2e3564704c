"""The client side of MCP authorization: discovery, registration, PKCE, the authorization code
flow and the other grants, token storage and refresh."""
