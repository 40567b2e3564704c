"""Provider recipes: an `UpstreamProvider` for GitHub, Google, Auth0, Okta, Keycloak, AWS
Cognito and WorkOS AuthKit from the few values their consoles show, with the endpoints,
scopes, subject claim, client authentication and audience each provider documents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from mcpkit.auth.front.providers._values import host, scope_list, text, url
from mcpkit.auth.front.upstream import UpstreamProvider

__all__ = ["auth0", "cognito", "github", "google", "keycloak", "okta", "workos"]

_OIDC = ("openid", "profile", "email")
_OIDC_OFFLINE = (*_OIDC, "offline_access")


def github(
    *, client_id: str, client_secret: str, scopes: Sequence[str] = ("read:user",)
) -> UpstreamProvider:
    """GitHub (an OAuth App or a GitHub App): plain OAuth, no OpenID Connect. The user is the
    numeric `id` of `GET https://api.github.com/user` (a `login` can be renamed and then
    taken by someone else). GitHub's tokens are opaque and carry no audience: the front
    issues its own (`tokens="issue"`). The token endpoint answers JSON only when asked to
    (`Accept: application/json`). PKCE (S256) is accepted since July 2025."""
    name = "GitHub"
    return UpstreamProvider(
        name=name,
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        token_auth="client_secret_post",
        scopes=scope_list(name, scopes),
        userinfo_url="https://api.github.com/user",
        subject_claim="id",
    )


def google(
    *, client_id: str, client_secret: str, scopes: Sequence[str] = _OIDC, offline: bool = True
) -> UpstreamProvider:
    """Google (an OAuth client of type "Web application"): OpenID Connect, the user is `sub`.
    `offline` asks for a refresh token (`access_type=offline`, and `prompt=consent`, without
    which Google gives one only at the user's first consent). Google's access tokens are
    opaque and for Google's APIs: the front issues its own (`tokens="issue"`)."""
    name = "Google"
    return UpstreamProvider(
        name=name,
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        scopes=scope_list(name, scopes),
        issuer="https://accounts.google.com",
        jwks_url="https://www.googleapis.com/oauth2/v3/certs",
        userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
        revocation_url="https://oauth2.googleapis.com/revoke",
        authorize_params={"access_type": "offline", "prompt": "consent"} if offline else {},
    )


def auth0(
    *,
    domain: str,
    client_id: str,
    client_secret: str,
    audience: str | None = None,
    scopes: Sequence[str] = _OIDC_OFFLINE,
) -> UpstreamProvider:
    """Auth0 (a "Regular Web Application"): `domain` is the tenant's (`acme.us.auth0.com`) or
    its custom domain. `audience` is an API's Identifier (Applications > APIs): Auth0 then
    issues JWT access tokens for it, which pass-through can hand on; without it they are
    for `/userinfo` only. `offline_access` gets a refresh token when the API allows offline
    access. The issuer is `https://<domain>/`, with its slash."""
    name = "Auth0"
    domain = host(name, "domain", domain, "acme.us.auth0.com")
    if audience is not None:
        audience = text(name, "audience", audience)
    return UpstreamProvider(
        name=name,
        authorize_url=f"https://{domain}/authorize",
        token_url=f"https://{domain}/oauth/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        token_auth="client_secret_post",
        scopes=scope_list(name, scopes),
        issuer=f"https://{domain}/",
        jwks_url=f"https://{domain}/.well-known/jwks.json",
        userinfo_url=f"https://{domain}/userinfo",
        revocation_url=f"https://{domain}/oauth/revoke",
        audience=audience,
        authorize_params={"audience": audience} if audience else {},
    )


_OKTA_SERVER = re.compile(r"[A-Za-z0-9]+")


def okta(
    *,
    domain: str,
    client_id: str,
    client_secret: str,
    authorization_server: str | None = "default",
    audience: str | None = None,
    scopes: Sequence[str] = _OIDC_OFFLINE,
) -> UpstreamProvider:
    """Okta (an OIDC "Web Application"): `domain` is the org's (`acme.okta.com`). A custom
    authorization server (`"default"`, or its ID `aus...`) issues access tokens for an
    audience of yours (its Settings > Audience, `api://default` unless changed): give it as
    `audience` for pass-through. `authorization_server=None` uses the org authorization
    server, whose access tokens are for Okta's own APIs only (no `audience`)."""
    name = "Okta"
    domain = host(name, "domain", domain, "acme.okta.com")
    if authorization_server is None:
        if audience is not None:
            raise ValueError(
                f"{name}: the org authorization server (authorization_server=None) issues "
                "tokens for Okta's APIs only; use a custom one for audience="
            )
        issuer, base = f"https://{domain}", f"https://{domain}/oauth2/v1"
    else:
        if not _OKTA_SERVER.fullmatch(authorization_server):
            raise ValueError(
                f"{name}: authorization_server= is 'default' or a server ID such as "
                f"'aus1a2b3c4d5e6f7g8h9': not {authorization_server!r}"
            )
        issuer = f"https://{domain}/oauth2/{authorization_server}"
        base = f"{issuer}/v1"
    return UpstreamProvider(
        name=name,
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        scopes=scope_list(name, scopes),
        issuer=issuer,
        jwks_url=f"{base}/keys",
        userinfo_url=f"{base}/userinfo",
        revocation_url=f"{base}/revoke",
        audience=None if audience is None else text(name, "audience", audience),
    )


def keycloak(
    *,
    base_url: str,
    realm: str,
    client_id: str,
    client_secret: str,
    audience: str | None = None,
    scopes: Sequence[str] = _OIDC,
) -> UpstreamProvider:
    """Keycloak (a confidential OpenID Connect client with "Standard flow"): `base_url` is the
    server's (`https://sso.example.com`; add `/auth` for Keycloak before 17), `realm` the
    realm's name. Access tokens carry an audience of yours when the client has an
    "Audience" mapper adding it (Client scopes > dedicated scope > Add mapper): give the
    same value as `audience` for pass-through."""
    name = "Keycloak"
    base = url(name, "base_url", base_url)
    if "/realms/" in f"{base}/":
        raise ValueError(f"{name}: give the server's URL as base_url= and realm= separately")
    realm = text(name, "realm", realm)
    if "/" in realm or any(c.isspace() for c in realm):
        raise ValueError(f"{name}: realm= is the realm's name: not {realm!r}")
    issuer = f"{base}/realms/{quote(realm, safe='')}"
    endpoints = f"{issuer}/protocol/openid-connect"
    return UpstreamProvider(
        name=name,
        authorize_url=f"{endpoints}/auth",
        token_url=f"{endpoints}/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        scopes=scope_list(name, scopes),
        issuer=issuer,
        jwks_url=f"{endpoints}/certs",
        userinfo_url=f"{endpoints}/userinfo",
        revocation_url=f"{endpoints}/revoke",
        audience=None if audience is None else text(name, "audience", audience),
    )


_POOL = re.compile(r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+")


def cognito(
    *,
    domain: str,
    user_pool_id: str,
    client_id: str,
    client_secret: str,
    region: str | None = None,
    resource_server: str | None = None,
    scopes: Sequence[str] = _OIDC,
) -> UpstreamProvider:
    """Amazon Cognito (a user pool app client with a secret and the authorization code
    grant): `domain` is the pool's managed login domain (`acme.auth.us-east-1.amazoncognito.com`
    or a custom one), `user_pool_id` its ID (`us-east-1_AbCdEf123`, which names the region;
    `region` is checked against it). The user is `sub`. Cognito's access tokens carry no
    `aud` unless a resource server is asked for by `resource` (resource binding, Essentials
    and Plus tiers): `resource_server`, its identifier, is then sent and is the audience
    for pass-through."""
    name = "Amazon Cognito"
    domain = host(name, "domain", domain, "acme.auth.us-east-1.amazoncognito.com")
    pool = _POOL.fullmatch(text(name, "user_pool_id", user_pool_id))
    if pool is None:
        raise ValueError(
            f"{name}: user_pool_id= is '<region>_<id>' such as 'us-east-1_AbCdEf123': "
            f"not {user_pool_id!r}"
        )
    if region is not None and region != pool["region"]:
        raise ValueError(f"{name}: region={region!r} but user_pool_id= is in {pool['region']}")
    issuer = f"https://cognito-idp.{pool['region']}.amazonaws.com/{user_pool_id}"
    if resource_server is not None:
        resource_server = text(name, "resource_server", resource_server)
    return UpstreamProvider(
        name=name,
        authorize_url=f"https://{domain}/oauth2/authorize",
        token_url=f"https://{domain}/oauth2/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        scopes=scope_list(name, scopes),
        issuer=issuer,
        jwks_url=f"{issuer}/.well-known/jwks.json",
        userinfo_url=f"https://{domain}/oauth2/userInfo",
        revocation_url=f"https://{domain}/oauth2/revoke",
        resource_parameter="omit" if resource_server is None else "fixed",
        resource=resource_server,
        audience=resource_server,
    )


def workos(
    *,
    domain: str,
    client_id: str,
    client_secret: str,
    audience: str | None = None,
    scopes: Sequence[str] = _OIDC_OFFLINE,
) -> UpstreamProvider:
    """WorkOS AuthKit (a WorkOS Connect OAuth application): `domain` is the AuthKit domain
    (`acme-42.authkit.app`, or a custom one). `audience` is a resource indicator configured
    in the WorkOS dashboard (your MCP server's URL): it is sent as `resource`, and AuthKit
    puts it in the access tokens' `aud` for pass-through. The client authenticates in the
    form body, as WorkOS documents."""
    name = "WorkOS"
    domain = host(name, "domain", domain, "acme-42.authkit.app")
    if audience is not None:
        audience = text(name, "audience", audience)
    issuer = f"https://{domain}"
    return UpstreamProvider(
        name=name,
        authorize_url=f"{issuer}/oauth2/authorize",
        token_url=f"{issuer}/oauth2/token",
        client_id=text(name, "client_id", client_id),
        client_secret=text(name, "client_secret", client_secret),
        token_auth="client_secret_post",
        scopes=scope_list(name, scopes),
        issuer=issuer,
        jwks_url=f"{issuer}/oauth2/jwks",
        userinfo_url=f"{issuer}/oauth2/userinfo",
        resource_parameter="omit" if audience is None else "fixed",
        resource=audience,
        audience=audience,
    )
