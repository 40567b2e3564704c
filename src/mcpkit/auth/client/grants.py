"""Grants with no user at a browser: client credentials (RFC 6749 section 4.4, SEP-1046), a JWT
bearer assertion such as a workload identity token (RFC 7523 section 2.1, SEP-1933), and
enterprise-managed authorization (an ID-JAG from the enterprise IdP by token exchange, RFC 8693,
then the JWT bearer grant at the MCP authorization server). Each is a `Grant`."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client.assertions import jwt_bearer_grant
from mcpkit.auth.client.discovery import Discovery
from mcpkit.auth.client.token import (
    ClientAuthentication,
    TokenRequest,
    client_credentials_grant,
    request_token,
)
from mcpkit.errors import AuthorizationFailed

__all__ = [
    "ASSERTION_FILE_LIMIT",
    "ID_JAG",
    "ID_TOKEN",
    "TOKEN_EXCHANGE",
    "AssertionSource",
    "ClientCredentialsGrant",
    "EnterpriseGrant",
    "Grant",
    "JwtBearerGrant",
    "assertion_from_env",
    "assertion_from_file",
]

#: `grant_type` of token exchange (RFC 8693 section 2.1).
TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"
#: Token type of an OpenID Connect ID token (RFC 8693 section 3).
ID_TOKEN: Final = "urn:ietf:params:oauth:token-type:id_token"
#: Token type of an Identity Assertion JWT Authorization Grant (ID-JAG).
ID_JAG: Final = "urn:ietf:params:oauth:token-type:id-jag"
#: Bytes read at most from an assertion file (a JWT is a few KiB).
ASSERTION_FILE_LIMIT: Final = 64 * 1024

#: Where an assertion comes from: a string, or a function (plain or async) called for a fresh
#: one before each token request (short-lived workload tokens are rotated on disk).
AssertionSource = str | Callable[[], str] | Callable[[], Awaitable[str]]


@runtime_checkable
class Grant(Protocol):
    """How `GrantAuth` obtains an access token for the MCP server that `found` describes: the
    form to POST to its token endpoint (it may call other servers first)."""

    async def form(
        self, http: httpx.AsyncClient, found: Discovery, scope: str | None
    ) -> dict[str, str]: ...


@dataclass(frozen=True)
class ClientCredentialsGrant:
    """The client acts for itself (RFC 6749 section 4.4, SEP-1046): no user, no browser; give
    `GrantAuth` its `ClientSecretBasic`, `ClientSecretPost` or `PrivateKeyJwt`."""

    async def form(
        self, http: httpx.AsyncClient, found: Discovery, scope: str | None
    ) -> dict[str, str]:
        return client_credentials_grant(resource=found.resource, scope=scope)


@dataclass(frozen=True)
class JwtBearerGrant:
    """Present a JWT issued by someone the authorization server trusts (RFC 7523 section 2.1):
    a workload identity token from the platform (SEP-1933), read afresh before each request
    when `assertion` is a function (`assertion_from_file`, `assertion_from_env`)."""

    assertion: AssertionSource = field(repr=False)

    async def form(
        self, http: httpx.AsyncClient, found: Discovery, scope: str | None
    ) -> dict[str, str]:
        token = await _resolve(self.assertion)
        return jwt_bearer_grant(token, resource=found.resource, scope=scope)


@dataclass(frozen=True)
class EnterpriseGrant:
    """Enterprise-managed authorization (SEP-990, ID-JAG): exchange the user's ID token at the
    enterprise IdP's `idp_token_endpoint` (RFC 8693) for an ID-JAG whose audience is the MCP
    server's authorization server and whose resource is the MCP server, then present it with
    the JWT bearer grant. `idp_authentication` is how the client authenticates at the IdP
    (`NoClientAuthentication(idp_client_id)` for a public client)."""

    idp_token_endpoint: str
    id_token: AssertionSource = field(repr=False)
    idp_authentication: ClientAuthentication

    async def form(
        self, http: httpx.AsyncClient, found: Discovery, scope: str | None
    ) -> dict[str, str]:
        id_jag = await self.exchange(http, found, scope)
        return jwt_bearer_grant(id_jag, resource=found.resource, scope=scope)

    async def exchange(self, http: httpx.AsyncClient, found: Discovery, scope: str | None) -> str:
        """The ID-JAG for the MCP server `found` describes, from the IdP."""
        exchange = {
            "grant_type": TOKEN_EXCHANGE,
            "requested_token_type": ID_JAG,
            "audience": found.authorization_server.issuer,
            "resource": found.resource,
            "subject_token": await _resolve(self.id_token),
            "subject_token_type": ID_TOKEN,
        }
        if scope:
            exchange["scope"] = scope
        answer = await request_token(
            http, self.idp_token_endpoint, exchange, self.idp_authentication, steps=[_NotAccess()]
        )
        if answer.issued_token_type != ID_JAG:
            raise AuthorizationFailed(
                "invalid_response",
                f"the IdP token endpoint {self.idp_token_endpoint} issued a "
                f"{answer.issued_token_type!r}, not an ID-JAG ({ID_JAG})",
            )
        return answer.access_token


def assertion_from_file(path: str | os.PathLike[str]) -> Callable[[], str]:
    """An assertion source reading the JWT in `path` each time (platforms rotate the file)."""
    where = Path(path)

    def read() -> str:
        try:
            with where.open("rb") as file:
                data = file.read(ASSERTION_FILE_LIMIT + 1)
        except OSError as exc:
            raise AuthorizationFailed(
                "invalid_request", f"cannot read the assertion file {where}: {exc.strerror}"
            ) from None
        if len(data) > ASSERTION_FILE_LIMIT:
            raise AuthorizationFailed(
                "invalid_request",
                f"{where} holds more than {ASSERTION_FILE_LIMIT} bytes: not a JWT assertion",
            )
        return _clean(data.decode("ascii", errors="replace"), str(where))

    return read


def assertion_from_env(name: str) -> Callable[[], str]:
    """An assertion source reading the JWT in the environment variable `name` each time."""

    def read() -> str:
        value = os.environ.get(name)
        if value is None:
            raise AuthorizationFailed(
                "invalid_request", f"the environment variable {name} holding the JWT is not set"
            )
        return _clean(value, f"the environment variable {name}")

    return read


async def _resolve(source: AssertionSource) -> str:
    if isinstance(source, str):
        return _clean(source, "the assertion")
    value = source()
    if inspect.isawaitable(value):
        value = await value
    return _clean(value, "the assertion")


def _clean(value: str, what: str) -> str:
    token = value.strip()
    # A JWS compact serialization: three base64url parts (RFC 7515 section 7.1).
    if token.count(".") != 2 or any(c.isspace() for c in token):
        raise AuthorizationFailed("invalid_request", f"{what} is not a JWT (header.payload.sig)")
    return token


class _NotAccess:
    """Token exchange issues things that are not access tokens: `token_type` is then "N_A"
    (RFC 8693 section 2.2.1)."""

    token_types: Final = frozenset({"n_a"})

    async def apply(self, request: TokenRequest) -> None:
        return None

    def retry(self, request: TokenRequest, response: httpx.Response) -> bool:
        return False
