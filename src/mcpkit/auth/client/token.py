"""The token endpoint (RFC 6749 section 3.2): one function POSTs any grant's form there, with a
`ClientAuthentication` strategy and any further request steps (a DPoP proof, say), so new
grants and client authentication methods plug in without changing the flows."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable
from urllib.parse import quote

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth.client._calls import TIMEOUT, refusal, send
from mcpkit.auth.client._urls import require_secure
from mcpkit.auth.metadata import ClientInformation, TokenResponse, decode
from mcpkit.errors import AuthorizationFailed

__all__ = [
    "ClientAuthentication",
    "ClientSecretBasic",
    "ClientSecretPost",
    "MAX_TOKEN_ATTEMPTS",
    "NoClientAuthentication",
    "TokenRequest",
    "TokenRequestStep",
    "TokenResponseStep",
    "authorization_code_grant",
    "client_authentication_for",
    "client_credentials_grant",
    "refresh_token_grant",
    "request_token",
]


#: Times one token request is sent at most: the first try and one retry a step asked for (a
#: DPoP nonce, RFC 9449 section 8); a server that keeps asking is refused.
MAX_TOKEN_ATTEMPTS: Final = 2

logger = logging.getLogger("mcpkit.auth")


@dataclass
class TokenRequest:
    """A token request being built: steps add form fields and headers before it is sent.
    `issuer` is the authorization server's issuer identifier when the caller knows it (the
    audience of client assertions, RFC 7523 section 3)."""

    endpoint: str
    form: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict[str, str])
    issuer: str | None = None


@runtime_checkable
class TokenRequestStep(Protocol):
    """Something that shapes a token request before it goes out: client authentication, a
    DPoP proof (RFC 9449), a client assertion (RFC 7523)."""

    async def apply(self, request: TokenRequest) -> None: ...


@runtime_checkable
class TokenResponseStep(TokenRequestStep, Protocol):
    """A step that also reads the answer: it may ask for the request to be built and sent once
    more (`retry`: a DPoP nonce challenge, RFC 9449 section 8) and may accept token types
    besides Bearer (`token_types`, lower case: "dpop")."""

    @property
    def token_types(self) -> frozenset[str]: ...

    def retry(self, request: TokenRequest, response: httpx.Response) -> bool: ...


class ClientAuthentication(TokenRequestStep, Protocol):
    """How the client proves who it is at the token endpoint (RFC 6749 section 2.3);
    `method` is its `token_endpoint_auth_method` name (RFC 7591 section 2)."""

    @property
    def method(self) -> str: ...


@dataclass(frozen=True)
class NoClientAuthentication:
    """A public client (`none`): it only names itself with `client_id` in the form."""

    client_id: str
    method: str = "none"

    async def apply(self, request: TokenRequest) -> None:
        request.form["client_id"] = self.client_id


@dataclass(frozen=True)
class ClientSecretBasic:
    """`client_secret_basic`: HTTP Basic with the form-urlencoded id and secret (RFC 6749
    section 2.3.1)."""

    client_id: str
    client_secret: str = field(repr=False)
    method: str = "client_secret_basic"

    async def apply(self, request: TokenRequest) -> None:
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        request.headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True)
class ClientSecretPost:
    """`client_secret_post`: the id and secret in the form (RFC 6749 section 2.3.1)."""

    client_id: str
    client_secret: str = field(repr=False)
    method: str = "client_secret_post"

    async def apply(self, request: TokenRequest) -> None:
        request.form["client_id"] = self.client_id
        request.form["client_secret"] = self.client_secret


def client_authentication_for(client: ClientInformation) -> ClientAuthentication:
    """The strategy a registered client's `token_endpoint_auth_method` names (RFC 7591 section
    2: client_secret_basic when a secret is given and no method is)."""
    method = client.token_endpoint_auth_method
    if client.client_secret is None:
        if method not in (None, "none"):
            raise AuthorizationFailed(
                "invalid_client",
                f"client {client.client_id!r} uses {method} but has no client_secret",
            )
        return NoClientAuthentication(client.client_id)
    if method in (None, "client_secret_basic"):
        return ClientSecretBasic(client.client_id, client.client_secret)
    if method == "client_secret_post":
        return ClientSecretPost(client.client_id, client.client_secret)
    raise AuthorizationFailed(
        "invalid_client",
        f"token_endpoint_auth_method {method!r} is not supported here; give the client a "
        "ClientAuthentication for it",
    )


def authorization_code_grant(
    code: str, *, code_verifier: str, redirect_uri: str, resource: str
) -> dict[str, str]:
    """RFC 6749 section 4.1.3 with PKCE (RFC 7636 section 4.5) and `resource` (RFC 8707)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": code_verifier,
        "redirect_uri": redirect_uri,
        "resource": resource,
    }


