"""`ProtectedResource`: the settings that make an MCP server an OAuth 2.1 resource server (spec:
basic/authorization), its protected resource metadata (RFC 9728), its canonical URI (RFC 8707)
and the check of a request's bearer token (RFC 6750 section 2.1), which transports run before
anything else touches a session."""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from mcpkit.auth.metadata import OAuthErrorResponse, ProtectedResourceMetadata, encode
from mcpkit.auth.server.challenge import bearer_challenge, check_scope_token
from mcpkit.auth.server.verifier import AccessToken, TokenVerifier
from mcpkit.auth.uris import NotAResourceUri, canonical_resource
from mcpkit.errors import InvalidToken, VerifierUnavailable

__all__ = [
    "ASGIApp",
    "AuthFailure",
    "ProtectedResource",
    "WELL_KNOWN",
    "check_host",
    "identity_of",
    "metadata_url",
]

logger = logging.getLogger("mcpkit.auth")

#: Any ASGI 3 application `(scope, receive, send)`; `routes` serves them beside the endpoint.
ASGIApp = Callable[..., Awaitable[None]]
#: RFC 9728 section 3: the well-known URI suffix of protected resource metadata.
WELL_KNOWN: Final = "/.well-known/oauth-protected-resource"

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN: Final = re.compile(rb"[A-Za-z0-9\-._~+/]+=*")
# A Host header worth putting in a URI: a name or an IPv4 or bracketed IPv6 address, a port.
_HOST: Final = re.compile(r"(?:[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
_NO_ROUTES: Mapping[str, ASGIApp] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request's token was refused: the HTTP `status` (400 malformed, 401 no or invalid
    token, 403 insufficient scope, 503 the verifier could not answer), the OAuth `error` code
    (None when no token came: RFC 6750 section 3.1), a `description` for people, and the
    `scopes` a new token should have."""

    status: int
    error: str | None
    description: str
    scopes: tuple[str, ...] = ()

    def challenge(self, resource_metadata: str) -> str:
        """The `WWW-Authenticate` value to send with this failure."""
        return bearer_challenge(
            resource_metadata=resource_metadata,
            scopes=self.scopes,
            error=self.error,
            description=self.description if self.error is not None else None,
        )

    def body(self) -> bytes:
        """An RFC 6749 section 5.2 error body (the header is what clients act on)."""
        error = self.error or "invalid_token"
        return encode(OAuthErrorResponse(error=error, error_description=self.description))


@dataclass(frozen=True, kw_only=True)
class ProtectedResource:
    """Protect a server's HTTP endpoint: `Server(name, auth=ProtectedResource(...))`.

    `verifier` checks each bearer token (JWT, introspection, your own: `TokenVerifier`).
    `authorization_servers` are the issuers clients get tokens from, as absolute URLs, or
    paths starting with "/" on the origin the client used; None means that origin itself (a
    development authorization server mounted with `routes`). `required_scopes` are needed by
    every MCP request; `scopes_supported` is what the metadata lists (default: the required
    ones). `resource` is the canonical URI of the endpoint (RFC 8707, the audience tokens
    must name); None derives it per request from the scheme, the Host header and the
    endpoint's path, for development on any loopback name: only on a loopback bind, whose
    Host header is checked against the loopback names (`http_app` refuses None for any
    other bind, or with DNS rebinding protection off).
    `resource_name` and `resource_documentation` go in the metadata. `routes` maps path
    prefixes to other ASGI apps served on the same origin (the longest prefix wins; the MCP
    endpoint and the metadata come first). A token longer than `max_token_length` bytes is
    refused unread; `verify_timeout` seconds bound each verification (503 past it).
    """

    verifier: TokenVerifier
    authorization_servers: Sequence[str] | None = None
    scopes_supported: Sequence[str] | None = None
    required_scopes: Sequence[str] = ()
    resource: str | None = None
    resource_name: str | None = None
    resource_documentation: str | None = None
    routes: Mapping[str, ASGIApp] = field(default_factory=lambda: _NO_ROUTES)
    max_token_length: int = 16_384
    verify_timeout: float = 10.0

    def __post_init__(self) -> None:
        for scope in (*self.required_scopes, *(self.scopes_supported or ())):
            check_scope_token(scope)
        if isinstance(self.required_scopes, str) or isinstance(self.scopes_supported, str):
            raise ValueError("give required_scopes and scopes_supported as lists of scopes")
        if self.authorization_servers is not None and not list(self.authorization_servers):
            raise ValueError(
                "authorization_servers is empty: name at least one issuer (spec: basic/"
                "authorization), or pass None for one on this server's own origin"
            )
        for server in self.authorization_servers or ():
            if not (server.startswith("/") or _absolute(server)):
                raise ValueError(
                    f"authorization server {server!r} must be an http(s) URL or a path "
                    "starting with '/' on this origin"
                )
        if self.resource is not None:
            object.__setattr__(self, "resource", _configured_resource(self.resource))
        for prefix in self.routes:
            if not prefix.startswith("/"):
                raise ValueError(f"route prefix {prefix!r} must start with '/'")
        if self.max_token_length < 1 or not self.verify_timeout > 0:
            raise ValueError("max_token_length and verify_timeout must be positive")

    # ---------------------------------------------------------------- identity

    def resource_for(self, scheme: str, host: str, path: str) -> str:
        """The canonical URI tokens must be issued for: `resource`, or the one derived from
        the request (`host` already checked with `check_host`)."""
        if self.resource is not None:
            return self.resource
        derived = f"{scheme}://{host}{path}"
        try:
            return canonical_resource(derived)
        except NotAResourceUri:  # a path with a space, say: compared as it is
            return derived

    def issuers(self, origin: str) -> list[str]:
        """`authorization_servers` with paths resolved against `origin` (scheme://host)."""
        if self.authorization_servers is None:
            return [origin]
        servers = self.authorization_servers
        return [origin + s.rstrip("/") if s.startswith("/") else s for s in servers]

    def metadata(self, resource: str, origin: str) -> ProtectedResourceMetadata:
        """The RFC 9728 document for `resource`, as a client on `origin` reads it."""
        supported = self.scopes_supported
        if supported is None:
            supported = self.required_scopes or None
        return ProtectedResourceMetadata(
            resource=resource,
            authorization_servers=self.issuers(origin),
            scopes_supported=list(supported) if supported is not None else None,
            bearer_methods_supported=["header"],
            resource_name=self.resource_name,
            resource_documentation=self.resource_documentation,
        )

    # ------------------------------------------------------------------ tokens

    async def authenticate(
        self, authorization: Sequence[bytes], resource: str
    ) -> AccessToken | AuthFailure:
        """The verified token of a request whose Authorization header values are
        `authorization`, or why not. Never raises for what a peer sent; never logs a token."""
        found = self._bearer(authorization)
        if isinstance(found, AuthFailure):
            return found
        try:
            async with asyncio.timeout(self.verify_timeout):
                token = await self.verifier.verify(found, resource=resource)
        except VerifierUnavailable as exc:
            logger.warning("could not check a token for %s: %s: answered 503", resource, exc)
            return AuthFailure(503, "temporarily_unavailable", exc.description)
        except InvalidToken as exc:
            logger.info("refused a token for %s: %s", resource, exc.description)
            # The scope goes with every 401 (spec: "Scope Selection Strategy"), so a client
            # that must authorize again asks for what is needed, not every scope supported.
            description = exc.description or "the token is invalid"
            return AuthFailure(401, "invalid_token", description, self._needed())
        except TimeoutError:
            logger.warning("the token verifier took over %s s: answered 503", self.verify_timeout)
            return AuthFailure(503, "temporarily_unavailable", "token verification timed out")
        except Exception as exc:  # the verifier's own failure: its message may hold the token
            logger.error("the token verifier failed with %s: answered 503", type(exc).__name__)
            return AuthFailure(503, "temporarily_unavailable", "token verification failed")
        missing = [s for s in self.required_scopes if s not in token.scopes]
        if missing:
            return self.insufficient(token, missing)
        return token

    def insufficient(self, token: AccessToken, needed: Sequence[str]) -> AuthFailure:
        """403 for a token lacking `needed`: the scope asked for keeps what the token has
        (spec: "Scope Challenge Handling", the recommended approach), so stepping up loses
        nothing."""
        wanted = dict.fromkeys([*self.required_scopes, *needed, *sorted(token.scopes)])
        return AuthFailure(
            403,
            "insufficient_scope",
            f"this needs scope {' '.join(needed)}",
            tuple(wanted),
        )

    def _bearer(self, values: Sequence[bytes]) -> str | AuthFailure:
        """The token of `Authorization: Bearer <token>` (RFC 6750 section 2.1)."""
        if not values:
            return AuthFailure(401, None, "send Authorization: Bearer <token>", self._needed())
        if len(values) > 1:
            return AuthFailure(400, "invalid_request", "send one Authorization header")
        scheme, _, rest = values[0].strip(b" \t").partition(b" ")
        if scheme.lower() != b"bearer":
            # Another scheme: for this resource the request carries no token at all.
            return AuthFailure(401, None, "send Authorization: Bearer <token>", self._needed())
        token = rest.strip(b" \t")
        if len(token) > self.max_token_length:
            return AuthFailure(
                401,
                "invalid_token",
                f"the token is over {self.max_token_length} bytes",
                self._needed(),
            )
        if not _B64TOKEN.fullmatch(token):
            return AuthFailure(
                400, "invalid_request", "the Authorization header is malformed: Bearer <token>"
            )
        return token.decode("ascii")

    def _needed(self) -> tuple[str, ...]:
        return tuple(self.required_scopes)


def check_host(host: bytes | None) -> str | None:
    """A Host header fit to build a URI from (lower-cased), or None."""
    if host is None:
        return None
    text = host.decode("latin-1").strip().lower()
    return text if _HOST.fullmatch(text) else None


def metadata_url(resource: str) -> str:
    """Where the metadata of `resource` is (RFC 9728 section 3.1: the well-known suffix
    inserted between the host and the path)."""
    parts = urllib.parse.urlsplit(resource)
    path = "" if parts.path in ("", "/") else parts.path
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def identity_of(token: AccessToken | None) -> tuple[str | None, ...] | None:
    """Who a session belongs to: the token's issuer and subject, or its client when it has no
    subject (client credentials); None without auth."""
    if token is None:
        return None
    if token.subject is not None:
        return ("sub", token.issuer, token.subject)
    return ("client", token.issuer, token.client_id)


def _configured_resource(value: str) -> str:
    """The `resource` setting in canonical form (mcpkit.auth.uris), or a ValueError."""
    try:
        return canonical_resource(value)
    except NotAResourceUri as exc:
        raise ValueError(
            f"resource {exc}: give the server's canonical URI, an absolute http(s) URI such "
            "as 'https://mcp.example.com/mcp'"
        ) from None


def _absolute(uri: str) -> bool:
    parts = urllib.parse.urlsplit(uri)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
