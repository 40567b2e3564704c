"""`TokenAuth`, the `httpx.Auth` flow that `OAuth` and `GrantAuth` share: bind to the MCP
server of the first request, present a token only to that origin, and answer its refusals
(spec: basic/authorization) by getting a token the subclass's way and sending the request
again, each kind of retry a bounded number of times per request.

What differs between them is only where a token comes from: `OAuth` keeps tokens in a
`TokenStorage` and gets new ones by refresh or by a user's authorization; `GrantAuth` holds
one token and gets a new one from its grant. They say so in `_usable_token`,
`_after_unauthorized` and `_step_up`.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client._urls import canonical_resource, origin
from mcpkit.auth.client.challenge import Challenge, bearer_challenge
from mcpkit.auth.client.dpop import DPoPKey, dpop_challenge
from mcpkit.auth.metadata import TokenResponse
from mcpkit.errors import AuthorizationFailed
from mcpkit.runtime.authorizing import Authorizing

__all__ = ["Attempts", "Token", "TokenAuth", "wider_scope"]


class Token(Protocol):
    """What the flow reads of a token a subclass holds."""

    @property
    def access_token(self) -> str: ...

    @property
    def scope(self) -> str | None: ...

    @property
    def expires_at(self) -> float | None: ...


T = TypeVar("T", bound=Token)


@dataclass
class Attempts:
    """The retries one request has had: each kind in `done` at most once, how many times it
    asked for more scope, and how many authorizations count against its budget (its own, and
    those of requests cut short before they had an answer: `TokenAuth` hands them over)."""

    done: set[str] = field(default_factory=set[str])
    step_ups: int = 0
    authorizations: int = 0


class TokenAuth(httpx.Auth, ABC, Generic[T]):
    """Present a token of type `T` to one MCP server, and get another when it refuses.

    On a 401 `_after_unauthorized` gives the token to send again; on a 403 with an
    `insufficient_scope` challenge, `_step_up` does (spec: "Scope Challenge Handling"); either
    answers None to give the refusal to the caller, or raises AuthorizationFailed. A DPoP
    nonce the resource server asks for (RFC 9449 section 9) is one retry more."""

    def __init__(
        self,
        *,
        dpop: DPoPKey | None,
        http_client: httpx.AsyncClient | None,
        refresh_margin: float,
        clock: Callable[[], float],
    ) -> None:
        self.dpop = dpop
        self.http_client = http_client
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._server: str | None = None
        # One token fetch at a time: concurrent requests refused together get one new token.
        self._lock = asyncio.Lock()
        # Authorizations no answer has settled yet: those of requests cancelled before their
        # answer (one its caller cancelled while it authorized, say), passed on by requests
        # answered without a token (a 2025 initialize the server lets through). The next
        # request counts them against its budget, so how a request is cut short never adds
        # authorizations to the limit.
        self._unsettled_authorizations = 0
        self._authorizing = Authorizing()

    @property
    def authorizing(self) -> Authorizing:
        """The token fetches running now: a connect's probe does not count their time (a
        person logging in) against `init_timeout`."""
        return self._authorizing

    @property
    def server(self) -> str | None:
        """The canonical URL of the MCP server this auth is bound to (None before a request)."""
        return self._server

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError(
            f"{type(self).__name__} runs asynchronous flows: use it with httpx.AsyncClient"
        )
        yield request  # pragma: no cover - makes this a generator, as httpx expects

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._server is None:
            self._server = canonical_resource(request.url)
            self._bound(self._server, request)
        server = self._server
        if origin(request.url) != origin(server):
            # Never a token for another origin (spec: "Token Theft"; tokens are bound to the
            # MCP server they were issued for).
            yield request
            return
        attempts = Attempts(authorizations=self._unsettled_authorizations)
        self._unsettled_authorizations = 0
        try:
            with self._authorizing.running():
                token = await self._usable_token(server)
            self._present(request, token)
            response = yield request
            while True:
                if self._nonce_retry(request, response, token, attempts):
                    self._present(request, token)
                    response = yield request
                    continue
                challenge = self._challenge(response.headers.get_list("www-authenticate"))
                with self._authorizing.running():
                    fresh = await self._renewed(response, server, token, challenge, attempts)
                if fresh is None:
                    if token is None and response.status_code not in (401, 403):
                        # Answered without a token: nothing settled, pass the count on.
                        self._unsettled_authorizations += attempts.authorizations
                    return
                token = fresh
                self._present(request, token)
                response = yield request
        except (asyncio.CancelledError, GeneratorExit):
            # Cut short (a timeout, a cancelled connect) before an answer: nobody saw these
            # authorizations fail, so the next request inherits them rather than starting over.
            self._unsettled_authorizations += attempts.authorizations
            raise

    async def _renewed(
        self,
        response: httpx.Response,
        server: str,
        token: T | None,
        challenge: Challenge | None,
        attempts: Attempts,
    ) -> T | None:
        """The token to send again after the refusal `response`, or None to give it to the
        caller."""
        if response.status_code == 401:
            return await self._after_unauthorized(server, token, challenge, attempts)
        if response.status_code == 403 and _needs_scope(challenge):
            assert challenge is not None
            return await self._step_up(server, token, challenge, attempts)
        return None

    # ------------------------------------------------------------ what a subclass says

    def _bound(self, server: str, request: httpx.Request) -> None:
        """`request`, the first one made with this auth, bound it to `server`."""

    @abstractmethod
    async def _usable_token(self, server: str) -> T | None:
        """The token to send first (renewed when it expires within `refresh_margin`)."""

    @abstractmethod
    async def _after_unauthorized(
        self, server: str, sent: T | None, challenge: Challenge | None, attempts: Attempts
    ) -> T | None:
        """The token to send again after a 401, or None to give the 401 to the caller."""

    @abstractmethod
    async def _step_up(
        self, server: str, sent: T | None, challenge: Challenge, attempts: Attempts
    ) -> T | None:
        """The token with the scope a 403 asks for, or None to give the 403 to the caller."""

    # ------------------------------------------------------------ shared steps

    def _nonce_retry(
        self, request: httpx.Request, response: httpx.Response, token: T | None, attempts: Attempts
    ) -> bool:
        """Whether to resend `request` once with the resource server's new DPoP nonce (RFC 9449
        section 9); the nonce is kept from every answer."""
        if self.dpop is None or not self.dpop.resource_retry(request, response):
            return False
        if token is None or "nonce" in attempts.done:
            return False
        attempts.done.add("nonce")
        return True

    def _challenge(self, headers: list[str]) -> Challenge | None:
        found = bearer_challenge(headers)
        if found is None and self.dpop is not None:
            found = dpop_challenge(headers)  # RFC 9449 section 7.1
        return found

    def _present(self, request: httpx.Request, token: T | None) -> None:
        # Always in the Authorization header, never the query (spec: "Token Requirements").
        if token is None:
            request.headers.pop("authorization", None)
        elif self.dpop is not None:
            self.dpop.authorize(request, token.access_token)
        else:
            request.headers["authorization"] = f"Bearer {token.access_token}"

    def _expiring(self, token: Token) -> bool:
        return token.expires_at is not None and (
            token.expires_at - self.refresh_margin <= self._clock()
        )

    def _expires_at(self, answer: TokenResponse, issuer: str) -> float | None:
        """When the token of `answer` expires, after checking it is bound as asked."""
        if self.dpop is not None and answer.token_type.lower() != "dpop":
            # RFC 9449 section 5: a Bearer answer to a DPoP request would silently drop the
            # sender constraint the application asked for.
            raise AuthorizationFailed(
                "invalid_response",
                f"{issuer} issued a {answer.token_type!r} token where a DPoP-bound one was "
                "asked for: it does not support DPoP; drop dpop= to use Bearer tokens",
            )
        return None if answer.expires_in is None else self._clock() + answer.expires_in

    @contextlib.asynccontextmanager
    async def _as_client(self) -> AsyncGenerator[httpx.AsyncClient]:
        """The client for the authorization servers: the one given, else a fresh one."""
        if self.http_client is not None:
            yield self.http_client
            return
        async with httpx.AsyncClient() as http:
            yield http


def wider_scope(held: Token | None, challenge: Challenge) -> str:
    """The scopes held and those a 403 asks for, in that order (spec: "Step-Up Authorization
    Flow": earlier grants are not lost)."""
    scopes = (held.scope or "").split() if held is not None else []
    return " ".join(dict.fromkeys([*scopes, *challenge.scopes]))


def _needs_scope(challenge: Challenge | None) -> bool:
    return challenge is not None and challenge.error == "insufficient_scope"
