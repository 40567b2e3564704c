"""`from_discovery`: an `UpstreamProvider` for any OpenID provider (or OAuth server with RFC
8414 metadata) from its issuer, the endpoints read from its discovery document within a
deadline and a size bound, the document's `issuer` held to the one given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth._fetch import FetchFailed, HttpClientSlot, check_endpoint
from mcpkit.auth.front.providers._values import scope_list, text
from mcpkit.auth.front.upstream import ResourceParameter, TokenAuth, UpstreamProvider
from mcpkit.auth.metadata import AuthorizationServerMetadata
from mcpkit.auth.server._discovery import read_metadata
from mcpkit.errors import McpkitError

__all__ = ["ProviderDiscoveryFailed", "from_discovery"]


class ProviderDiscoveryFailed(McpkitError):
    """A provider's discovery document could not be read, or does not describe what an
    authorization front needs (its endpoints, a client authentication it can use)."""


class _OpenIdMetadata(AuthorizationServerMetadata, kw_only=True, omit_defaults=True):
    """RFC 8414's fields and OpenID Connect Discovery's `userinfo_endpoint`."""

    userinfo_endpoint: str | None = None


async def from_discovery(
    issuer: str,
    *,
    client_id: str,
    client_secret: str | None = None,
    name: str | None = None,
    scopes: Sequence[str] = ("openid", "profile", "email"),
    subject_claim: str = "sub",
    token_auth: TokenAuth | None = None,
    resource_parameter: ResourceParameter = "omit",
    resource: str | None = None,
    audience: str | None = None,
    authorize_params: Mapping[str, str] | None = None,
    token_params: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    max_metadata_bytes: int = 64 * 1024,
    http_client: httpx.AsyncClient | None = None,
) -> UpstreamProvider:
    """The provider at `issuer` (exactly as it states it) with the front's client there:
    `<issuer>/.well-known/openid-configuration`, else RFC 8414's location, read once, within
    `timeout` seconds and `max_metadata_bytes`, redirects not followed. Every endpoint it
    names must be https (http only on this machine). `token_auth` defaults to the first of
    `client_secret_basic` and `client_secret_post` the document lists (`none` without a
    `client_secret`); PKCE is used unless the document lists code challenge methods without
    S256. `name` (shown on the consent page) defaults to the issuer's host. The other
    settings are `UpstreamProvider`'s. `ProviderDiscoveryFailed` says what was wrong."""
    label = name or urlsplit(issuer).hostname or issuer
    check_endpoint(text(label, "issuer", issuer), f"{label}: issuer")
    slot = HttpClientSlot(http_client)
    try:
        found = await read_metadata(
            slot.get(), issuer, max_bytes=max_metadata_bytes, timeout=timeout, kind=_OpenIdMetadata
        )
    except FetchFailed as exc:
        raise ProviderDiscoveryFailed(f"{label}: discovery failed: {exc}") from None
    finally:
        await slot.aclose()
    wanted = scope_list(label, scopes)
    secret = None if client_secret is None else text(label, "client_secret", client_secret)
    return UpstreamProvider(
        name=label,
        authorize_url=_endpoint(label, found.authorization_endpoint, "authorization_endpoint"),
        token_url=_endpoint(label, found.token_endpoint, "token_endpoint"),
        client_id=text(label, "client_id", client_id),
        client_secret=secret,
        token_auth=token_auth or _token_auth(label, found, has_secret=secret is not None),
        scopes=wanted,
        pkce=found.code_challenge_methods_supported is None
        or "S256" in found.code_challenge_methods_supported,
        issuer=found.issuer,
        jwks_url=_jwks(label, found, needed="openid" in wanted),
        userinfo_url=_optional(label, found.userinfo_endpoint, "userinfo_endpoint"),
        revocation_url=_optional(label, found.revocation_endpoint, "revocation_endpoint"),
        subject_claim=subject_claim,
        resource_parameter=resource_parameter,
        resource=resource,
        audience=audience,
        authorize_params=authorize_params or {},
        token_params=token_params or {},
    )


def _endpoint(label: str, value: str | None, field: str) -> str:
    if value is None:
        raise ProviderDiscoveryFailed(f"{label}: the discovery document names no {field}")
    try:
        check_endpoint(value, f"{label}: the discovered {field}")
    except ValueError as exc:
        raise ProviderDiscoveryFailed(str(exc)) from None
    return value


def _optional(label: str, value: str | None, field: str) -> str | None:
    return None if value is None else _endpoint(label, value, field)


def _jwks(label: str, found: AuthorizationServerMetadata, *, needed: bool) -> str | None:
    if found.jwks_uri is None and needed:
        raise ProviderDiscoveryFailed(
            f"{label}: the discovery document names no jwks_uri, to check ID tokens with"
        )
    return _optional(label, found.jwks_uri, "jwks_uri")


def _token_auth(label: str, found: AuthorizationServerMetadata, *, has_secret: bool) -> TokenAuth:
    # RFC 8414 section 2: when the list is absent, client_secret_basic is the default.
    offered = found.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    choices: tuple[TokenAuth, ...] = (
        ("client_secret_basic", "client_secret_post") if has_secret else ("none",)
    )
    for method in choices:
        if method in offered:
            return method
    raise ProviderDiscoveryFailed(
        f"{label}: the token endpoint takes {offered}, none of {list(choices)}"
        + ("" if has_secret else ": give client_secret=")
    )
