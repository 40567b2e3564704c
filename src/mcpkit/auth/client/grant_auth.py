"""`GrantAuth`, the `httpx.Auth` for MCP clients that authorize without a user at a browser
(machine to machine): on 401 it discovers the authorization server (spec: basic/authorization),
obtains a token with its `Grant`, and presents it as a Bearer or DPoP-bound token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass

import httpx

from mcpkit.auth.client._urls import canonical_resource, origin
from mcpkit.auth.client.challenge import Challenge, bearer_challenge
from mcpkit.auth.client.discovery import discover
from mcpkit.auth.client.dpop import DPoPKey, dpop_challenge
from mcpkit.auth.client.flow import select_scope
from mcpkit.auth.client.grants import Grant
from mcpkit.auth.client.token import ClientAuthentication, TokenRequestStep, request_token
from mcpkit.auth.metadata import TokenResponse
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


class GrantAuth(httpx.Auth):
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
        self.grant = grant
        self.client_authentication = client_authentication
        self.scope = scope
        self.dpop = dpop
        self.refresh_margin = refresh_margin
        self._steps: tuple[TokenRequestStep, ...] = () if dpop is None else (dpop.token_step(),)
        self.http_client = http_client
        self._clock = clock
        self._server: str | None = None
        self._challenge: Challenge | None = None
        self._held: _Held | None = None
        self._lock = asyncio.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("GrantAuth runs asynchronous flows: use it with httpx.AsyncClient")
        yield request  # pragma: no cover - makes this a generator, as httpx expects

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._server is None:
            self._server = canonical_resource(request.url)
        server = self._server
        if origin(request.url) != origin(server):
            yield request  # never a token for another origin (spec: "Token Theft")
            return
        held = self._held
        if held is not None and self._expiring(held):
            held = await self._renew(server, held, self._challenge, self.scope)
        self._present(request, held)
        response = yield request
        done: set[str] = set()  # each kind of retry at most once per request
        while True:
            if self.dpop is not None and self.dpop.resource_retry(request, response):
                if held is not None and "nonce" not in done:
                    done.add("nonce")  # RFC 9449 section 9: once, with the new nonce
                    self._present(request, held)
                    response = yield request
                    continue
            challenge = self._challenge_in(response)
            kind = {401: "token", 403: "scope"}.get(response.status_code)
            if kind is None or kind in done:
                return
            scope: str | None = self.scope
            if kind == "scope":
                if challenge is None or challenge.error != "insufficient_scope":
                    return
                # Spec "Step-Up Authorization Flow": keep the scopes held, add those asked for.
                scope = _union(held.scope if held else None, challenge.scopes)
            done.add(kind)
            held = await self._renew(server, held, challenge, scope)
            self._present(request, held)
            response = yield request

    def _challenge_in(self, response: httpx.Response) -> Challenge | None:
        headers = response.headers.get_list("www-authenticate")
        found = bearer_challenge(headers) or dpop_challenge(headers)
        if found is not None and response.status_code == 401:
            self._challenge = found
        return found

    def _expiring(self, held: _Held) -> bool:
        return (
            held.expires_at is not None and held.expires_at - self.refresh_margin <= self._clock()
        )

    def _present(self, request: httpx.Request, held: _Held | None) -> None:
        if held is None:
            request.headers.pop("authorization", None)
        elif self.dpop is not None:
            self.dpop.authorize(request, held.access_token)
        else:
            request.headers["authorization"] = f"Bearer {held.access_token}"

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
            self._held = self._keep(answer, scope)
            return self._held

    def _keep(self, answer: TokenResponse, scope: str | None) -> _Held:
        if self.dpop is not None and answer.token_type.lower() != "dpop":
            # RFC 9449 section 5: the client asked for a bound token; a Bearer one would be
            # a silent downgrade of the protection the application chose.
            raise AuthorizationFailed(
                "invalid_response",
                f"asked for a DPoP-bound token and got a {answer.token_type!r} one: the "
                "authorization server does not support DPoP; drop dpop= to use Bearer tokens",
            )
        expires_at = None if answer.expires_in is None else self._clock() + answer.expires_in
        return _Held(answer.access_token, answer.scope or scope, expires_at)

    @contextlib.asynccontextmanager
    async def _as_client(self) -> AsyncGenerator[httpx.AsyncClient]:
        if self.http_client is not None:
            yield self.http_client
            return
        async with httpx.AsyncClient() as http:
            yield http


def _union(held: str | None, wanted: tuple[str, ...]) -> str:
    return " ".join(dict.fromkeys([*(held or "").split(), *wanted]))
