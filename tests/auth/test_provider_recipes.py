"""The provider recipes (issue 43): each one's endpoints, scopes, subject claim, client
authentication, extra parameters and audience, as the providers document them, and the
refusal, naming the provider, of a value that is missing, empty, misspelt or misplaced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

import pytest

from mcpkit.auth.front import UpstreamProvider, providers


class Client(TypedDict):
    client_id: str
    client_secret: str


SECRETS: Client = {"client_id": "front-client", "client_secret": "front-secret"}
GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def fields(provider: UpstreamProvider) -> dict[str, Any]:
    found = {name: getattr(provider, name) for name in UpstreamProvider.__dataclass_fields__}
    found["authorize_params"] = dict(provider.authorize_params)
    found["token_params"] = dict(provider.token_params)
    return found


def expect(**values: Any) -> dict[str, Any]:
    """An `UpstreamProvider`'s fields: its defaults, the front's client, then `values`."""
    defaults = {
        "client_secret": None, "token_auth": "client_secret_basic", "scopes": (), "pkce": True,
        "issuer": None, "jwks_url": None, "userinfo_url": None, "revocation_url": None,
        "subject_claim": "sub", "resource_parameter": "omit", "resource": None,
        "audience": None, "authorize_params": {}, "token_params": {},
        "issuer_template": None, "allowed_tenants": (),
    }  # fmt: skip
    return defaults | dict(SECRETS) | values


def test_github_is_plain_oauth_with_the_numeric_user_id_as_subject() -> None:
    assert fields(providers.github(**SECRETS)) == expect(
        name="GitHub",
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        token_auth="client_secret_post",
        scopes=("read:user",),
        userinfo_url="https://api.github.com/user",
        subject_claim="id",
    )


def test_google_asks_for_a_refresh_token_unless_told_not_to() -> None:
    assert fields(providers.google(**SECRETS)) == expect(
        name="Google",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        scopes=("openid", "profile", "email"),
        issuer="https://accounts.google.com",
        jwks_url="https://www.googleapis.com/oauth2/v3/certs",
        userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
        revocation_url="https://oauth2.googleapis.com/revoke",
        authorize_params={"access_type": "offline", "prompt": "consent"},
    )
    assert providers.google(**SECRETS, offline=False).authorize_params == {}


def test_auth0_sends_the_api_audience_and_passes_it_through() -> None:
    found = providers.auth0(
        domain="acme.us.auth0.com", audience="https://mcp.example.com/mcp", **SECRETS
    )
    assert fields(found) == expect(
        name="Auth0",
        authorize_url="https://acme.us.auth0.com/authorize",
        token_url="https://acme.us.auth0.com/oauth/token",
        token_auth="client_secret_post",
        scopes=("openid", "profile", "email", "offline_access"),
        issuer="https://acme.us.auth0.com/",  # Auth0's issuer ends with a slash
        jwks_url="https://acme.us.auth0.com/.well-known/jwks.json",
        userinfo_url="https://acme.us.auth0.com/userinfo",
        revocation_url="https://acme.us.auth0.com/oauth/revoke",
        audience="https://mcp.example.com/mcp",
        authorize_params={"audience": "https://mcp.example.com/mcp"},
    )
    assert providers.auth0(domain="login.acme.com", **SECRETS).authorize_params == {}


def test_okta_custom_authorization_server_and_its_audience() -> None:
    found = providers.okta(domain="acme.okta.com", audience="api://default", **SECRETS)
    base = "https://acme.okta.com/oauth2/default"
    assert fields(found) == expect(
        name="Okta",
        authorize_url=f"{base}/v1/authorize",
        token_url=f"{base}/v1/token",
        scopes=("openid", "profile", "email", "offline_access"),
        issuer=base,
        jwks_url=f"{base}/v1/keys",
        userinfo_url=f"{base}/v1/userinfo",
        revocation_url=f"{base}/v1/revoke",
        audience="api://default",
    )
    custom = providers.okta(domain="acme.okta.com", authorization_server="aus1a2b3c4", **SECRETS)
    assert custom.issuer == "https://acme.okta.com/oauth2/aus1a2b3c4"


def test_okta_org_authorization_server_has_no_audience_of_yours() -> None:
    found = providers.okta(domain="acme.okta.com", authorization_server=None, **SECRETS)
    assert (found.issuer, found.token_url, found.jwks_url, found.audience) == (
        "https://acme.okta.com",
        "https://acme.okta.com/oauth2/v1/token",
        "https://acme.okta.com/oauth2/v1/keys",
        None,
    )
    with pytest.raises(ValueError, match="Okta: the org authorization server"):
        providers.okta(domain="acme.okta.com", authorization_server=None, audience="x", **SECRETS)


def test_keycloak_realm_endpoints() -> None:
    found = providers.keycloak(
        base_url="https://sso.example.com/", realm="acme", audience="mcp-server", **SECRETS
    )
    realm = "https://sso.example.com/realms/acme"
    endpoints = f"{realm}/protocol/openid-connect"
    assert fields(found) == expect(
        name="Keycloak",
        authorize_url=f"{endpoints}/auth",
        token_url=f"{endpoints}/token",
        scopes=("openid", "profile", "email"),
        issuer=realm,
        jwks_url=f"{endpoints}/certs",
        userinfo_url=f"{endpoints}/userinfo",
        revocation_url=f"{endpoints}/revoke",
        audience="mcp-server",
    )
    old = providers.keycloak(base_url="https://sso.example.com/auth", realm="acme", **SECRETS)
    assert old.issuer == "https://sso.example.com/auth/realms/acme"


def test_cognito_pool_issuer_domain_endpoints_and_resource_binding() -> None:
    domain = "acme.auth.eu-west-1.amazoncognito.com"
    found = providers.cognito(
        domain=domain,
        user_pool_id="eu-west-1_AbCdEf123",
        resource_server="https://mcp.example.com/mcp",
        **SECRETS,
    )
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    assert fields(found) == expect(
        name="Amazon Cognito",
        authorize_url=f"https://{domain}/oauth2/authorize",
        token_url=f"https://{domain}/oauth2/token",
        scopes=("openid", "profile", "email"),
        issuer=issuer,
        jwks_url=f"{issuer}/.well-known/jwks.json",
        userinfo_url=f"https://{domain}/oauth2/userInfo",
        revocation_url=f"https://{domain}/oauth2/revoke",
        resource_parameter="fixed",
        resource="https://mcp.example.com/mcp",
        audience="https://mcp.example.com/mcp",
    )
    plain = providers.cognito(domain=domain, user_pool_id="eu-west-1_AbCdEf123", **SECRETS)
    assert (plain.resource_parameter, plain.resource, plain.audience) == ("omit", None, None)


def test_workos_authkit_domain_and_resource_indicator() -> None:
    found = providers.workos(
        domain="acme-42.authkit.app", audience="https://mcp.example.com/mcp", **SECRETS
    )
    base = "https://acme-42.authkit.app"
    assert fields(found) == expect(
        name="WorkOS",
        authorize_url=f"{base}/oauth2/authorize",
        token_url=f"{base}/oauth2/token",
        token_auth="client_secret_post",
        scopes=("openid", "profile", "email", "offline_access"),
        issuer=base,
        jwks_url=f"{base}/oauth2/jwks",
        userinfo_url=f"{base}/oauth2/userinfo",
        resource_parameter="fixed",
        resource="https://mcp.example.com/mcp",
        audience="https://mcp.example.com/mcp",
    )


def test_entra_single_tenant_with_an_api_scope() -> None:
    found = providers.entra(tenant=GUID, api_scopes=["access_as_user"], **SECRETS)
    base = f"https://login.microsoftonline.com/{GUID}"
    assert fields(found) == expect(
        name="Microsoft Entra ID",
        authorize_url=f"{base}/oauth2/v2.0/authorize",
        token_url=f"{base}/oauth2/v2.0/token",
        token_auth="client_secret_post",
        # `profile`: Entra puts `oid` in ID tokens only with it
        scopes=("openid", "profile", "offline_access", "api://front-client/access_as_user"),
        issuer=f"{base}/v2.0",
        jwks_url=f"{base}/discovery/v2.0/keys",
        subject_claim="oid",
        audience="front-client",  # v2.0 access tokens: the API's application (client) ID
    )


def test_entra_app_id_uri_forms_and_the_audience_they_give() -> None:
    other = "0b7c31b8-3a6e-4a4c-9f0e-6b1d1f1e2a3b"
    by_guid = providers.entra(tenant=GUID, app_id_uri=f"api://{other}", **SECRETS)
    assert by_guid.scopes[-1] == f"api://{other}/.default"
    assert by_guid.audience == other
    named = providers.entra(
        tenant=GUID, app_id_uri="https://contoso.com/mcp/", api_client_id=other, **SECRETS
    )
    assert named.scopes[-1] == "https://contoso.com/mcp/.default"
    assert named.audience == other
    sign_in_only = providers.entra(tenant=GUID, **SECRETS)
    assert sign_in_only.scopes == ("openid", "profile", "offline_access")
    assert sign_in_only.audience is None


@pytest.mark.parametrize(
    ("tenant", "issuer"),
    [
        ("common", None),  # each user's own tenant is the issuer
        ("organizations", None),
        (
            "consumers",
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        ),
        (GUID.upper(), f"https://login.microsoftonline.com/{GUID}/v2.0"),
    ],
)
def test_entra_tenants(tenant: str, issuer: str | None) -> None:
    found = providers.entra(tenant=tenant, **SECRETS)
    assert found.issuer == issuer
    assert found.authorize_url.startswith(f"https://login.microsoftonline.com/{tenant.lower()}/")


def test_entra_resource_setting() -> None:
    omitted = providers.entra(tenant=GUID, api_scopes=["access_as_user"], **SECRETS)
    assert (omitted.resource_parameter, omitted.resource) == ("omit", None)
    sent = providers.entra(
        tenant=GUID, api_scopes=["access_as_user"], send_resource=True, **SECRETS
    )
    assert (sent.resource_parameter, sent.resource) == ("fixed", "api://front-client")


Recipe = Callable[..., UpstreamProvider]
ENTRA = {"tenant": GUID}
POOL = {"domain": "acme.auth.us-east-1.amazoncognito.com"}
KEYCLOAK = "https://sso.example.com"
REFUSALS: list[tuple[Recipe, dict[str, Any], str]] = [
    (providers.github, {"client_id": ""}, "GitHub: client_id= is empty"),
    (providers.github, {"client_secret": "s3cret\n"}, "GitHub: client_secret= has blanks"),
    (providers.github, {"scopes": "read:user user:email"}, "GitHub: scopes= is a list"),
    (providers.google, {"scopes": ["openid email"]}, "Google: scope 'openid email' is not"),
    (providers.auth0, {"domain": "https://acme.auth0.com/"}, "Auth0: domain= is a host name"),
    (providers.okta, {"domain": "acme"}, "Okta: domain= is a host name"),
    (
        providers.okta,
        {"domain": "acme.okta.com", "authorization_server": "default/"},
        "Okta: authorization_server=",
    ),
    (
        providers.keycloak,
        {"base_url": f"{KEYCLOAK}/realms/acme", "realm": "acme"},
        "Keycloak: give the server's URL",
    ),
    (
        providers.keycloak,
        {"base_url": "http://sso.example.com", "realm": "acme"},
        "Keycloak: base_url= must be an https URL",
    ),
    (providers.keycloak, {"base_url": KEYCLOAK, "realm": "a/b"}, "Keycloak: realm= is"),
    (providers.cognito, {**POOL, "user_pool_id": "AbCdEf1"}, "Amazon Cognito: user_pool_id="),
    (
        providers.cognito,
        {**POOL, "user_pool_id": "us-east-1_AbC", "region": "us-west-2"},
        "Amazon Cognito: region='us-west-2' but",
    ),
    (providers.workos, {"domain": "acme-42.authkit.app/oauth2"}, "WorkOS: domain= is a host"),
    (providers.entra, {"tenant": "comon"}, "Microsoft Entra ID: tenant= is 'common'"),
    (providers.entra, {"tenant": "contoso.onmicrosoft.com"}, "the Directory \\(tenant\\) ID"),
    (
        providers.entra,
        {**ENTRA, "send_resource": True},
        "Microsoft Entra ID: send_resource=True sends app_id_uri",
    ),
    (providers.entra, {**ENTRA, "api_scopes": ["api://x/read"]}, "api_scopes= are the scope"),
    (providers.entra, {**ENTRA, "app_id_uri": "my-api"}, "app_id_uri= is a URI"),
    (providers.entra, {**ENTRA, "api_client_id": GUID}, "api_client_id= names the API of"),
]


@pytest.mark.parametrize(("recipe", "given", "message"), REFUSALS)
def test_a_wrong_value_is_refused_naming_the_provider(
    recipe: Recipe, given: dict[str, Any], message: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        recipe(**(dict(SECRETS) | given))


@pytest.mark.parametrize(
    "recipe",
    [providers.github, providers.google, providers.entra, providers.auth0, providers.okta,
     providers.keycloak, providers.cognito, providers.workos],
)  # fmt: skip
def test_a_misspelt_or_missing_option_is_refused(recipe: Recipe) -> None:
    with pytest.raises(TypeError, match=recipe.__name__):
        recipe(**SECRETS, client_secert="x")  # misspelt: never ignored
    with pytest.raises(TypeError, match=f"{recipe.__name__}.*client_secret"):
        recipe(client_id="front-client")
