"""An authorization front: an OAuth authorization server for MCP clients that signs users in
with an upstream identity provider through its own pre-registered client (for providers that
offer MCP clients neither dynamic registration nor client ID metadata documents)."""

from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.front import providers  # the provider recipes: providers.github(...), ...
from mcpkit.auth.front.app import AuthorizationFront
from mcpkit.auth.front.front_settings import FrontPaths, FrontSettings, ScopePolicy, TokenMode
from mcpkit.auth.front.upstream import ResourceParameter, TokenAuth, UpstreamProvider
from mcpkit.auth.front.verification import UpstreamTokenUnavailable

__all__ = [
    "AuthorizationFront",
    "FrontPaths",
    "FrontSettings",
    "ResourceParameter",
    "ScopePolicy",
    "SigningKey",
    "TokenAuth",
    "TokenMode",
    "UpstreamProvider",
    "UpstreamTokenUnavailable",
    "providers",
]
