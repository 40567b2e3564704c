"""Finding who authorizes an MCP server (spec: basic/authorization, "Authorization Server
Discovery"): its protected resource metadata (RFC 9728), then its authorization server's
metadata (RFC 8414 or OpenID Connect discovery), with the 2025-03-26 fallbacks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client._calls import get_document
from mcpkit.auth.client._urls import (
    canonical_resource,
    origin,
    require_secure,
    resource_covers,
    well_known,
)
from mcpkit.auth.client.challenge import Challenge
from mcpkit.auth.metadata import AuthorizationServerMetadata, ProtectedResourceMetadata
from mcpkit.errors import AuthorizationFailed

__all__ = [
    "Discovery",
    "authorization_server_metadata_urls",
    "discover",
    "discover_authorization_server",
    "discover_resource",
    "fallback_metadata",
    "resource_metadata_urls",
]

logger = logging.getLogger("mcpkit.auth")


@dataclass(frozen=True)
class Discovery:
    """What discovery found for one MCP server: the `resource` to ask tokens for, its
    metadata (None: the server has none, the 2025-03-26 fallback) and its authorization
    server's metadata."""

    resource: str
    resource_metadata: ProtectedResourceMetadata | None
    authorization_server: AuthorizationServerMetadata


def _same_origin(url: str, server_url: str) -> bool:
    try:
        return origin(url) == origin(server_url)
    except httpx.InvalidURL:
        return False


def resource_metadata_urls(server_url: str, challenge: Challenge | None) -> list[str]:
    """Where to look for the server's protected resource metadata, in order (spec:
    "Protected Resource Metadata Discovery Requirements"): the challenge's `resource_metadata`
    when given and on the server's own origin, else the path-inserted well-known URL, then
    the root one. A `resource_metadata` on another origin is ignored (logged): whoever
    answers a 401 could otherwise point the client at a document of its choosing elsewhere."""
    named = None if challenge is None else challenge.resource_metadata
    if named and _same_origin(named, server_url):
        return [named]
    if named:
        logger.warning(
            "ignored resource_metadata %s: not on %s's origin; looking at the well-known "
            "location instead",
            named,
            server_url,
        )
    urls = [well_known(server_url, "oauth-protected-resource")]
    root = well_known(server_url, "oauth-protected-resource", path_inserted=False)
    if root not in urls:
        urls.append(root)
    return urls


def authorization_server_metadata_urls(issuer: str) -> list[str]:
    """Where to look for an authorization server's metadata, in the order the spec gives
    ("Authorization Server Metadata Discovery"): with a path, RFC 8414 path-inserted, OIDC
    path-inserted, OIDC path-appended; without one, RFC 8414 then OIDC."""
    if httpx.URL(issuer).path.rstrip("/"):
        return [
            well_known(issuer, "oauth-authorization-server"),
            well_known(issuer, "openid-configuration"),
            f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        ]
    return [
        well_known(issuer, "oauth-authorization-server"),
        well_known(issuer, "openid-configuration"),
    ]


async def discover_resource(
    http: httpx.AsyncClient, server_url: str, challenge: Challenge | None
) -> ProtectedResourceMetadata | None:
    """The server's protected resource metadata; None when it serves none. Refuses a document
    whose `resource` is not this server (RFC 9728 section 3.3: it could send our tokens to
    whoever wrote it) or that names no authorization server."""
    for url in resource_metadata_urls(server_url, challenge):
        document = await get_document(http, url, ProtectedResourceMetadata)
        if document is None:
            continue
        if not resource_covers(document.resource, server_url):
            raise AuthorizationFailed(
                "invalid_resource_metadata",
                f"the protected resource metadata at {url} is for {document.resource!r}, not "
                f"for {server_url!r}: refusing it (RFC 9728 section 3.3)",
            )
        if not document.authorization_servers:
            raise AuthorizationFailed(
                "invalid_resource_metadata",
                f"the protected resource metadata at {url} names no authorization_servers",
            )
        return document
    named = None if challenge is None else challenge.resource_metadata
    if named and _same_origin(named, server_url):
        # The server named its metadata and it is not there: a broken server, not a 2025-03-26
        # one (those send no resource_metadata), so no fallback to guessing.
        raise AuthorizationFailed(
            "invalid_resource_metadata",
            f"{server_url} names its protected resource metadata at {named}, which has none",
        )
    return None


async def discover_authorization_server(
    http: httpx.AsyncClient, issuer: str
) -> AuthorizationServerMetadata | None:
    """The metadata of the authorization server `issuer`; None when it publishes none. Refuses
    a document whose `issuer` is not `issuer`, character for character (RFC 8414 section 3.3;
    spec: "Authorization Server Metadata Discovery": it MUST be identical): that `issuer` is
    what the authorization response's `iss` is later compared with (RFC 9207)."""
    require_secure(issuer, "the authorization server")
    for url in authorization_server_metadata_urls(issuer):
        document = await get_document(http, url, AuthorizationServerMetadata)
        if document is None:
            continue
        if document.issuer != issuer:
            raise AuthorizationFailed(
                "invalid_issuer",
                f"the metadata at {url} says its issuer is {document.issuer!r}, not "
                f"{issuer!r}: refusing it (RFC 8414 section 3.3)",
            )
        return document
    return None


def fallback_metadata(server_url: str) -> AuthorizationServerMetadata:
    """The 2025-03-26 default for a server whose authorization server publishes no metadata:
    the MCP server's origin, with /authorize, /token and /register. PKCE S256 was mandatory
    then, so it is assumed."""
    base = origin(server_url)
    return AuthorizationServerMetadata(
        issuer=base,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        registration_endpoint=f"{base}/register",
        code_challenge_methods_supported=["S256"],
    )


async def discover(
    http: httpx.AsyncClient, server_url: str, challenge: Challenge | None
) -> Discovery:
    """Everything needed to authorize for the MCP server at `server_url`, which answered
    `challenge` (None: no WWW-Authenticate). Uses the first authorization server the metadata
    lists (RFC 9728 section 7.6 leaves the choice to the client)."""
    prm = await discover_resource(http, server_url, challenge)
    if prm is None:
        # 2025-03-26: no resource metadata; the MCP server's origin is the authorization server.
        logger.info("%s has no protected resource metadata: its origin is the issuer", server_url)
        issuer = origin(server_url)
        resource = canonical_resource(server_url)
    else:
        assert prm.authorization_servers  # checked by discover_resource
        issuer = prm.authorization_servers[0]
        resource = prm.resource  # verbatim: the server checks tokens' audience against it
    metadata = await discover_authorization_server(http, issuer)
    if metadata is None:
        if prm is not None:
            raise AuthorizationFailed(
                "invalid_authorization_server",
                f"the authorization server {issuer!r} publishes no metadata at "
                f"{', '.join(authorization_server_metadata_urls(issuer))}",
            )
        metadata = fallback_metadata(server_url)
    return Discovery(resource, prm, metadata)
