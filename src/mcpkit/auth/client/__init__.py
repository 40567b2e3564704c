"""The client side of MCP authorization: discovery, registration, PKCE, the authorization code
flow and the other grants, token storage and refresh; `OAuth` joins them as an `httpx.Auth`."""

from __future__ import annotations

from mcpkit.auth.client.assertions import PrivateKeyJwt
from mcpkit.auth.client.dpop import DPoPKey
from mcpkit.auth.client.grant_auth import GrantAuth
from mcpkit.auth.client.grants import (
    ClientCredentialsGrant,
    EnterpriseGrant,
    Grant,
    JwtBearerGrant,
    assertion_from_env,
    assertion_from_file,
)
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
    "ClientCredentialsGrant",
    "ClientSecretPost",
    "DPoPKey",
    "EnterpriseGrant",
    "FileTokenStorage",
    "Grant",
    "GrantAuth",
    "HeadlessRedirect",
    "JwtBearerGrant",
    "LoopbackBrowser",
    "MemoryTokenStorage",
    "NoClientAuthentication",
    "OAuth",
    "PrivateKeyJwt",
    "RedirectHandler",
    "StoredClient",
    "StoredTokens",
    "TokenStorage",
    "assertion_from_env",
    "assertion_from_file",
]
