"""An authorization front: an OAuth authorization server for MCP clients that signs users in
with an upstream identity provider through its own pre-registered client (for providers that
offer MCP clients neither dynamic registration nor client ID metadata documents)."""

from mcpkit.auth.front import providers  # the provider recipes: providers.github(...), ...
from mcpkit.auth.front.upstream import ResourceParameter, TokenAuth, UpstreamProvider

__all__ = ["ResourceParameter", "TokenAuth", "UpstreamProvider", "providers"]
