"""`ProtectedResource`: the settings that make an MCP server an OAuth 2.1 resource server (spec:
basic/authorization), its protected resource metadata (RFC 9728), its canonical URI (RFC 8707)
and the check of a request's token, Bearer (RFC 6750 section 2.1) or DPoP-bound with its proof
(RFC 9449 section 7), which transports run before anything else touches a session."""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, Literal

from mcpkit.auth.metadata import ProtectedResourceMetadata
from mcpkit.auth.server._dpop_nonce import NonceSource
from mcpkit.auth.server._presented import Presented, credentials
from mcpkit.auth.server.challenge import AuthFailure, check_scope_token
from mcpkit.auth.server.dpop import (
    DPOP_ALGORITHMS,
    DPoPRefused,
    ProofChecker,
    RequestProof,
    bound_thumbprint,
)
from mcpkit.auth.server.verifier import AccessToken, TokenVerifier
from mcpkit.auth.uris import NotAResourceUri, canonical_resource
from mcpkit.errors import InvalidToken, VerifierUnavailable
from mcpkit.stores.liveness import SharedSecrets
from mcpkit.stores.replay import ReplayCache

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

# A Host header worth putting in a URI: a name or an IPv4 or bracketed IPv6 address, a port.
_HOST: Final = re.compile(r"(?:[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
_NO_ROUTES: Mapping[str, ASGIApp] = MappingProxyType({})


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

    DPoP (RFC 9449): with `dpop="allowed"` (the default) a token may be presented as
    `Bearer`, or as `DPoP` with a proof; a token bound to a key (`cnf.jkt`) is accepted only
    as `DPoP` with a proof signed by that key. `dpop="required"` accepts DPoP-bound tokens
    only. A proof is signed with one of `dpop_algorithms`; its `iat` may be `dpop_max_age`
    seconds old and `dpop_leeway` seconds ahead; its `jti` is used once (the store's replay
    cache). `dpop_nonce` makes every proof carry the server's nonce (RFC 9449 section 9),
    which changes every `dpop_nonce_lifetime` seconds (the previous one still accepted).
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
    dpop: Literal["allowed", "required"] = "allowed"
    dpop_algorithms: Sequence[str] = DPOP_ALGORITHMS
    dpop_max_age: float = 60.0
    dpop_leeway: float = 5.0
    dpop_nonce: bool = False
    dpop_nonce_lifetime: float = 300.0

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
        self._check_dpop()

    def _check_dpop(self) -> None:
        if self.dpop not in ("allowed", "required"):
            raise ValueError(f"dpop must be 'allowed' or 'required', not {self.dpop!r}")
        algorithms = list(self.dpop_algorithms)
        weak = [a for a in algorithms if a not in DPOP_ALGORITHMS]
        if not algorithms or weak or isinstance(self.dpop_algorithms, str):
            raise ValueError(
                f"dpop_algorithms must list asymmetric JWS algorithms among {DPOP_ALGORITHMS} "
                f"(not {weak or self.dpop_algorithms!r}: never none nor a MAC)"
            )
        if not (self.dpop_max_age > 0 and self.dpop_leeway >= 0 and self.dpop_nonce_lifetime > 0):
            raise ValueError(
                "dpop_max_age and dpop_nonce_lifetime must be positive, dpop_leeway >= 0"
            )

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

    @staticmethod
    def request_url(resource: str, endpoint: str, path: str) -> str:
        """The public URI of a request to `path` (below the app's mount point) of the app
        whose MCP endpoint is `endpoint` and has the canonical URI `resource`: what a DPoP
        proof's `htu` names. Behind a proxy, the client addressed the public origin and
        prefix that `resource` holds, not the host and path this process sees."""
        parts = urllib.parse.urlsplit(resource)
        public = parts.path.rstrip("/")
        local = endpoint.rstrip("/")
        if path.rstrip("/") == local:
            return resource
        prefix = public[: len(public) - len(local)] if public.endswith(local) else ""
        return f"{parts.scheme}://{parts.netloc}{prefix}{path}"

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
            dpop_signing_alg_values_supported=list(self.dpop_algorithms),
            dpop_bound_access_tokens_required=self.dpop == "required" or None,
            resource_name=self.resource_name,
            resource_documentation=self.resource_documentation,
        )

    # ------------------------------------------------------------------ tokens

    def proof_checker(self, replay: ReplayCache, secrets: SharedSecrets | None) -> ProofChecker:
        """The checker of this resource's DPoP proofs, with the store's replay cache and
        shared secrets (`mcpkit.stores.url.Stores`): one per app, made once."""
        nonces = NonceSource(self.dpop_nonce_lifetime, secrets) if self.dpop_nonce else None
        return ProofChecker(
            algorithms=self.dpop_algorithms,
            max_age=self.dpop_max_age,
            leeway=self.dpop_leeway,
            replay=replay,
            nonces=nonces,
        )

    async def authenticate(
        self, authorization: Sequence[bytes], resource: str, proof: RequestProof | None = None
    ) -> AccessToken | AuthFailure:
        """The verified token of a request whose Authorization header values are
        `authorization`, or why not; `proof` is what checking a DPoP proof needs (without
        it, the DPoP scheme is refused). Never raises for what a peer sent; never logs a
        token."""
        presented = credentials(
            authorization, max_length=self.max_token_length, needed=self._needed()
        )
        if isinstance(presented, AuthFailure):
            return await self._dressed(presented, proof)
        found = await self._checked(presented, resource, proof)
        if isinstance(found, AuthFailure):
            return await self._dressed(found, proof)
        missing = [s for s in self.required_scopes if s not in found.scopes]
        return self.insufficient(found, missing) if missing else found

    async def _checked(
        self, presented: Presented, resource: str, proof: RequestProof | None
    ) -> AccessToken | AuthFailure:
        """The token verified, and its proof when it comes as DPoP; or why not."""
        try:
            async with asyncio.timeout(self.verify_timeout):
                return await self._verified(presented, resource, proof)
        except VerifierUnavailable as exc:
            logger.warning("could not check a token for %s: %s: answered 503", resource, exc)
            return AuthFailure(503, "temporarily_unavailable", exc.description)
        except (InvalidToken, DPoPRefused) as exc:
            logger.info("refused a token for %s: %s", resource, exc.description)
            # The scope goes with every 401 (spec: "Scope Selection Strategy"), so a client
            # that must authorize again asks for what is needed, not every scope supported.
            dpop = isinstance(exc, DPoPRefused | _DPoPOnly) or presented.scheme == "dpop"
            error = exc.error if isinstance(exc, DPoPRefused) else "invalid_token"
            description = exc.description or "the token is invalid"
            about: Literal["bearer", "dpop"] = "dpop" if dpop else "bearer"
            return AuthFailure(401, error, description, self._needed(), about=about)
        except TimeoutError:
            logger.warning("the token verifier took over %s s: answered 503", self.verify_timeout)
            return AuthFailure(503, "temporarily_unavailable", "token verification timed out")
        except Exception as exc:  # the verifier's or the store's: its message may hold the token
            logger.error("checking a token failed with %s: answered 503", type(exc).__name__)
            return AuthFailure(503, "temporarily_unavailable", "token verification failed")

    async def _verified(
        self, presented: Presented, resource: str, proof: RequestProof | None
    ) -> AccessToken:
        """RFC 9449 section 7: the proof checked before the token (it costs no round trip),
        its jti spent last (a refused request uses up nothing)."""
        if presented.scheme == "bearer":
            if self.dpop == "required":
                raise _DPoPOnly(
                    "this resource accepts DPoP-bound tokens only: present the token with "
                    "Authorization: DPoP and a DPoP proof"
                )
            token = await self.verifier.verify(presented.token, resource=resource)
            if bound_thumbprint(token) is not None:
                raise _DPoPOnly(
                    "the token is DPoP-bound: present it with Authorization: DPoP <token> and "
                    "a DPoP proof signed by its key (RFC 9449 section 7)"
                )
            return token
        if proof is None:
            raise DPoPRefused("this endpoint cannot check DPoP proofs")
        checked = await proof.checker.check(
            proof.proofs, method=proof.method, url=proof.url, access_token=presented.token
        )
        token = await self.verifier.verify(presented.token, resource=resource)
        ProofChecker.bind(checked, token)
        await proof.checker.spend(checked)
        return token

    async def _dressed(self, failure: AuthFailure, proof: RequestProof | None) -> AuthFailure:
        """`failure` with the schemes this resource accepts, and its current DPoP nonce on
        a 401 (RFC 9449 sections 7.1 and 9), so a client learns it before its next proof."""
        nonce: str | None = None
        nonces = None if proof is None else proof.checker.nonces
        if failure.status == 401 and nonces is not None:
            try:
                async with asyncio.timeout(self.verify_timeout):
                    nonce = await nonces.current()
            except Exception as exc:  # the store's shared secret is out of reach: no nonce
                logger.warning("no DPoP nonce (the store failed: %s)", type(exc).__name__)
        return replace(
            failure,
            bearer=self.dpop == "allowed",
            dpop_algs=tuple(self.dpop_algorithms),
            nonce=nonce,
        )

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
            bearer=self.dpop == "allowed",
            dpop_algs=tuple(self.dpop_algorithms),
        )

    def _needed(self) -> tuple[str, ...]:
        return tuple(self.required_scopes)


class _DPoPOnly(InvalidToken):
    """A token refused because of how it was presented: only DPoP will do (its challenge
    carries the error, RFC 9449 section 7.1)."""


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
