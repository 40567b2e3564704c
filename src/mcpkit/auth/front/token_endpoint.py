"""The front's token and revocation endpoints: its codes redeemed with PKCE, refresh tokens
rotated with reuse detection (a rotated token presented again ends the grant), the provider's
tokens refreshed on the same call (its refusal ends the grant too), and either access tokens
of the front's own or the provider's passed through (`FrontSettings.tokens`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from mcpkit.auth.devserver._http import Form, Refused
from mcpkit.auth.devserver.clients import single
from mcpkit.auth.devserver.grants import check_redemption, same_resource
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.devserver.policy import parse_scope
from mcpkit.auth.devserver.store import Consent
from mcpkit.auth.devserver.tokens import access_claims
from mcpkit.auth.front.front_settings import FrontSettings
from mcpkit.auth.front.grant_budget import GrantBudget
from mcpkit.auth.front.leg import UpstreamLeg, UpstreamRefused
from mcpkit.auth.front.state import FrontState, Grant, IssuedCode, UpstreamTokens
from mcpkit.auth.metadata import ClientInformation, TokenResponse

__all__ = ["FrontGrants"]

logger = logging.getLogger("mcpkit.auth.front")


class FrontGrants:
    """Answers token and revocation requests from an authenticated MCP client."""

    def __init__(
        self,
        settings: FrontSettings,
        state: FrontState,
        leg: UpstreamLeg,
        key: SigningKey,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._state = state
        self._leg = leg
        self._key = key
        self._clock = clock
        self._budget = GrantBudget(
            state, settings.max_grants_per_user, settings.refresh_token_ttl, self.end
        )

    async def exchange(self, form: Form, client: ClientInformation, issuer: str) -> TokenResponse:
        grant_type = single(form, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise Refused("unsupported_grant_type", f"grant_type {grant_type!r} is not served")
        if client.grant_types is not None and grant_type not in client.grant_types:
            raise Refused("unauthorized_client", f"this client may not use {grant_type}")
        if grant_type == "authorization_code":
            return await self._code(form, client, issuer)
        return await self._refresh(form, client, issuer)

    async def _code(self, form: Form, client: ClientInformation, issuer: str) -> TokenResponse:
        code = single(form, "code") or ""
        record = await self._state.get("code", code, IssuedCode)
        if record is None:
            raise Refused("invalid_grant", "the code is unknown or expired: authorize again")
        # Its client first: another client presenting a used code must not end the grant.
        if record.client_id != client.client_id:
            raise Refused("invalid_grant", "the code was issued to another client")
        used = await self._state.noted("code", code)
        if used is not None:
            # RFC 6749 section 4.1.2: a code used twice revokes what it issued.
            await self.end(used)
            raise Refused("invalid_grant", "the code was already used: its tokens are revoked")
        check_redemption(
            form, record.redirect_uri, record.redirect_uri_given, record.challenge, record.resource
        )
        refresh = client.grant_types is None or "refresh_token" in client.grant_types
        grant = Grant(
            client_id=client.client_id,
            subject=record.subject,
            scopes=record.scopes,
            resource=record.resource,
            upstream=record.upstream,
            generation=0 if refresh else None,
        )
        # The grant is written within its user's budget before the code is claimed, and the
        # code claimed once it is known to succeed: neither a full budget nor a request from
        # another client or with the wrong verifier spends the code its client redeems.
        handle = await self._budget.place(grant)
        if not await self._state.claim("code", code, self._settings.code_ttl):
            await self._budget.forget(handle)
            raise Refused("invalid_grant", "the code is being redeemed by another request")
        await self._state.note("code", code, handle, self._settings.code_ttl)
        return self._answer(handle, grant, record.scopes, issuer)

    async def _refresh(self, form: Form, client: ClientInformation, issuer: str) -> TokenResponse:
        found = self._state.refresh_grant(single(form, "refresh_token") or "")
        handle, generation = found or ("", -1)
        grant = None if found is None else await self._state.get("grant", handle, Grant)
        if grant is None or grant.revoked:
            raise Refused("invalid_grant", "the refresh token is unknown or revoked")
        if grant.client_id != client.client_id:
            raise Refused("invalid_grant", "the refresh token was issued to another client")
        if grant.generation != generation:
            # A rotated token came back: someone holds a copy. End the whole grant.
            await self.end(handle)
            raise Refused("invalid_grant", "the refresh token was already used: grant revoked")
        # Checked before the token is spent: a refused request leaves it for a corrected one.
        same_resource(single(form, "resource"), grant.resource)
        scopes = list(parse_scope(single(form, "scope"))) or grant.scopes
        if not set(scopes) <= set(grant.scopes):
            raise Refused("invalid_scope", "a refresh may narrow the scopes, never widen them")
        # Held while this request rotates it (the grant's generation tells a later copy).
        hold = 2 * self._settings.upstream_timeout + 5
        marker = await self._state.claim("refresh", f"{handle}.{generation}", hold)
        if marker is None:
            # The same token twice at once: someone holds a copy.
            await self.end(handle)
            raise Refused("invalid_grant", "the refresh token was already used: grant revoked")
        try:
            return await self._renewed(handle, generation, scopes, issuer)
        except Refused as refused:
            if refused.status in (429, 503):  # "try again later": the retry finds it whole
                await self._state.release(marker)
            raise

    async def _renewed(
        self, handle: str, generation: int, scopes: list[str], issuer: str
    ) -> TokenResponse:
        """The refresh's answer, the provider's tokens renewed under `hold_upstream`, from
        the grant as it is once held (a handler may have just renewed them)."""
        renewing = await self.hold_upstream(handle)
        if renewing is None:
            raise Refused(
                "temporarily_unavailable",
                "the provider's token is being renewed by another request: try again",
                status=503,
            )
        try:
            grant = await self._state.get("grant", handle, Grant)
            if grant is None or grant.revoked:
                raise Refused("invalid_grant", "the grant was revoked during this refresh")
            if grant.generation != generation:  # rotated by a request that ended meanwhile
                await self.end(handle)
                raise Refused("invalid_grant", "the refresh token was already used: revoked")
            renewed = await self._renew_upstream(handle, grant)
            before = grant.upstream
            await self._still_live(handle, renewed, before)
            grant.upstream = renewed
            grant.generation = generation + 1
            try:
                if not await self._save(handle, grant):
                    raise Refused("invalid_grant", "the grant was revoked during this refresh")
                return self._answer(handle, grant, scopes, issuer)
            except Refused as refused:
                if refused.error == "invalid_grant" and renewed is not before:
                    await self._leg.revoke(renewed)  # revoked meanwhile: these go too
                raise
        finally:
            await self._state.release(renewing)

    async def hold_upstream(self, handle: str) -> str | None:
        """A claim on renewing the provider's tokens of the grant `handle` (None: another
        request renews them now), to `release` once the renewed tokens are saved: a
        provider that rotates refresh tokens takes a second use of one for theft."""
        hold = 2 * self._settings.upstream_timeout + 5  # outlives the call to the provider
        return await self._state.claim("upstream", handle, hold)

    async def _still_live(
        self, handle: str, renewed: UpstreamTokens, before: UpstreamTokens
    ) -> None:
        """Refused when the grant was revoked while the provider was asked: saving the grant
        read before would bring it back. The provider's tokens just renewed go too."""
        current = await self._state.get("grant", handle, Grant)
        if current is None or current.revoked:
            if renewed is not before:
                await self._leg.revoke(renewed)
            raise Refused("invalid_grant", "the grant was revoked during this refresh")

    async def _renew_upstream(self, handle: str, grant: Grant) -> UpstreamTokens:
        """The provider's tokens renewed with this refresh: the provider still honours the
        sign-in or the grant ends here."""
        upstream = grant.upstream
        if upstream.refresh_token is None:
            if upstream.expires_at is not None and upstream.expires_at <= self._clock():
                await self.end(handle, upstream=False)
                raise Refused("invalid_grant", "the provider's sign-in expired: authorize again")
            return upstream
        try:
            return await self._leg.refresh(upstream, grant.resource)
        except UpstreamRefused as exc:
            if exc.error is None:
                raise Refused(
                    "temporarily_unavailable", f"the provider cannot be reached: {exc}", status=503
                ) from None
            logger.info("the provider ended grant of %s: %s", grant.subject, exc)
            await self.end(handle, upstream=False)
            raise Refused(
                "invalid_grant", f"the provider ended this sign-in ({exc.error})"
            ) from None

    def _answer(self, handle: str, grant: Grant, scopes: list[str], issuer: str) -> TokenResponse:
        refresh_token = None
        if grant.generation is not None:
            refresh_token = self._state.refresh_token(handle, grant.generation)
        access, expires_in = self._access_token(handle, grant, scopes, issuer)
        return TokenResponse(
            access_token=access,
            token_type="Bearer",
            expires_in=expires_in,
            refresh_token=refresh_token,
            scope=" ".join(scopes) if scopes else None,
        )

    def _access_token(
        self, handle: str, grant: Grant, scopes: list[str], issuer: str
    ) -> tuple[str, int | None]:
        if self._settings.tokens == "pass-through":
            expires = grant.upstream.expires_at
            left = None if expires is None else max(1, int(expires - self._clock()))
            return grant.upstream.access_token, left
        consent = Consent(grant.client_id, grant.subject, tuple(scopes), grant.resource)
        ttl = self._settings.access_token_ttl
        claims = access_claims(consent, issuer, int(self._clock()), ttl)
        # `idp`: which provider named `sub`; `sid`: the grant, for revocation and for the
        # provider's token, server-side (`AuthorizationFront.upstream_token`).
        claims |= {"idp": self._leg.provider.name, "sid": handle}
        return self._key.sign_access_token(claims), ttl

    async def revoke(self, form: Form, client: ClientInformation) -> None:
        """RFC 7009: end the grant of a refresh token or access token of this client (at the
        provider too); anything else is answered the same, so nothing leaks."""
        token = single(form, "token")
        if token is None:
            raise Refused("invalid_request", "token is missing")
        found = self._state.refresh_grant(token)
        handle = found[0] if found is not None else self._grant_of_access_token(token)
        grant = None if handle is None else await self._state.get("grant", handle, Grant)
        if handle is not None and grant is not None and grant.client_id == client.client_id:
            await self.end(handle)

    def _grant_of_access_token(self, token: str) -> str | None:
        claims = self._key.verified_claims(token)
        handle = None if claims is None else claims.get("sid")
        return handle if isinstance(handle, str) else None

    async def keep(self, handle: str, upstream: UpstreamTokens) -> bool:
        """Save the provider's renewed tokens into the grant `handle` for every worker. The
        grant is read again first: the client may have rotated its refresh token while the
        provider was asked, and writing back the grant read before would undo that (its next
        refresh would then look like a stolen copy). False when the grant is revoked, or was
        while this ran."""
        grant = await self._state.get("grant", handle, Grant)
        if grant is None or grant.revoked:
            return False
        grant.upstream = upstream
        return await self._save(handle, grant)

    async def _save(self, handle: str, grant: Grant) -> bool:
        """Write `grant`, read a moment before, back; False when it was revoked meanwhile, and
        then it stays revoked. A revocation sets its mark before it writes the grant, and this
        looks for the mark after writing: whichever order the two requests' steps take, in
        one process or several, the grant ends revoked (a write from an earlier read that
        lands after the revocation's is caught here; one that lands before it is
        overwritten by it)."""
        await self._budget.write(handle, grant)
        if not await self._state.marked("revoked", handle):
            return True
        grant.revoked = True
        grant.generation = None
        await self._state.put("grant", handle, grant, self._settings.refresh_token_ttl)
        return False

    async def end(self, handle: str, *, upstream: bool = True) -> None:
        """Revoke the grant `handle` (kept, marked, until its time is up), and the provider's
        tokens with it when `upstream`. The mark goes first (`_save`)."""
        grant = await self._state.get("grant", handle, Grant)
        if grant is None or grant.revoked:
            return
        ttl = self._settings.refresh_token_ttl
        await self._state.mark("revoked", handle, ttl)
        grant.revoked = True
        grant.generation = None
        await self._state.put("grant", handle, grant, ttl)
        if upstream:
            await self._leg.revoke(grant.upstream)
