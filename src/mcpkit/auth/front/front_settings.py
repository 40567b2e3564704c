"""The settings of the authorization front, one dataclass with a default for each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from mcpkit.auth.devserver.settings import (
    DevServerSettings,
    check_issuer_and_paths,
    check_positive,
)

__all__ = ["FrontPaths", "FrontSettings", "ScopePolicy", "TokenMode"]

#: `FrontSettings.grant_scopes`: (the user's claims, the scopes asked for) -> those granted.
ScopePolicy = Callable[[Mapping[str, Any], tuple[str, ...]], Iterable[str]]

#: `"issue"`: the front signs access tokens of its own and keeps the provider's server-side;
#: `"pass-through"`: the MCP client gets the provider's access token (its audience set to
#: this server by the provider, `UpstreamProvider.audience`).
TokenMode = Literal["issue", "pass-through"]


@dataclass(frozen=True, slots=True)
class FrontPaths:
    """Where each endpoint is served, below the issuer's path."""

    authorize: str = "/authorize"
    consent: str = "/consent"
    callback: str = "/callback"
    token: str = "/token"
    register: str = "/register"
    revoke: str = "/revoke"
    jwks: str = "/jwks"


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontSettings:
    """How the authorization front behaves.

    - `issuer`: its issuer URL; None derives it per request from the scheme and Host header.
    - `tokens`: `TokenMode`.
    - `resources`: the canonical URIs it issues tokens for; None serves any URI on its own
      origin (a request without `resource` gets `<origin>/mcp`).
    - `scopes`, `default_scopes`: the scopes MCP clients may ask for (None: any) and those
      granted when they ask for none; the provider is asked for `UpstreamProvider.scopes`.
    - `grant_scopes`: which of the scopes asked for a user is given, decided once they signed
      in: called with the user's claims (the provider's ID token, else its userinfo answer)
      and the scopes asked for, it returns those granted. Scopes are roles: asking is not
      having. The default grants only `default_scopes` (`only_default_scopes`), whatever
      is asked.
    - `allow_insecure_metadata_urls`: also fetch client ID metadata documents over http and
      from private addresses (local tests only).
    - TTLs in seconds: a pending sign-in (`pending_ttl`, the time the user has to consent and
      log in), a code, an access token, a grant (`refresh_token_ttl`, renewed by each
      refresh), a registered client. Every entry in the store has one.
    - `client_ttl`, `unused_client_ttl`: a registered client is kept `unused_client_ttl`
      until it first gets tokens, then `client_ttl` from each time it gets tokens (a code
      redeemed, a refresh): registrations nobody uses leave their address's budget within a
      day, so that a busy address (a company's NAT) is not refused registration for months.
    - `max_bytes_per_source`: the bytes of registrations, pending sign-ins and codes one
      client address may hold in the store, each kind on its own: past it the request is
      refused (429), never someone else's entry dropped.
    - `max_grants_per_user`, `max_bytes_per_user`: the grants (sign-ins that got tokens) one
      user at the provider may hold, and their bytes; counted per user, never per address (a
      refresh rewrites its grant in place). Past either, a new sign-in or a grown grant ends
      that user's oldest grant; nobody is refused for it.
    - `metadata_timeout`, `metadata_max_size`, `metadata_max_fetches`,
      `metadata_failure_ttl`: how client ID metadata documents are fetched, as the
      development server's settings of the same names say (`DevServerSettings`).
    - `upstream_timeout`: the deadline of every call to the provider, `max_upstream_bytes` the
      largest answer read from it.
    """

    issuer: str | None = None
    paths: FrontPaths = FrontPaths()
    tokens: TokenMode = "issue"
    resources: tuple[str, ...] | None = None
    scopes: tuple[str, ...] | None = None
    default_scopes: tuple[str, ...] = ()
    grant_scopes: ScopePolicy | None = None
    allow_registration: bool = True
    allow_insecure_metadata_urls: bool = False
    pending_ttl: int = 600
    code_ttl: int = 60
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 86400
    client_ttl: int = 90 * 86400
    unused_client_ttl: int = 86400
    max_bytes_per_source: int = 256 * 1024
    max_grants_per_user: int = 32
    max_bytes_per_user: int = 256 * 1024
    max_body_size: int = 64 * 1024
    upstream_timeout: float = 10.0
    max_upstream_bytes: int = 256 * 1024
    metadata_timeout: float = 5.0
    metadata_max_size: int = 5 * 1024
    metadata_max_fetches: int = 8
    metadata_failure_ttl: int = 30

    def __post_init__(self) -> None:
        if self.tokens not in ("issue", "pass-through"):
            raise ValueError(f"tokens must be 'issue' or 'pass-through', not {self.tokens!r}")
        check_issuer_and_paths(self.issuer, self.paths)
        check_positive(
            self, "pending_ttl", "code_ttl", "access_token_ttl", "refresh_token_ttl",
            "client_ttl", "unused_client_ttl", "max_bytes_per_source", "max_grants_per_user",
            "max_bytes_per_user", "upstream_timeout",
            "metadata_max_fetches", "metadata_failure_ttl",
        )  # fmt: skip

    def scopes_for(self, claims: Mapping[str, Any], requested: tuple[str, ...]) -> list[str]:
        """The scopes the user with `claims` is granted of `requested`: `grant_scopes`'s
        answer, never more than was asked for; without it, those of `default_scopes`."""
        if self.grant_scopes is None:
            return [s for s in requested if s in self.default_scopes]
        granted = set(self.grant_scopes(claims, requested))
        return [s for s in requested if s in granted]

    @property
    def prefix(self) -> str:
        """The issuer's path without a trailing slash ("" for an origin)."""
        return "" if self.issuer is None else urlsplit(self.issuer).path.rstrip("/")

    def client_policy(self) -> DevServerSettings:
        """The settings the development server's client, redirect and scope checks read (the
        front reuses them as they are)."""
        return DevServerSettings(
            resources=self.resources,
            scopes=self.scopes,
            default_scopes=self.default_scopes,
            allow_insecure_metadata_urls=self.allow_insecure_metadata_urls,
            metadata_timeout=self.metadata_timeout,
            metadata_max_size=self.metadata_max_size,
            metadata_max_fetches=self.metadata_max_fetches,
            metadata_failure_ttl=self.metadata_failure_ttl,
            max_body_size=self.max_body_size,
        )
