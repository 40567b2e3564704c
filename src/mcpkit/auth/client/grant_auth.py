"""`GrantAuth`, the `httpx.Auth` for MCP clients that authorize without a user at a browser
(machine to machine): on 401 it discovers the authorization server (spec: basic/authorization),
obtains a token with its `Grant`, and presents it as a Bearer or DPoP-bound token."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client._token_auth import Attempts, TokenAuth, wider_scope
from mcpkit.auth.client.challenge import Challenge
from mcpkit.auth.client.discovery import discover
from mcpkit.auth.client.dpop import DPoPKey
from mcpkit.auth.client.flow import select_scope
from mcpkit.auth.client.grants import Grant
from mcpkit.auth.client.token import ClientAuthentication, TokenRequestStep, request_token
from mcpkit.errors import AuthorizationFailed

__all__ = ["GrantAuth"]


@dataclass(frozen=True)
class _Held:
    """The token in use, and what it is for."""

    access_token: str
    scope: str | None
    expires_at: float | None

    def __repr__(self) -> str:
        return f"_Held(scope={self.scope!r}, expires_at={self.expires_at!r})"


class GrantAuth(TokenAuth[_Held]):
    """Authorization by `grant` (`ClientCredentialsGrant`, `JwtBearerGrant`, `EnterpriseGrant`)
    for one MCP server: `Client(url, auth=GrantAuth(grant, client_authentication))`.

    `client_authentication` is how the client proves who it is at the token endpoint
    (`ClientSecretBasic`, `ClientSecretPost`, `PrivateKeyJwt`, or `NoClientAuthentication`).
    `scope` is asked for (default: the server's challenge, else its `scopes_supported`).
    `http_client` makes the calls to the authorization servers (default: a fresh one each time).
    With `dpop` the tokens are DPoP-bound (RFC 9449) and presented with a proof per request.
    A refused grant is not retried (the error is raised: fix the credentials); a token is
    fetched again `refresh_margin` seconds before it expires, or on a 401.
    """

    def __init__(
        self,
        grant: Grant,
        client_authentication: ClientAuthentication,
        *,
        scope: str | None = None,
        dpop: DPoPKey | None = None,
        http_client: httpx.AsyncClient | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            dpop=dpop, http_client=http_client, refresh_margin=refresh_margin, clock=clock
        )
        self.grant = grant
        self.client_authentication = client_authentication
        self.scope = scope
        self._steps: tuple[TokenRequestStep, ...] = () if dpop is None else (dpop.token_step(),)
        self._challenge_seen: Challenge | None = None  # the last 401's, for renewals on expiry
        self._held: _Held | None = None

    async def _usable_token(self, server: str) -> _Held | None:
        held = self._held
        if held is not None and self._expiring(held):
            held = await self._renew(server, held, self._challenge_seen, self.scope)
        return held

    async def _after_unauthorized(
        self, server: str, sent: _Held | None, challenge: Challenge | None, attempts: Attempts
    ) -> _Held | None:
        if challenge is not None:
            self._challenge_seen = challenge
        if "token" in attempts.done:  # one new token per request: a second 401 is the answer
            return None
        attempts.done.add("token")
        return await self._renew(server, sent, challenge, self.scope)

    async def _step_up(
        self, server: str, sent: _Held | None, challenge: Challenge, attempts: Attempts
    ) -> _Held | None:
        if "scope" in attempts.done:
            return None
        attempts.done.add("scope")
        return await self._renew(server, sent, challenge, wider_scope(sent, challenge))

    async def _renew(
        self, server: str, sent: _Held | None, challenge: Challenge | None, scope: str | None
    ) -> _Held:
        """A new token, unless another request got one meanwhile."""
        async with self._lock:
            if self._held is not None and self._held is not sent and not self._expiring(self._held):
                return self._held
            async with self._as_client() as http:
                found = await discover(http, server, challenge)
                metadata = found.authorization_server
                if metadata.token_endpoint is None:
                    raise AuthorizationFailed(
                        "invalid_authorization_server",
                        f"the authorization server {metadata.issuer} has no token_endpoint",
                    )
                scope = scope or select_scope(challenge, found.resource_metadata)
                form = await self.grant.form(http, found, scope)
                answer = await request_token(
                    http,
                    metadata.token_endpoint,
                    form,
                    self.client_authentication,
                    steps=self._steps,
                    issuer=metadata.issuer,
                )
            expires_at = self._expires_at(answer, metadata.issuer)
            self._held = _Held(answer.access_token, answer.scope or scope, expires_at)
            return self._held
