"""The resource-server side of the front: its access tokens verified (signature, issuer,
audience, and the grant they come from still live in the store, so that a revoked grant's
tokens are refused at once), and the provider's token of the caller for a handler."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from mcpkit.auth.front.leg import UpstreamLeg, UpstreamRefused
from mcpkit.auth.front.state import FrontState, Grant
from mcpkit.auth.front.token_endpoint import FrontGrants
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

__all__ = ["Caller", "GrantCheckingVerifier", "UpstreamTokenUnavailable", "upstream_token"]

#: Seconds before its expiry that the provider's token is renewed for a handler.
REFRESH_BEFORE = 60.0


class UpstreamTokenUnavailable(Exception):
    """No provider token for this request: it carries no token of the front, its grant has
    ended, or the provider refused to renew it (the grant then ends)."""


class GrantCheckingVerifier:
    """`JwtVerifier` over the front's key, then the token's grant looked up in the store."""

    def __init__(self, jwt: JwtVerifier, state: FrontState) -> None:
        self._jwt = jwt
        self._state = state

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        checked = await self._jwt.verify(token, resource=resource)
        handle = checked.claims.get("sid")
        grant = (
            None if not isinstance(handle, str) else await self._state.get("grant", handle, Grant)
        )
        if grant is None or grant.revoked:
            raise InvalidToken("the sign-in this token comes from has ended (revoked)")
        return checked

    async def aclose(self) -> None:
        await self._jwt.aclose()


class Caller(Protocol):
    """What `upstream_token` reads of a handler's context: the verified token of its caller."""

    @property
    def auth(self) -> AccessToken | None: ...


async def upstream_token(
    ctx: Caller,
    state: FrontState,
    leg: UpstreamLeg,
    grants: FrontGrants,
    clock: Callable[[], float] = time.time,
) -> str:
    """The provider's access token of the caller of the request `ctx` serves, renewed first
    when it is about to expire (and saved for every worker)."""
    handle = None if ctx.auth is None else ctx.auth.claims.get("sid")
    if not isinstance(handle, str):
        raise UpstreamTokenUnavailable("the request carries no access token of this front")
    grant = await state.get("grant", handle, Grant)
    if grant is None or grant.revoked:
        raise UpstreamTokenUnavailable("the caller's sign-in has ended")
    expires = grant.upstream.expires_at
    if expires is None or expires - REFRESH_BEFORE > clock():
        return grant.upstream.access_token
    renewing = await grants.hold_upstream(handle)
    if renewing is None:  # another request renews it now: the token in hand serves if valid
        if expires > clock():
            return grant.upstream.access_token
        raise UpstreamTokenUnavailable(
            "the provider's token is being renewed by another request: try again"
        )
    try:
        return await _renewed(handle, grant, state, leg, grants)
    except UpstreamRefused as exc:
        if exc.error is not None:
            await grants.end(handle, upstream=False)
        raise UpstreamTokenUnavailable(f"the provider did not renew the token: {exc}") from None
    finally:
        await state.release(renewing)


async def _renewed(
    handle: str, grant: Grant, state: FrontState, leg: UpstreamLeg, grants: FrontGrants
) -> str:
    """`upstream_token`'s renewal of `grant` (as read before its renewal was held), saved."""
    held = await state.get("grant", handle, Grant)  # as it is now that it is held
    if held is None or held.revoked:
        raise UpstreamTokenUnavailable("the caller's sign-in has ended")
    if held.upstream != grant.upstream:  # renewed since it was read: nothing to do
        return held.upstream.access_token
    fresh = await leg.refresh(grant.upstream, grant.resource)
    if not await grants.keep(handle, fresh):  # the sign-in ended while it was renewed
        await leg.revoke(fresh)
        raise UpstreamTokenUnavailable("the caller's sign-in has ended")
    return fresh.access_token
