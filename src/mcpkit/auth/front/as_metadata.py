"""The front's authorization server metadata (RFC 8414): what MCP clients need to register
(dynamically or with a client ID metadata document) and run the authorization code flow."""

from __future__ import annotations

from typing import Any

from mcpkit.auth.devserver.endpoints import server_metadata
from mcpkit.auth.front.front_settings import FrontSettings

__all__ = ["front_metadata"]


def front_metadata(settings: FrontSettings, issuer: str) -> dict[str, Any]:
    """The RFC 8414 document for `issuer`: the authorization code and refresh grants only."""
    return server_metadata(
        issuer,
        settings.paths,
        registration=settings.allow_registration,
        scopes=settings.scopes,
        grant_types=("authorization_code", "refresh_token"),
    )
