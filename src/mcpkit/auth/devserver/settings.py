"""The settings of the development authorization server, one dataclass with a default for each."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_SUBJECT",
    "DevServerSettings",
    "Paths",
    "check_issuer_and_paths",
    "check_positive",
]

#: The resource owner every development authorization is granted for, unless a test picks one.
DEFAULT_SUBJECT: Final = "dev-user"


def check_issuer_and_paths(issuer: str | None, paths: object) -> None:
    """ValueError unless `issuer` (when given) is an http(s) URL without query or fragment and
    every endpoint path of the dataclass `paths` starts with / and has no query."""
    if issuer is not None:
        parts = urlsplit(issuer)
        if (
            parts.scheme not in ("https", "http")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise ValueError(f"issuer {issuer!r} is not an http(s) URL without query or fragment")
    for field in fields(paths):  # type: ignore[arg-type]
        path = getattr(paths, field.name)
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"endpoint path {path!r} must start with / (no query)")


def check_positive(settings: object, *names: str) -> None:
    """ValueError naming the first of the settings `names` that is not above 0."""
    for name in names:
        if getattr(settings, name) <= 0:
            raise ValueError(f"{name} must be positive")


@dataclass(frozen=True, slots=True)
class Paths:
    """Where each endpoint is served, below the issuer's path."""

    authorize: str = "/authorize"
    token: str = "/token"
    register: str = "/register"
    revoke: str = "/revoke"
    introspect: str = "/introspect"
    jwks: str = "/jwks"


@dataclass(frozen=True, slots=True)
class DevServerSettings:
    """How the development authorization server behaves.

    - `issuer`: its issuer URL; None (the default) derives it per request from the scheme and
      Host header, so `http://127.0.0.1:PORT` and `http://localhost:PORT` both work. A
      configured issuer's path is where the endpoints live (RFC 8414 section 3).
    - `resources`: the canonical URIs (RFC 8707) it issues tokens for; None serves any URI on
      the issuer's own origin. A request without `resource` gets the first one, or
      `<origin>/mcp` when None.
    - `scopes`: the scopes it grants (also `scopes_supported`); None grants any scope asked
      for. `default_scopes` are granted when a request asks for none.
    - `subject`: who every approval is for; with `login_hint_selects_subject` the
      authorization request's `login_hint` picks another (tests of per-identity sessions).
    - `allow_insecure_metadata_urls`: also fetch client ID metadata documents over plain http
      and from loopback or private addresses (local tests only).
    - `metadata_*`: client ID metadata documents are fetched within `metadata_timeout`
      seconds and `metadata_max_size` bytes, at most `metadata_max_fetches` at once (one
      more is answered 503 with Retry-After; a second request for a document being fetched
      waits for that fetch), and kept `metadata_cache_ttl` seconds (their Cache-Control
      bounds it), `metadata_cache_size` of them; a refused document is refused again for
      `metadata_failure_ttl` seconds without a fetch.
    - `insecure_serve_network`: answer requests that reach it over the network, not only
      over loopback. Off by default: it approves everyone, grants any self-registered
      client tokens, and is meant for this machine alone.
    - TTLs in seconds; caps bound memory: the oldest entry is evicted when one is full.
      Registered clients and pending codes are bounded per source (client address) too,
      `max_clients_per_source` and `max_codes_per_source`: a source at its cap forgets its
      own oldest, and a full store forgets the oldest of the source holding the most.
    """

    issuer: str | None = None
    paths: Paths = Paths()
    resources: tuple[str, ...] | None = None
    scopes: tuple[str, ...] | None = None
    default_scopes: tuple[str, ...] = ()
    subject: str = DEFAULT_SUBJECT
    login_hint_selects_subject: bool = True
    allow_registration: bool = True
    allow_insecure_metadata_urls: bool = False
    service_documentation: str | None = None
    algorithm: str = "ES256"
    code_ttl: int = 60
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 86400
    insecure_serve_network: bool = False
    max_clients: int = 1000
    max_clients_per_source: int = 100
    max_codes: int = 1000
    max_codes_per_source: int = 100
    max_tokens: int = 10000
    max_body_size: int = 64 * 1024
    metadata_timeout: float = 5.0
    metadata_max_size: int = 5 * 1024
    metadata_cache_ttl: int = 300
    metadata_cache_size: int = 256
    metadata_max_fetches: int = 8
    metadata_failure_ttl: int = 30

    def __post_init__(self) -> None:
        check_issuer_and_paths(self.issuer, self.paths)
        check_positive(
            self,
            *(
                "code_ttl",
                "access_token_ttl",
                "refresh_token_ttl",
                "max_clients",
                "max_clients_per_source",
                "max_codes_per_source",
                "metadata_max_fetches",
                "metadata_failure_ttl",
            ),
        )

    @property
    def prefix(self) -> str:
        """The issuer's path without a trailing slash ("" for an origin)."""
        return "" if self.issuer is None else urlsplit(self.issuer).path.rstrip("/")
