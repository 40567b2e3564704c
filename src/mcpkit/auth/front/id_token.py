"""The provider's ID token checked for the front's sign-in: signature, `aud` and `azp` (the
front's client), expiry, `nonce`, and `iss`: the provider's fixed issuer, or its issuer template
filled with the token's own tenant (`tid`) when every tenant is its own issuer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, cast

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth.front.upstream import TENANT_PLACEHOLDER, UpstreamProvider, is_tenant_id
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.errors import InvalidToken

__all__ = ["IdTokenRefused", "IdTokens", "id_tokens_for"]

_MAX_TOKEN_BYTES = 16 * 1024  # JwtVerifier's own bound, kept before the payload is read


class IdTokenRefused(Exception):
    """The ID token does not show a sign-in of this front's (the message says why)."""


class IdTokens:
    """Checks `provider`'s ID tokens with `verifier`; with an issuer template, the verifier's
    issuer is a function of the `resource` passed to it, which is the issuer the token's
    tenant has (the audience is fixed at the front's client ID, so nothing else reads it)."""

    def __init__(self, provider: UpstreamProvider, verifier: JwtVerifier) -> None:
        self._provider = provider
        self._verifier = verifier

    async def claims(self, id_token: str, nonce: str) -> Mapping[str, Any]:
        """The checked claims of `id_token`, or IdTokenRefused."""
        template = self._provider.issuer_template
        expected = self._provider.client_id if template is None else self._issuer_of(id_token)
        try:
            checked = await self._verifier.verify(id_token, resource=expected)
        except InvalidToken as exc:
            raise IdTokenRefused(f"the provider's ID token is not valid: {exc}") from None
        if checked.claims.get("nonce") != nonce:
            raise IdTokenRefused("the provider's ID token is not for this sign-in (nonce)")
        _check_authorized_party(checked.claims, self._provider.client_id)
        return checked.claims

    def _issuer_of(self, id_token: str) -> str:
        """The issuer the token's tenant has; its signature and `iss` are checked after,
        so a forged `tid` gains nothing but a refusal."""
        provider = self._provider
        assert provider.issuer_template is not None
        tenant = _unverified_claims(id_token).get("tid")
        if not is_tenant_id(tenant):
            raise IdTokenRefused("the provider's ID token names no tenant ID (tid) as a GUID")
        assert isinstance(tenant, str)
        if provider.allowed_tenants and tenant not in provider.allowed_tenants:
            raise IdTokenRefused(f"the user's tenant {tenant} is not one of allowed_tenants")
        return provider.issuer_template.replace(TENANT_PLACEHOLDER, tenant)

    async def aclose(self) -> None:
        await self._verifier.aclose()


def id_tokens_for(
    provider: UpstreamProvider, *, timeout: float, http_client: httpx.AsyncClient | None
) -> IdTokens | None:
    """The ID token check of an OpenID provider (`issuer` or `issuer_template` set); None
    for a plain OAuth one, whose user the userinfo answer names."""
    audience = provider.client_id
    if provider.issuer_template is not None:
        assert provider.jwks_url is not None  # UpstreamProvider checks it
        verifier = JwtVerifier(
            issuer=lambda tenant_issuer: tenant_issuer,
            jwks_url=provider.jwks_url,
            audience=audience,
            http_client=http_client,
            timeout=timeout,
        )
    elif provider.issuer is None:
        return None
    elif provider.jwks_url is not None:
        verifier = JwtVerifier(
            issuer=provider.issuer,
            jwks_url=provider.jwks_url,
            audience=audience,
            http_client=http_client,
            timeout=timeout,
        )
    else:
        verifier = JwtVerifier.from_issuer(
            provider.issuer, audience=audience, http_client=http_client
        )
    return IdTokens(provider, verifier)


def _check_authorized_party(claims: Mapping[str, Any], client_id: str) -> None:
    """OpenID Connect Core section 3.1.3.7: a token for several audiences was issued to the
    one its `azp` names, which must be the front's client (an audience of the token is not
    enough: another client of the provider can have the front's client among its own)."""
    azp = claims.get("azp")
    audiences: object = claims.get("aud")
    several = isinstance(audiences, list) and len(cast("list[object]", audiences)) > 1
    if (azp is None and several) or (azp is not None and azp != client_id):
        raise IdTokenRefused(
            f"the provider's ID token was issued to another client (azp {azp!r}, not {client_id})"
        )


def _unverified_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(token) > _MAX_TOKEN_BYTES or len(parts) != 3:
        raise IdTokenRefused("the provider's ID token is not a signed JWT")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        return msgspec.json.decode(payload, type=dict[str, Any])
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise IdTokenRefused("the provider's ID token is not a signed JWT") from None
