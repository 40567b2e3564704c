"""The front's authorization server metadata (RFC 8414): what MCP clients need to register
(dynamically or with a client ID metadata document) and run the authorization code flow."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.auth.devserver.assertions import ASSERTION_ALGORITHMS
from mcpkit.auth.devserver.clients import AUTH_METHODS
from mcpkit.auth.front.settings import FrontSettings
from mcpkit.auth.metadata import AuthorizationServerMetadata, encode

__all__ = ["front_metadata"]


def front_metadata(settings: FrontSettings, issuer: str) -> dict[str, Any]:
    """The RFC 8414 document for `issuer`."""
    paths = settings.paths
    document = AuthorizationServerMetadata(
        issuer=issuer,
        authorization_endpoint=issuer + paths.authorize,
        token_endpoint=issuer + paths.token,
        jwks_uri=issuer + paths.jwks,
        registration_endpoint=issuer + paths.register if settings.allow_registration else None,
        scopes_supported=list(settings.scopes) if settings.scopes is not None else None,
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token"],
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        token_endpoint_auth_signing_alg_values_supported=list(ASSERTION_ALGORITHMS),
        revocation_endpoint=issuer + paths.revoke,
        revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
        code_challenge_methods_supported=["S256"],
        client_id_metadata_document_supported=True,
        authorization_response_iss_parameter_supported=True,
    )
    found: dict[str, Any] = msgspec.json.decode(encode(document))
    return found
