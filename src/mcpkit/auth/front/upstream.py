"""`UpstreamProvider`: the identity provider an authorization front signs users in with, as
configuration: its endpoints, the front's own pre-registered client there, and how its answers
name the user and the audience."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "TENANT_PLACEHOLDER",
    "ResourceParameter",
    "TokenAuth",
    "UpstreamProvider",
    "is_tenant_id",
]

#: How the front's client authenticates at the upstream token endpoint.
TokenAuth = Literal["client_secret_basic", "client_secret_post", "none"]

#: What the front sends upstream as RFC 8707 `resource`: nothing (`"omit"`, for providers that
#: refuse an unknown one, such as Entra's AADSTS9010010), the MCP server's canonical URI
#: (`"mcp"`), or `UpstreamProvider.resource` (`"fixed"`).
ResourceParameter = Literal["omit", "mcp", "fixed"]


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamProvider:
    """An upstream identity provider and the front's client registered there.

    - `name`: shown to the user on the consent page ("Sign in with GitHub").
    - `authorize_url`, `token_url`: the provider's endpoints; `revocation_url` (RFC 7009) and
      `userinfo_url` when it has them.
    - `client_id`, `client_secret`, `token_auth`: the front's pre-registered client; the
      redirect URI registered there is the front's callback (`<front>/callback` by default).
    - `scopes`: asked of the provider on every sign-in (`openid` for OpenID providers).
    - `pkce`: send an S256 code challenge upstream (every provider here accepts one).
    - `issuer`, `jwks_url`: for an OpenID provider, the ID token is checked against them
      (signature, `iss`, `aud` and `azp` = `client_id`, `nonce`, expiry) and names the user.
    - `issuer_template`: instead of `issuer`, for a provider whose every tenant is its own
      issuer (Entra's `common` and `organizations`): `{tenantid}` in it is filled with the ID
      token's `tid` claim (a GUID) before `iss` is compared; the signature is checked against
      `jwks_url`, shared by every tenant. `allowed_tenants`: the tenant IDs whose users may
      sign in (empty: any tenant's).
    - `subject_claim`: the claim naming the user, in the ID token, else in the userinfo
      answer (`"id"` for GitHub, whose user API has no `sub`).
    - `resource_parameter`, `resource`: see `ResourceParameter`.
    - `audience`: in pass-through mode, the audience the provider puts in its access tokens
      (checked by the resource server's verifier); None when it cannot be set.
    - `authorize_params`, `token_params`: extra parameters the provider needs (`prompt`,
      `access_type=offline` for Google's refresh tokens, `audience` for Auth0).
    """

    name: str
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    token_auth: TokenAuth = "client_secret_basic"
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    issuer: str | None = None
    jwks_url: str | None = None
    userinfo_url: str | None = None
    revocation_url: str | None = None
    subject_claim: str = "sub"
    resource_parameter: ResourceParameter = "omit"
    resource: str | None = None
    audience: str | None = None
    authorize_params: Mapping[str, str] = field(default_factory=_empty)
    token_params: Mapping[str, str] = field(default_factory=_empty)
    issuer_template: str | None = None
    allowed_tenants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_tenancy(self)
        if self.resource_parameter == "fixed" and not self.resource:
            raise ValueError("UpstreamProvider: resource_parameter='fixed' needs resource=")
        if self.token_auth != "none" and not self.client_secret:
            raise ValueError(
                f"UpstreamProvider {self.name!r}: token_auth={self.token_auth!r} needs "
                "client_secret= (or token_auth='none' for a public client)"
            )
        object.__setattr__(self, "authorize_params", MappingProxyType(dict(self.authorize_params)))
        object.__setattr__(self, "token_params", MappingProxyType(dict(self.token_params)))


#: What `issuer_template` has in place of the tenant, as Entra's discovery document writes it.
TENANT_PLACEHOLDER = "{tenantid}"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_tenant_id(value: object) -> bool:
    """Whether `value` is a tenant ID: a GUID in lower case, as Entra's `tid` claim has it."""
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def _check_tenancy(provider: UpstreamProvider) -> None:
    template, name = provider.issuer_template, provider.name
    if template is None:
        if provider.allowed_tenants:
            raise ValueError(f"UpstreamProvider {name!r}: allowed_tenants= needs issuer_template=")
        return
    if template.count(TENANT_PLACEHOLDER) != 1 or "{" in template.replace(TENANT_PLACEHOLDER, ""):
        raise ValueError(
            f"UpstreamProvider {name!r}: issuer_template= has {TENANT_PLACEHOLDER} once and no "
            f"other braces: not {template!r}"
        )
    if provider.issuer is not None or provider.jwks_url is None:
        raise ValueError(
            f"UpstreamProvider {name!r}: issuer_template= goes with jwks_url= and without issuer="
        )
    tenants = tuple(tenant.lower() for tenant in provider.allowed_tenants)
    for tenant in tenants:
        if not is_tenant_id(tenant):
            raise ValueError(
                f"UpstreamProvider {name!r}: allowed_tenants= are tenant IDs (GUIDs): {tenant!r}"
            )
    object.__setattr__(provider, "allowed_tenants", tenants)
