"""Choosing how the client is known to an authorization server (spec: basic/authorization,
"Client Registration"): pre-registered credentials, then a client ID metadata document
(SEP-991), then dynamic client registration (RFC 7591, deprecated in 2026-07-28 but kept for
authorization servers without metadata documents), with an `application_type` (SEP-837)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth.client._calls import TIMEOUT, refusal, send
from mcpkit.auth.client._urls import is_loopback, require_secure
from mcpkit.auth.client.storage import StoredClient
from mcpkit.auth.metadata import (
    AuthorizationServerMetadata,
    ClientInformation,
    ClientMetadata,
    decode,
    encode,
)
from mcpkit.errors import AuthorizationFailed

__all__ = ["application_type_for", "check_client_id_metadata_url", "choose_client", "register"]

#: Registration errors a redirect URI the server will not take for the `application_type`
#: gives (RFC 7591 section 3.2.2).
_REDIRECT_ERRORS: Final = frozenset({"invalid_redirect_uri", "invalid_client_metadata"})


def check_client_id_metadata_url(url: str) -> None:
    """A client ID metadata document URL must be https with a path (spec: "Client ID Metadata
    Documents", implementation requirements for MCP clients)."""
    parsed = httpx.URL(url)
    if parsed.scheme != "https" or parsed.path in ("", "/"):
        raise ValueError(
            f"client_id_metadata_url {url!r} must be an https URL with a path, such as "
            "https://app.example.com/oauth/client.json"
        )


async def choose_client(
    http: httpx.AsyncClient,
    metadata: AuthorizationServerMetadata,
    *,
    redirect_uri: str,
    client_metadata: ClientMetadata,
    pre_registered: ClientInformation | None = None,
    client_id_metadata_url: str | None = None,
    stored: StoredClient | None = None,
) -> tuple[ClientInformation, bool]:
    """The client to authorize as at the server `metadata` describes, in the spec's order of
    preference, and whether it is a new registration worth storing."""
    if pre_registered is not None:
        return pre_registered, False
    if client_id_metadata_url is not None and metadata.client_id_metadata_document_supported:
        # The document at that URL is the registration: its client_id is the URL itself.
        return ClientInformation(client_id=client_id_metadata_url, redirect_uris=None), False
    if stored is not None and _still_valid(stored, metadata.issuer, redirect_uri):
        return stored.information, False
    if metadata.registration_endpoint is not None:
        registered = await register(
            http, metadata.registration_endpoint, client_metadata, redirect_uri=redirect_uri
        )
        return registered, True
    raise AuthorizationFailed(
        "unregistered_client",
        f"the authorization server {metadata.issuer} offers neither client ID metadata "
        "documents (or none was given) nor dynamic registration: register a client with it "
        "and pass its credentials as OAuth(client=ClientInformation(client_id=...))",
    )


def _still_valid(stored: StoredClient, issuer: str, redirect_uri: str) -> bool:
    """A stored registration serves when it is from this issuer, knows this redirect URI (a
    loopback port may have changed) and its secret has not expired."""
    info = stored.information
    if stored.issuer != issuer or redirect_uri not in (info.redirect_uris or ()):
        return False
    expires = info.client_secret_expires_at
    return not expires or expires > time.time()


def application_type_for(redirect_uris: Sequence[str]) -> str:
    """The OpenID Connect `application_type` these redirect URIs make a client (spec: "Application
    Type and Redirect URI Constraints"): "native" when every one is on the loopback interface
    or has a private-use scheme (a desktop app, a CLI, a web app served on localhost, a mobile
    app: RFC 8252 sections 7.1 and 7.3), "web" when any is a remote http(s) page."""
    for uri in redirect_uris:
        url = httpx.URL(uri)
        if url.scheme in ("http", "https") and not is_loopback(url):
            return "web"
    return "native"


async def register(
    http: httpx.AsyncClient, endpoint: str, client_metadata: ClientMetadata, *, redirect_uri: str
) -> ClientInformation:
    """Dynamic client registration (RFC 7591 section 3): POST our metadata, with
    `redirect_uri`, the authorization code grant and the `application_type` its redirect URIs
    call for (SEP-837) filled in where the app left them out."""
    require_secure(endpoint, "the registration endpoint")
    document = msgspec.structs.replace(
        client_metadata,
        redirect_uris=client_metadata.redirect_uris or [redirect_uri],
        grant_types=client_metadata.grant_types or ["authorization_code", "refresh_token"],
        response_types=client_metadata.response_types or ["code"],
        token_endpoint_auth_method=client_metadata.token_endpoint_auth_method or "none",
    )
    if redirect_uri not in (document.redirect_uris or ()):
        document.redirect_uris = [*(document.redirect_uris or ()), redirect_uri]
    if document.application_type is None:
        # OpenID Connect takes an absent one as "web", which refuses loopback redirect URIs.
        document.application_type = application_type_for(document.redirect_uris or ())
    request = http.build_request(
        "POST",
        endpoint,
        content=encode(document),
        headers={"content-type": "application/json", "accept": "application/json"},
        timeout=TIMEOUT,
    )
    response = await send(http, request)
    if response.status_code not in (200, 201):
        failure = refusal(response, f"dynamic client registration at {endpoint}")
        if failure.error in _REDIRECT_ERRORS:
            # The spec asks for a meaningful error: say what was asked and what to change.
            failure = AuthorizationFailed(
                failure.error,
                f"{failure.description} (registered as application_type "
                f"{document.application_type!r} with redirect URIs "
                f"{', '.join(document.redirect_uris or ())}: an OpenID Connect server takes "
                'loopback or private-use redirect URIs for "native" clients only and https '
                'ones for "web" clients; set ClientMetadata(application_type=...) or '
                "redirect_uris to what this server accepts)",
                status=failure.status,
            )
        raise failure
    try:
        return decode(response.content, ClientInformation)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise AuthorizationFailed(
            "invalid_response",
            f"dynamic client registration at {endpoint} returned no valid client: {exc}",
        ) from None
