"""The development authorization server's documents and small endpoints: its metadata (RFC
8414, also served as OpenID Connect discovery), the JWKS, registration (RFC 7591), revocation
(RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

import msgspec

from mcpkit.auth.devserver._http import Form, Refused
from mcpkit.auth.devserver.assertions import ASSERTION_ALGORITHMS
from mcpkit.auth.devserver.clients import AUTH_METHODS, GRANT_TYPES, single
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import Store, digest
from mcpkit.auth.metadata import AuthorizationServerMetadata, ClientInformation, encode

__all__ = [
    "NOT_FOR_PRODUCTION",
    "EndpointPaths",
    "introspect",
    "metadata",
    "revoke",
    "server_metadata",
]

#: Said in the metadata, the startup log and the docs.
NOT_FOR_PRODUCTION: Final = (
    "mcpkit development authorization server: it approves every authorization request without "
    "a login and keeps its keys and tokens in memory; never use it as a production identity "
    "provider"
)
_SECRET_METHODS: Final = ["client_secret_basic", "client_secret_post"]


class EndpointPaths(Protocol):
    """Where an authorization server's endpoints are, below its issuer's path."""

    @property
    def authorize(self) -> str: ...
    @property
    def token(self) -> str: ...
    @property
    def register(self) -> str: ...
    @property
    def revoke(self) -> str: ...
    @property
    def jwks(self) -> str: ...


def metadata(settings: DevServerSettings, issuer: str) -> dict[str, Any]:
    """The RFC 8414 document for `issuer`, with a warning field that it is for development."""
    fields: dict[str, Any] = {"mcpkit_development_server": NOT_FOR_PRODUCTION}
    return fields | server_metadata(
        issuer,
        settings.paths,
        registration=settings.allow_registration,
        scopes=settings.scopes,
        grant_types=GRANT_TYPES,
        introspect=settings.paths.introspect,
        service_documentation=settings.service_documentation,
    )


def server_metadata(
    issuer: str,
    paths: EndpointPaths,
    *,
    registration: bool,
    scopes: Sequence[str] | None,
    grant_types: Sequence[str],
    introspect: str | None = None,
    service_documentation: str | None = None,
) -> dict[str, Any]:
    """The RFC 8414 document of an authorization server of mcpkit's at `issuer`: PKCE S256,
    client ID metadata documents, `iss` in responses, the client authentication methods
    `Clients` serves; introspection when `introspect` names its path."""
    document = AuthorizationServerMetadata(
        issuer=issuer,
        authorization_endpoint=issuer + paths.authorize,
        token_endpoint=issuer + paths.token,
        jwks_uri=issuer + paths.jwks,
        registration_endpoint=issuer + paths.register if registration else None,
        scopes_supported=list(scopes) if scopes is not None else None,
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=list(grant_types),
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        token_endpoint_auth_signing_alg_values_supported=list(ASSERTION_ALGORITHMS),
        service_documentation=service_documentation,
        revocation_endpoint=issuer + paths.revoke,
        revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
        introspection_endpoint=None if introspect is None else issuer + introspect,
        introspection_endpoint_auth_methods_supported=None
        if introspect is None
        else _SECRET_METHODS,
        code_challenge_methods_supported=["S256"],
        client_id_metadata_document_supported=True,
        authorization_response_iss_parameter_supported=True,
    )
    found: dict[str, Any] = msgspec.json.decode(encode(document))
    return found


def revoke(store: Store, form: Form, client: ClientInformation) -> None:
    """RFC 7009 section 2: end the token if this client holds it; an unknown token, or one of
    another client, is answered the same (200), so nothing leaks."""
    token = single(form, "token")
    if token is None:
        raise Refused("invalid_request", "token is missing")
    hashed = digest(token)
    access = store.access.get(hashed)
    if access is not None and access.consent.client_id == client.client_id:
        access.revoked = True
        return
    family_id = store.refresh.get(hashed)
    family = None if family_id is None else store.families.get(family_id)
    if family_id is not None and family is not None:
        if family.consent.client_id == client.client_id:
            store.revoke_family(family_id)


def introspect(
    store: Store,
    form: Form,
    client: ClientInformation,
    clock: Callable[[], float],
    *,
    trusted: bool = False,
) -> dict[str, Any]:
    """RFC 7662 section 2.2: what a live access or refresh token holds; `{"active": false}`
    for anything else. Only confidential clients may ask, and only a `trusted` one (given in
    the settings: a resource server) about another client's token (section 2.2 lets the
    server answer inactive to a client not allowed to know)."""
    if client.client_secret is None:
        raise Refused("invalid_client", "introspection needs a confidential client", status=401)
    token = single(form, "token")
    if token is None:
        raise Refused("invalid_request", "token is missing")
    hashed = digest(token)
    now = clock()
    access = store.access.get(hashed)
    if access is not None and not (trusted or access.consent.client_id == client.client_id):
        return {"active": False}
    if access is not None and store.live(access, now):
        consent = access.consent
        answer: dict[str, Any] = {
            "active": True,
            "token_type": "Bearer",
            "client_id": consent.client_id,
            "sub": consent.subject,
            "aud": consent.resource,
            "iss": access.issuer,
            "iat": access.issued_at,
            "nbf": access.issued_at,
            "exp": access.expires_at,
            "jti": access.jti,
        }
        if consent.scopes:
            answer["scope"] = " ".join(consent.scopes)
        return answer
    family_id = store.refresh.get(hashed)
    family = None if family_id is None else store.families.get(family_id)
    if family is not None and not (trusted or family.consent.client_id == client.client_id):
        return {"active": False}
    if family is not None and not family.revoked and family.refresh == hashed:
        if family.expires_at > now:
            return {
                "active": True,
                "token_type": "refresh_token",
                "client_id": family.consent.client_id,
                "sub": family.consent.subject,
                "scope": " ".join(family.consent.scopes),
                "exp": int(family.expires_at),
            }
    return {"active": False}
