"""`UpstreamProvider`: the identity provider an authorization front signs users in with, as
configuration: its endpoints, the front's own pre-registered client there, and how its answers
name the user and the audience."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["ResourceParameter", "TokenAuth", "UpstreamProvider"]

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
      (signature, `iss`, `aud` = `client_id`, `nonce`, expiry) and names the user.
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

    def __post_init__(self) -> None:
        if self.resource_parameter == "fixed" and not self.resource:
            raise ValueError("UpstreamProvider: resource_parameter='fixed' needs resource=")
        if self.token_auth != "none" and not self.client_secret:
            raise ValueError(
                f"UpstreamProvider {self.name!r}: token_auth={self.token_auth!r} needs "
                "client_secret= (or token_auth='none' for a public client)"
            )
        object.__setattr__(self, "authorize_params", MappingProxyType(dict(self.authorize_params)))
        object.__setattr__(self, "token_params", MappingProxyType(dict(self.token_params)))
