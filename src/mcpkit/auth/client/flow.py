"""The authorization code flow with PKCE (spec: basic/authorization, "Authorization Flow
Steps"): the authorization request with `resource` and `state`, the checks on the redirect's
answer (`state`, RFC 9207 `iss`), and the code exchange; and the scope selection strategy."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client._urls import require_secure
from mcpkit.auth.client.challenge import Challenge
from mcpkit.auth.client.pkce import Pkce, require_s256
from mcpkit.auth.client.redirect import AuthorizationResponse, RedirectHandler
from mcpkit.auth.client.token import (
    ClientAuthentication,
    TokenRequestStep,
    authorization_code_grant,
    request_token,
)
from mcpkit.auth.metadata import (
    AuthorizationServerMetadata,
    ProtectedResourceMetadata,
    TokenResponse,
)
from mcpkit.errors import AuthorizationFailed

__all__ = [
    "authorization_url",
    "check_response",
    "run_authorization_code",
    "select_scope",
    "with_offline_access",
]

#: The scope that asks an OpenID Connect style authorization server for a refresh token.
OFFLINE_ACCESS = "offline_access"


def select_scope(
    challenge: Challenge | None, resource_metadata: ProtectedResourceMetadata | None
) -> str | None:
    """The scope to ask for (spec: "Scope Selection Strategy"): the challenge's `scope` when it
    has one, else all of the resource's `scopes_supported`, else none (the parameter is left
    out)."""
    if challenge is not None and challenge.scopes:
        return " ".join(challenge.scopes)
    if resource_metadata is not None and resource_metadata.scopes_supported:
        return " ".join(resource_metadata.scopes_supported)
    return None


def with_offline_access(scope: str | None, metadata: AuthorizationServerMetadata) -> str | None:
    """`scope` with `offline_access` added when the authorization server lists it in its
    `scopes_supported` (spec: "Refresh Tokens", SEP-2207): the client wants a refresh token.
    Never added to an absent scope (that would narrow the server's default to this one alone),
    and never when the server does not list it."""
    if not scope or OFFLINE_ACCESS not in (metadata.scopes_supported or ()):
        return scope
    if OFFLINE_ACCESS in scope.split():
        return scope
    return f"{scope} {OFFLINE_ACCESS}"


def authorization_url(
    metadata: AuthorizationServerMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    pkce: Pkce,
    state: str,
    resource: str,
    scope: str | None,
) -> str:
    """The authorization request (RFC 6749 section 4.1.1, RFC 7636 section 4.3, RFC 8707)."""
    endpoint = metadata.authorization_endpoint
    if endpoint is None:
        raise AuthorizationFailed(
            "invalid_authorization_server",
            f"the authorization server {metadata.issuer} has no authorization_endpoint",
        )
    require_secure(endpoint, "the authorization endpoint")
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "code_challenge_method": pkce.method,
        "state": state,
        "resource": resource,
    }
    if scope:
        params["scope"] = scope
    # copy_merge_params keeps a query the endpoint URL already has (RFC 6749 section 3.1).
    return str(httpx.URL(endpoint).copy_merge_params(params))


def check_response(
    answer: AuthorizationResponse, *, state: str, metadata: AuthorizationServerMetadata
) -> str:
    """The code from the redirect's `answer`, after the checks that stop a forged or mixed-up
    response: `state` must be ours (spec: "Open Redirection"), `iss` must be the issuer when
    given, and must be given when the server says it sends it (RFC 9207 section 2.4; spec:
    "Authorization Response Validation"). These come before the answer's `error` is read: a
    mixed-up error response is not acted on either."""
    if answer.state != state:
        raise AuthorizationFailed(
            "invalid_state",
            "the authorization response's state does not match the request's: discarding it "
            "(a forged or stale redirect)",
        )
    if answer.iss is not None:
        # Simple string comparison (RFC 3986 section 6.2.1): no case folding, default-port,
        # trailing-slash or percent-encoding normalization (spec: "Authorization Response
        # Validation"); `issuer` was checked against the metadata's own URL at discovery.
        if answer.iss != metadata.issuer:
            raise AuthorizationFailed(
                "invalid_issuer",
                f"the authorization response came from issuer {answer.iss!r}, not "
                f"{metadata.issuer!r}: discarding it (RFC 9207, mix-up attack)",
            )
    elif metadata.authorization_response_iss_parameter_supported:
        raise AuthorizationFailed(
            "invalid_issuer",
            f"{metadata.issuer} promises an iss parameter in its authorization responses and "
            "this one has none: discarding it (RFC 9207 section 2.4)",
        )
    if answer.error is not None:
        detail = answer.error_description or "the authorization server refused"
        raise AuthorizationFailed(answer.error, detail)
    if not answer.code:
        raise AuthorizationFailed("invalid_response", "the authorization response has no code")
    return answer.code


async def run_authorization_code(
    http: httpx.AsyncClient,
    metadata: AuthorizationServerMetadata,
    *,
    redirect: RedirectHandler,
    redirect_uri: str,
    client_id: str,
    client_auth: ClientAuthentication,
    resource: str,
    scope: str | None,
    steps: Sequence[TokenRequestStep] = (),
) -> TokenResponse:
    """One whole authorization code flow: checks PKCE S256 support, sends the user to the
    authorization endpoint through `redirect`, checks the answer and exchanges the code."""
    require_s256(metadata)
    if metadata.token_endpoint is None:
        raise AuthorizationFailed(
            "invalid_authorization_server",
            f"the authorization server {metadata.issuer} has no token_endpoint",
        )
    pkce = Pkce.new()
    state = secrets.token_urlsafe(32)
    url = authorization_url(
        metadata,
        client_id=client_id,
        redirect_uri=redirect_uri,
        pkce=pkce,
        state=state,
        resource=resource,
        scope=scope,
    )
    code = check_response(await redirect.authorize(url), state=state, metadata=metadata)
    grant = authorization_code_grant(
        code, code_verifier=pkce.verifier, redirect_uri=redirect_uri, resource=resource
    )
    return await request_token(
        http, metadata.token_endpoint, grant, client_auth, steps=steps, issuer=metadata.issuer
    )
