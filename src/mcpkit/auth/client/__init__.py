"""The client side of MCP authorization: discovery, registration, PKCE, the authorization code
flow and the other grants, token storage and refresh; `OAuth` joins them as an `httpx.Auth`."""

from __future__ import annotations

from mcpkit.auth.client.oauth import OAuth
from mcpkit.auth.client.redirect import (
    AuthorizationResponse,
    HeadlessRedirect,
    LoopbackBrowser,
    RedirectHandler,
)
from mcpkit.auth.client.storage import (
    FileTokenStorage,
    MemoryTokenStorage,
    StoredClient,
    StoredTokens,
    TokenStorage,
)
from mcpkit.auth.client.token import (
    ClientAuthentication,
    ClientSecretBasic,
    ClientSecretPost,
    NoClientAuthentication,
)

__all__ = [
    "AuthorizationResponse",
    "ClientAuthentication",
    "ClientSecretBasic",
    "ClientSecretPost",
    "FileTokenStorage",
    "HeadlessRedirect",
    "LoopbackBrowser",
    "MemoryTokenStorage",
    "NoClientAuthentication",
    "OAuth",
    "RedirectHandler",
    "StoredClient",
    "StoredTokens",
    "TokenStorage",
]