def refresh_token_grant(
    refresh_token: str, *, resource: str, scope: str | None = None
) -> dict[str, str]:
    """RFC 6749 section 6, with `resource` (RFC 8707 section 2.2)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "resource": resource}
    if scope:
        form["scope"] = scope
    return form


def client_credentials_grant(*, resource: str, scope: str | None = None) -> dict[str, str]:
    """RFC 6749 section 4.4, with `resource` (RFC 8707)."""
    form = {"grant_type": "client_credentials", "resource": resource}
    if scope:
        form["scope"] = scope
    return form


async def request_token(
    http: httpx.AsyncClient,
    endpoint: str,
    grant: dict[str, str],
    client_auth: ClientAuthentication,
    *,
    steps: Sequence[TokenRequestStep] = (),
    issuer: str | None = None,
) -> TokenResponse:
    """POST the `grant` form to the token `endpoint` of the authorization server `issuer`,
    authenticated by `client_auth` and shaped by each of `steps` in turn; the token response,
    or AuthorizationFailed with the server's OAuth error (RFC 6749 section 5.2). A step that
    reads answers may have the request rebuilt and sent once more."""
    require_secure(endpoint, "the token endpoint")
    readers = [step for step in steps if isinstance(step, TokenResponseStep)]
    attempt = 0
    while True:
        attempt += 1
        request = TokenRequest(endpoint, dict(grant), {"accept": "application/json"}, issuer)
        await client_auth.apply(request)
        for step in steps:
            await step.apply(request)
        built = http.build_request(
            "POST", endpoint, data=request.form, headers=request.headers, timeout=TIMEOUT
        )
        response = await send(http, built)
        # Every reader sees the answer (each may keep a nonce from it), not just the first.
        wanted = [step.retry(request, response) for step in readers]
        if response.status_code == 200:
            break
        if not any(wanted) or attempt == MAX_TOKEN_ATTEMPTS:
            raise refusal(response, f"the token endpoint {endpoint}")
    return _token(response, endpoint, readers)


# RFC 6750 section 2.1 (b64token), and RFC 6749 appendix A.17 (VSCHAR, printable ASCII).
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_VSCHARS: Final = re.compile(r"[\x20-\x7e]+")


def _token(
    response: httpx.Response, endpoint: str, readers: Sequence[TokenResponseStep]
) -> TokenResponse:
    try:
        token = decode(response.content, TokenResponse)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise AuthorizationFailed(
            "invalid_response", f"the token endpoint {endpoint} sent no valid token: {exc}"
        ) from None
    accepted = {"bearer"}.union(*(step.token_types for step in readers))
    if token.token_type.lower() not in accepted:
        raise AuthorizationFailed(
            "invalid_response",
            f"the token endpoint {endpoint} issued a {token.token_type!r} token; this client "
            f"accepts {', '.join(sorted(accepted))} tokens here",
        )
    # A token goes in an Authorization header: one that cannot (non-ASCII raised later, in
    # a background task, and the request hung) is refused here, at once.
    if not _B64TOKEN.fullmatch(token.access_token):
        raise AuthorizationFailed(
            "invalid_response",
            f"the token endpoint {endpoint} issued an access token with characters a bearer "
            "token cannot hold (RFC 6750 section 2.1)",
        )
    if token.refresh_token is not None and not _VSCHARS.fullmatch(token.refresh_token):
        raise AuthorizationFailed(
            "invalid_response",
            f"the token endpoint {endpoint} issued a refresh token with characters one cannot "
            "hold (RFC 6749 appendix A.17)",
        )
    if token.expires_in is not None and token.expires_in <= 0:
        # Nonsense (a token already expired): taken as unknown, not as a reason to refresh
        # before every request.
        logger.warning(
            "the token endpoint %s gave expires_in %d: ignored", endpoint, token.expires_in
        )
        token = msgspec.structs.replace(token, expires_in=None)
    return token
