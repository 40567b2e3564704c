"""A development OAuth 2.1 authorization server for MCP (an ASGI app): approves every request at
once, for local work and tests; never a production identity provider. Needs `mcpkit[auth]`."""

from __future__ import annotations

from mcpkit.auth.devserver.app import DevAuthorizationServer
from mcpkit.auth.devserver.endpoints import NOT_FOR_PRODUCTION
from mcpkit.auth.devserver.settings import DEFAULT_SUBJECT, DevServerSettings, Paths

__all__ = [
    "DEFAULT_SUBJECT",
    "NOT_FOR_PRODUCTION",
    "DevAuthorizationServer",
    "DevServerSettings",
    "Paths",
]
