"""The OAuth documents both sides of MCP authorization exchange, one definition each (spec:
basic/authorization): protected resource metadata (RFC 9728), authorization server metadata
(RFC 8414, and the OpenID Connect discovery fields we read), client metadata and registration
(RFC 7591, and client ID metadata documents, SEP-991), token responses (RFC 6749 section 5.1)
and OAuth error bodies (RFC 6749 section 5.2).

Decoding is lenient about fields we do not know (servers add their own) and strict about the
types of the fields we do. Encode with `encode()`: absent optional fields are left out.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from mcpkit.auth._redact import repr_hiding

__all__ = [
    "AuthorizationServerMetadata",
    "ClientInformation",
    "ClientMetadata",
    "OAuthErrorResponse",
    "ProtectedResourceMetadata",
    "TokenResponse",
    "decode",
    "encode",
]

_T = TypeVar("_T")


class ProtectedResourceMetadata(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9728 section 2: what a resource server says about itself at
    `/.well-known/oauth-protected-resource[/path]`. `resource` is its canonical URI."""

    resource: str
    authorization_servers: list[str] | None = None
    jwks_uri: str | None = None
    scopes_supported: list[str] | None = None
    bearer_methods_supported: list[str] | None = None
    resource_signing_alg_values_supported: list[str] | None = None
    resource_name: str | None = None
    resource_documentation: str | None = None
    resource_policy_uri: str | None = None
    resource_tos_uri: str | None = None
    dpop_signing_alg_values_supported: list[str] | None = None
    dpop_bound_access_tokens_required: bool | None = None


class AuthorizationServerMetadata(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 8414 section 2 (also what OpenID Connect discovery returns, for the fields MCP
    uses), plus `client_id_metadata_document_supported` (SEP-991),
    `authorization_response_iss_parameter_supported` (RFC 9207) and the DPoP algorithms
    (RFC 9449)."""

    issuer: str
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    jwks_uri: str | None = None
    registration_endpoint: str | None = None
    scopes_supported: list[str] | None = None
    response_types_supported: list[str] | None = None
    response_modes_supported: list[str] | None = None
    grant_types_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] | None = None
    token_endpoint_auth_signing_alg_values_supported: list[str] | None = None
    service_documentation: str | None = None
    revocation_endpoint: str | None = None
    revocation_endpoint_auth_methods_supported: list[str] | None = None
    introspection_endpoint: str | None = None
    introspection_endpoint_auth_methods_supported: list[str] | None = None
    code_challenge_methods_supported: list[str] | None = None
    client_id_metadata_document_supported: bool | None = None
    authorization_response_iss_parameter_supported: bool | None = None
    dpop_signing_alg_values_supported: list[str] | None = None


class ClientMetadata(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 7591 section 2: what a client says about itself when it registers, and what a
    client ID metadata document (SEP-991) holds besides its `client_id`; `application_type`
    ("native" or "web") is OpenID Connect Dynamic Client Registration's (section 2), which MCP
    clients send when they register (SEP-837)."""

    redirect_uris: list[str] | None = None
    token_endpoint_auth_method: str | None = None
    grant_types: list[str] | None = None
    response_types: list[str] | None = None
    client_name: str | None = None
    client_uri: str | None = None
    logo_uri: str | None = None
    scope: str | None = None
    contacts: list[str] | None = None
    tos_uri: str | None = None
    policy_uri: str | None = None
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    software_id: str | None = None
    software_version: str | None = None
    application_type: str | None = None


class ClientInformation(ClientMetadata, kw_only=True, omit_defaults=True):
    """RFC 7591 section 3.2.1: a registered client (its metadata and its credentials); also a
    client ID metadata document, whose `client_id` is the document's own URL."""

    client_id: str
    client_secret: str | None = None
    client_id_issued_at: int | None = None
    client_secret_expires_at: int | None = None

    def __repr__(self) -> str:
        return repr_hiding(self, "client_secret")


class TokenResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 6749 section 5.1 (and `issued_token_type`, RFC 8693 section 2.2.1)."""

    access_token: str
    token_type: str
    expires_in: int | None = None
    refresh_token: str | None = None
    scope: str | None = None
    id_token: str | None = None
    issued_token_type: str | None = None

    def __repr__(self) -> str:
        return repr_hiding(self, "access_token", "refresh_token", "id_token")


class OAuthErrorResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 6749 section 5.2: the body of a refused token, registration or revocation request."""

    error: str
    error_description: str | None = None
    error_uri: str | None = None


def encode(document: msgspec.Struct) -> bytes:
    """`document` as JSON, absent fields left out."""
    return msgspec.json.encode(document)


def decode(data: bytes | str, kind: type[_T]) -> _T:
    """`data` as a `kind` document; msgspec.ValidationError (a ValueError) names the field that
    is wrong, msgspec.DecodeError when it is not JSON."""
    return msgspec.json.decode(data, type=kind)
