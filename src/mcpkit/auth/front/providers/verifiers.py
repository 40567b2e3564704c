"""Pass-through verification: the `JwtVerifier` that checks an upstream provider's own access
tokens at the MCP server, for the providers that can name the server as their audience, and
the reason why not for the others."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.front.upstream import UpstreamProvider
from mcpkit.auth.server.jwt import JwtVerifier

__all__ = ["verifier_for"]

#: Why a provider's access tokens cannot be handed to the MCP server, by recipe name.
_OPAQUE = {
    "GitHub": "GitHub's access tokens are opaque and name no audience",
    "Google": "Google's access tokens are opaque and meant for Google's own APIs",
}


def verifier_for(
    provider: UpstreamProvider,
    *,
    required_scopes: Collection[str] = (),
    leeway: float = 60.0,
    timeout: float = 5.0,
    http_client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
) -> JwtVerifier:
    """`JwtVerifier.from_issuer(provider.issuer, audience=provider.audience)`: the resource
    server's check of the provider's access tokens in pass-through mode (its discovery
    document read on the first token). Refused, with the reason, for a provider that cannot
    put an audience of yours in its tokens (GitHub, Google: the front must issue its own),
    one configured without one, and one without a fixed issuer (Entra's `common` and
    `organizations`); `required_scopes` is needed when the audience is the front's client
    ID, as ID tokens carry it too. The other settings are `JwtVerifier.from_issuer`'s."""
    if provider.audience is None:
        why = _OPAQUE.get(provider.name) or (
            f"{provider.name} was configured without an audience (the recipe's audience "
            "option, or the API its access tokens are for)"
        )
        raise ValueError(
            f"no pass-through verifier for {provider.name}: {why}; let the front issue "
            "its own tokens (tokens='issue')"
        )
    if provider.issuer is None:
        raise ValueError(
            f"no pass-through verifier for {provider.name}: its tokens have no fixed issuer "
            "(a multi-tenant sign-in names each user's own tenant); configure one tenant"
        )
    if provider.audience == provider.client_id and not required_scopes:
        # An ID token issued to the front's own client names it in `aud` too (Entra, when
        # the front's registration exposes the API); it carries no scope, an access token does.
        raise ValueError(
            f"pass-through verifier for {provider.name}: the audience is the front's client "
            "ID, which the provider's ID tokens carry too; give required_scopes= (the scopes "
            "its access tokens carry) so that an ID token is never taken for an access token"
        )
    return JwtVerifier.from_issuer(
        provider.issuer,
        audience=provider.audience,
        required_scopes=required_scopes,
        leeway=leeway,
        timeout=timeout,
        http_client=http_client,
        clock=clock,
    )
