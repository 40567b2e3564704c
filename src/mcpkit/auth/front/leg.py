"""The front's own trip to the upstream provider, as its pre-registered client: the authorization
URL (PKCE S256, `state`, `nonce`), the code exchange, refresh and revocation at its endpoints,
and who signed in (the ID token checked, else the userinfo answer). Every call has a deadline
and a bounded answer."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth._fetch import FetchFailed, HttpClientSlot, send_bounded
from mcpkit.auth.front.id_token import IdTokenRefused, id_tokens_for
from mcpkit.auth.front.providers.sign_in import (
    authorize_parameters,
    check_authorize_params,
    upstream_resource,
)
from mcpkit.auth.front.state import UpstreamTokens
from mcpkit.auth.front.upstream import UpstreamProvider

__all__ = ["UpstreamLeg", "UpstreamRefused"]

logger = logging.getLogger("mcpkit.auth.front")


class UpstreamRefused(Exception):
    """The provider refused (`error` is its OAuth error code, None when it could not be
    reached or answered nothing usable)."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class UpstreamLeg:
    """Talks to `provider` for the front."""

    def __init__(
        self,
        provider: UpstreamProvider,
        *,
        timeout: float,
        max_bytes: int,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_authorize_params(provider)  # refused now, not at the first sign-in
        self.provider = provider
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._http = HttpClientSlot(http_client)
        self._clock = clock
        self._ids = id_tokens_for(provider, timeout=timeout, http_client=http_client)

    def authorization_url(
        self, callback: str, state: str, challenge: str | None, nonce: str, mcp_resource: str
    ) -> str:
        """Where to send the user: the provider's authorization endpoint with the query of
        `authorize_parameters` (the front's client, `callback` as the redirect URI)."""
        params = authorize_parameters(
            self.provider, redirect_uri=callback, state=state, code_challenge=challenge,
            nonce=nonce, mcp_resource=mcp_resource,
        )  # fmt: skip
        parts = urlsplit(self.provider.authorize_url)
        query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    async def exchange(
        self, code: str, callback: str, verifier: str | None, mcp_resource: str
    ) -> tuple[UpstreamTokens, dict[str, Any]]:
        """The provider's tokens for `code`, and its whole answer (the ID token is in it);
        the `resource` sent is `upstream_resource`'s for the MCP server `mcp_resource`."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback}
        if verifier is not None:
            form["code_verifier"] = verifier
        resource = upstream_resource(self.provider, mcp_resource)
        if resource is not None:
            form["resource"] = resource
        answer = await self._token_request(form)
        return self._tokens(answer), answer

    async def refresh(self, tokens: UpstreamTokens, mcp_resource: str) -> UpstreamTokens:
        """New tokens from the refresh token (the old refresh token kept when the provider
        does not rotate it), for the grant to the MCP server `mcp_resource`; UpstreamRefused
        when there is none or it is refused."""
        if tokens.refresh_token is None:
            raise UpstreamRefused("the provider gave no refresh token", "invalid_grant")
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        resource = upstream_resource(self.provider, mcp_resource)
        if resource is not None:
            form["resource"] = resource
        fresh = self._tokens(await self._token_request(form))
        if fresh.refresh_token is None:
            fresh.refresh_token = tokens.refresh_token
        return fresh

    async def revoke(self, tokens: UpstreamTokens) -> None:
        """RFC 7009 at the provider's revocation endpoint, when it has one: the refresh token
        (which ends the access tokens issued with it), else the access token. Best effort:
        a provider that cannot be reached is not retried."""
        url = self.provider.revocation_url
        if url is None:
            return
        token, hint = (
            (tokens.refresh_token, "refresh_token")
            if tokens.refresh_token
            else (tokens.access_token, "access_token")
        )
        try:
            await self._as_client(url, {"token": token, "token_type_hint": hint})
        except UpstreamRefused as exc:
            logger.warning("%s did not revoke a token: %s", self.provider.name, exc)

    async def subject(
        self, answer: Mapping[str, Any], tokens: UpstreamTokens, nonce: str
    ) -> tuple[str, Mapping[str, Any]]:
        """Who signed in, and the claims that say so: `subject_claim` of the checked ID token
        when the provider is an OpenID one (`issuer` or `issuer_template` given), else of its
        userinfo answer."""
        claim = self.provider.subject_claim
        id_token = answer.get("id_token")
        if self._ids is not None:
            if not isinstance(id_token, str):
                raise UpstreamRefused("the provider's answer has no ID token")
            try:
                claims = await self._ids.claims(id_token, nonce)
            except IdTokenRefused as exc:
                raise UpstreamRefused(str(exc)) from None
            if claim in claims:
                return _as_subject(claims[claim], claim), claims
        if self.provider.userinfo_url is None:
            raise UpstreamRefused(f"no {claim!r} claim, and no userinfo_url to ask")
        info = await self._get_json(self.provider.userinfo_url, tokens.access_token)
        return _as_subject(info.get(claim), claim), info

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._ids is not None:
            await self._ids.aclose()

    def _tokens(self, answer: Mapping[str, Any]) -> UpstreamTokens:
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise UpstreamRefused("the provider's token answer has no access_token")
        refresh = answer.get("refresh_token")
        expires_in = answer.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = self._clock() + float(expires_in) if expires_in > 0 else None
        return UpstreamTokens(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=expires_at,
        )

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        return await self._as_client(
            self.provider.token_url, dict(self.provider.token_params) | form
        )

    async def _as_client(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        """POST `form` to `url` authenticated as the front's client (`token_auth`)."""
        provider = self.provider
        headers: dict[str, str] = {}
        if provider.token_auth == "client_secret_basic":
            assert provider.client_secret is not None  # UpstreamProvider checks it
            pair = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = provider.client_id
            if provider.token_auth == "client_secret_post":
                assert provider.client_secret is not None
                form["client_secret"] = provider.client_secret
        return await self._post(url, form, headers)

    async def _post(
        self, url: str, form: dict[str, str], headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        # Accept JSON: GitHub's token endpoint answers form-encoded text without it.
        all_headers = {"accept": "application/json", **(headers or {})}
        client = self._http.get()
        request = client.build_request("POST", url, data=form, headers=all_headers)
        return await self._answer(client, request, url)

    async def _get_json(self, url: str, token: str) -> dict[str, Any]:
        client = self._http.get()
        headers = {"accept": "application/json", "authorization": f"Bearer {token}"}
        request = client.build_request("GET", url, headers=headers)
        return await self._answer(client, request, url)

    async def _answer(
        self, client: httpx.AsyncClient, request: httpx.Request, url: str
    ) -> dict[str, Any]:
        try:
            status, body = await send_bounded(
                client, request, limit=self._max_bytes, timeout=self._timeout
            )
        except FetchFailed as exc:
            setting = "max_upstream_bytes" if exc.refused else "upstream_timeout"
            raise UpstreamRefused(
                f"{url} could not be reached: {exc} (FrontSettings.{setting})"
            ) from None
        try:
            answer = msgspec.json.decode(body, type=dict[str, Any]) if body.strip() else {}
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise UpstreamRefused(f"{url} answered HTTP {status} with no JSON object") from None
        if status != 200:
            error = answer.get("error")
            detail = answer.get("error_description") or error or f"HTTP {status}"
            raise UpstreamRefused(
                f"{url} refused: {detail}", error if isinstance(error, str) else None
            )
        return answer


def _as_subject(value: object, claim: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise UpstreamRefused(f"the provider named no user ({claim!r} is missing)")
    return str(value)
