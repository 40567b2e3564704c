"""Microsoft Entra ID (the v2.0 endpoints) as an upstream provider: its tenant forms, its
scopes named after an application ID URI, and its refusal of a `resource` parameter that
does not match them (AADSTS9010010)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mcpkit.auth.front.providers._values import scope_list, text
from mcpkit.auth.front.upstream import TENANT_PLACEHOLDER, UpstreamProvider

__all__ = ["ENTRA_LOGIN", "entra"]

#: Entra's sign-in host in the public cloud.
ENTRA_LOGIN = "https://login.microsoftonline.com"
#: Sign-in for every tenant (`common`), work and school accounts only (`organizations`).
#: Their ID tokens' issuer names the user's own tenant: a template, filled from `tid`.
_MULTI_TENANT = frozenset({"common", "organizations"})
#: `consumers` (personal Microsoft accounts) is one tenant with a fixed ID (Entra's ID token
#: reference): its issuer is known.
_CONSUMERS = "9188040d-6c67-4c5b-b112-36a304b66dad"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OIDC_SCOPES = ("openid", "profile", "offline_access")


def entra(
    *,
    tenant: str,
    client_id: str,
    client_secret: str,
    app_id_uri: str | None = None,
    api_scopes: Sequence[str] = (),
    api_client_id: str | None = None,
    send_resource: bool = False,
    allowed_tenants: Sequence[str] = (),
) -> UpstreamProvider:
    """Microsoft Entra ID: the front's app registration `client_id` (its Application (client)
    ID) and a client secret of it, in `tenant`: the Directory (tenant) ID (a GUID, for a
    single-tenant app), or `"common"`, `"organizations"` or `"consumers"`. A domain name
    (`contoso.onmicrosoft.com`) is refused: the ID token's issuer names the tenant by its ID.

    Entra v2.0 asks for access to one API per request, by scope: `<app_id_uri>/<scope>` for
    each of `api_scopes`, or `<app_id_uri>/.default` (every permission the API was granted)
    when `api_scopes` is empty; `app_id_uri` defaults to `api://<client_id>`, the URI the
    portal proposes when the same registration exposes the API. With neither, the front
    only signs users in (the access token is for Microsoft Graph, not for you).

    The subject is `oid`: the user's object ID, the same in every application of the tenant
    and in Graph (`/users/{id}`), where `sub` is pairwise (another value for every client
    ID, so a new registration would turn every user into a stranger). `profile` is asked
    for because Entra puts `oid` in ID tokens only with it. With `"common"` or
    `"organizations"`, the same person in two tenants is two accounts, each with its own
    `oid` (Entra's own advice: key data by `oid`, with `tid` if you shard by tenant).
    Their ID tokens' issuer names the user's tenant: it is checked against Entra's template
    (`https://login.microsoftonline.com/{tenantid}/v2.0`) filled with the token's `tid`.
    `allowed_tenants` (tenant IDs) limits sign-in to those tenants' users: strongly advised,
    or any Entra tenant's users (anyone can make one) may sign in to your server.

    `resource`: the front sends none by default (`resource_parameter="omit"`): Entra refuses
    a `resource` that is not the resource of the scopes asked for (AADSTS9010010), and the
    MCP server's own URL never is. `send_resource=True` sends `app_id_uri` instead, which
    matches them and which Entra accepts.

    Pass-through (`audience`): Entra's v2.0 access tokens for your API carry its
    Application (client) ID in `aud` (the v1.0 ones its application ID URI): set
    `"requestedAccessTokenVersion": 2` in the API registration's manifest. The audience is
    `api_client_id`, else the GUID of an `api://<GUID>` URI, else `client_id` (the front's
    registration exposing the API itself).
    """
    name = "Microsoft Entra ID"
    tenant = _tenant(text(name, "tenant", tenant))
    client_id = text(name, "client_id", client_id)
    api = _api_scopes(name, client_id, app_id_uri, scope_list(name, api_scopes))
    if send_resource and api is None:
        raise ValueError(f"{name}: send_resource=True sends app_id_uri=, which is not set")
    if api_client_id is not None and api is None:
        raise ValueError(f"{name}: api_client_id= names the API of app_id_uri=, not set")
    if allowed_tenants and tenant not in _MULTI_TENANT:
        raise ValueError(f"{name}: allowed_tenants= is for tenant='common' or 'organizations'")
    base = f"{ENTRA_LOGIN}/{tenant}"
    multi = tenant in _MULTI_TENANT
    issuer = None if multi else f"{ENTRA_LOGIN}/{_tenant_id(tenant)}/v2.0"
    return UpstreamProvider(
        name=name,
        authorize_url=f"{base}/oauth2/v2.0/authorize",
        token_url=f"{base}/oauth2/v2.0/token",
        client_id=client_id,
        client_secret=text(name, "client_secret", client_secret),
        token_auth="client_secret_post",
        scopes=(*_OIDC_SCOPES, *(api[1] if api else ())),
        issuer=issuer,
        jwks_url=f"{base}/discovery/v2.0/keys",
        subject_claim="oid",
        resource_parameter="fixed" if send_resource else "omit",
        resource=api[0] if send_resource and api else None,
        audience=_audience(name, client_id, api_client_id, api[0]) if api else None,
        issuer_template=f"{ENTRA_LOGIN}/{TENANT_PLACEHOLDER}/v2.0" if multi else None,
        allowed_tenants=tuple(_allowed(name, tenant) for tenant in allowed_tenants),
    )


def _tenant(tenant: str) -> str:
    if tenant == "consumers" or tenant in _MULTI_TENANT or _GUID.fullmatch(tenant.lower()):
        return tenant.lower()
    raise ValueError(
        f"Microsoft Entra ID: tenant= is 'common', 'organizations', 'consumers' or the "
        f"Directory (tenant) ID, a GUID from the app registration's overview: not {tenant!r}"
    )


def _allowed(name: str, tenant: str) -> str:
    if not _GUID.fullmatch(tenant.lower()):
        raise ValueError(
            f"{name}: allowed_tenants= are Directory (tenant) IDs (GUIDs): not {tenant!r}"
        )
    return tenant.lower()


def _tenant_id(tenant: str) -> str:
    return _CONSUMERS if tenant == "consumers" else tenant


def _api_scopes(
    name: str, client_id: str, app_id_uri: str | None, api_scopes: tuple[str, ...]
) -> tuple[str, tuple[str, ...]] | None:
    """The API's application ID URI and the scopes naming it, or None (sign-in only)."""
    if app_id_uri is None and not api_scopes:
        return None
    uri = f"api://{client_id}" if app_id_uri is None else text(name, "app_id_uri", app_id_uri)
    uri = uri.rstrip("/")
    if "://" not in uri:
        raise ValueError(f"{name}: app_id_uri= is a URI such as 'api://{client_id}': {uri!r}")
    for scope in api_scopes:
        if "/" in scope:
            raise ValueError(
                f"{name}: api_scopes= are the scope names the API exposes ('access_as_user'); "
                f"app_id_uri= is put before them: not {scope!r}"
            )
    return uri, tuple(f"{uri}/{scope}" for scope in api_scopes) or (f"{uri}/.default",)


def _audience(name: str, client_id: str, api_client_id: str | None, app_id_uri: str) -> str:
    if api_client_id is not None:
        return text(name, "api_client_id", api_client_id)
    named = app_id_uri.removeprefix("api://")
    return named if _GUID.fullmatch(named.lower()) else client_id
