"""What the authorization front sends to an upstream provider for a sign-in, as the provider's
configuration says: the authorization request's query, and the `resource` (RFC 8707) that
goes with it and with the token requests that follow."""

from __future__ import annotations

from mcpkit.auth.front.upstream import UpstreamProvider

__all__ = ["authorize_parameters", "check_authorize_params", "upstream_resource"]

#: Set by the front for every sign-in: a provider's `authorize_params` may not replace them.
_RESERVED = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "resource",
    }
)


def upstream_resource(provider: UpstreamProvider, mcp_resource: str | None) -> str | None:
    """The `resource` sent upstream, on the authorization request and on every token request
    of that grant (code and refresh), for an MCP client that asked for `mcp_resource`:
    nothing (`"omit"`: Entra answers AADSTS9010010 to a resource that is not its scopes'),
    `provider.resource` (`"fixed"`), or `mcp_resource` itself (`"mcp"`)."""
    if provider.resource_parameter == "omit":
        return None
    if provider.resource_parameter == "fixed":
        return provider.resource
    if mcp_resource is None:
        raise ValueError(
            f"{provider.name}: resource_parameter='mcp' sends the MCP server's URI, "
            "and this sign-in names none"
        )
    return mcp_resource


def authorize_parameters(
    provider: UpstreamProvider,
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str | None = None,
    nonce: str | None = None,
    mcp_resource: str | None = None,
) -> dict[str, str]:
    """The query of the authorization request the front sends the user to at
    `provider.authorize_url`: its own client, its callback `redirect_uri`, its `state`, the
    provider's scopes, an S256 `code_challenge` (needed when `provider.pkce`), a `nonce`
    (needed when `openid` is asked for, to check the ID token against), the `resource` of
    `upstream_resource`, then the provider's `authorize_params`."""
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if provider.scopes:
        query["scope"] = " ".join(provider.scopes)
    if provider.pkce:
        if not code_challenge:
            raise ValueError(f"{provider.name}: PKCE is on and no code_challenge was given")
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    if "openid" in provider.scopes:
        if not nonce:
            raise ValueError(f"{provider.name}: an OpenID sign-in needs a nonce")
        query["nonce"] = nonce
    resource = upstream_resource(provider, mcp_resource)
    if resource is not None:
        query["resource"] = resource
    check_authorize_params(provider)
    return query | dict(provider.authorize_params)


def check_authorize_params(provider: UpstreamProvider) -> None:
    """ValueError when `provider.authorize_params` would replace a parameter the front sets."""
    clash = _RESERVED & provider.authorize_params.keys()
    if clash:
        raise ValueError(
            f"{provider.name}: authorize_params may not set {sorted(clash)}: the front sets them"
        )
