"""`OAuth`, the `httpx.Auth` that authorizes an MCP client (spec: basic/authorization): it
sends the stored bearer token on every request to the MCP server's origin, runs discovery,
registration and the authorization code flow on 401, refreshes before expiry and on 401, and
steps up on 403 `insufficient_scope` ("Scope Challenge Handling")."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth.client._token_auth import Attempts, TokenAuth, wider_scope
from mcpkit.auth.client._urls import origin
from mcpkit.auth.client.challenge import Challenge
from mcpkit.auth.client.discovery import (
    discover,
    discover_authorization_server,
    fallback_metadata,
)
from mcpkit.auth.client.dpop import DPoPKey
from mcpkit.auth.client.flow import run_authorization_code, select_scope, with_offline_access
from mcpkit.auth.client.redirect import ClosingRedirect, LoopbackBrowser, RedirectHandler
from mcpkit.auth.client.registration import check_client_id_metadata_url, choose_client
from mcpkit.auth.client.storage import (
    MemoryTokenStorage,
    StoredClient,
    StoredTokens,
    TokenStorage,
    load_issuer_client,
)
from mcpkit.auth.client.token import (
    ClientAuthentication,
    TokenRequestStep,
    client_authentication_for,
    refresh_token_grant,
    request_token,
)
from mcpkit.auth.metadata import (
    AuthorizationServerMetadata,
    ClientInformation,
    ClientMetadata,
    TokenResponse,
)
from mcpkit.errors import AuthorizationFailed

__all__ = ["DEFAULT_CLIENT_METADATA", "OAuth"]

#: What the client registers as when the app gives no metadata of its own.
DEFAULT_CLIENT_METADATA: Final = ClientMetadata(client_name="mcpkit")


class OAuth(TokenAuth[StoredTokens]):
    """Authorization for one MCP server: give it to `Client(url, auth=OAuth(...))`.

    `redirect` takes the user through the authorization page (default: `LoopbackBrowser`).
    How the client is known, in the spec's order: `client` (pre-registered credentials, with
    `client_issuer` the authorization server they are registered at), then
    `client_id_metadata_url` (an https URL serving a client ID metadata document) when the
    authorization server supports those, then dynamic registration with `client_metadata`.
    `storage` keeps tokens (per MCP server) and registrations (per issuer; default: in
    memory). `scope` overrides the scope selection strategy; `offline_access` is added when
    the authorization server lists it and the client has the refresh_token grant. `http_client`
    makes the calls to the authorization server
    (default: a fresh `httpx.AsyncClient` per flow). At most `max_step_ups` re-authorizations
    for more scope per request, and at most `1 + max_step_ups` authorizations in all, those of
    requests cancelled before their answer counted in the next one's; tokens are refreshed
    `refresh_margin` seconds before expiry.
    With `dpop` the tokens are DPoP-bound to that key (RFC 9449) and each request carries a
    proof; a Bearer token is then refused.

    The token goes only to the origin of the first request made with this auth (the MCP
    server); requests elsewhere go out without it.
    """

    def __init__(
        self,
        redirect: RedirectHandler | None = None,
        *,
        client: ClientInformation | None = None,
        client_issuer: str | None = None,
        client_id_metadata_url: str | None = None,
        client_metadata: ClientMetadata = DEFAULT_CLIENT_METADATA,
        storage: TokenStorage | None = None,
        scope: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_step_ups: int = 2,
        refresh_margin: float = 60.0,
        client_authentication: Callable[
            [ClientInformation], ClientAuthentication
        ] = client_authentication_for,
        token_steps: Sequence[TokenRequestStep] = (),
        dpop: DPoPKey | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if client_id_metadata_url is not None:
            check_client_id_metadata_url(client_id_metadata_url)
        super().__init__(
            dpop=dpop, http_client=http_client, refresh_margin=refresh_margin, clock=clock
        )
        self.redirect = redirect if redirect is not None else LoopbackBrowser()
        #: `redirect`, when it holds something to release after each flow.
        self._closing = self.redirect if isinstance(self.redirect, ClosingRedirect) else None
        self.client = client
        #: The issuer `client` belongs to: given, or the first one it was used with here.
        self.client_issuer = client_issuer
        self.client_id_metadata_url = client_id_metadata_url
        self.client_metadata = client_metadata
        self.storage: TokenStorage = storage if storage is not None else MemoryTokenStorage()
        self.scope = scope
        self.max_step_ups = max_step_ups
        self._client_authentication = client_authentication
        dpop_steps: tuple[TokenRequestStep, ...] = () if dpop is None else (dpop.token_step(),)
        self._token_steps = (*token_steps, *dpop_steps)
        #: What storage keeps its tokens under: the server's URL with its query, so that
        #: `/mcp?tenant=b` never gets tenant a's tokens.
        self._storage_key = ""
        #: Token endpoints learned from each issuer's metadata in this process: never from
        #: storage, whose files another local user might have planted.
        self._token_endpoints: dict[str, str] = {}

    def _bound(self, server: str, request: httpx.Request) -> None:
        query = request.url.query.decode("ascii", "replace")
        self._storage_key = server + (f"?{query}" if query else "")

    # ---------------------------------------------------------------- tokens

    async def _usable_token(self, server: str) -> StoredTokens | None:
        """The stored tokens, refreshed first when they expire within `refresh_margin`."""
        tokens = await self.storage.load_tokens(self._storage_key)
        if tokens is None or not self._expiring(tokens):
            return tokens
        async with self._lock:
            current = await self.storage.load_tokens(self._storage_key)
            if current is not None and current.access_token != tokens.access_token:
                return current  # another request refreshed them meanwhile
            refreshed = await self._try_refresh(server, tokens)
            if refreshed is not None:
                return refreshed
            # A refused refresh cleared the storage: send no token rather than one known to be
            # expiring, and let the 401 start a whole flow (not a second refused refresh).
            return await self.storage.load_tokens(self._storage_key)

    async def _after_unauthorized(
        self,
        server: str,
        sent: StoredTokens | None,
        challenge: Challenge | None,
        attempts: Attempts,
    ) -> StoredTokens:
        """New tokens after a 401: someone else's new ones, a refresh, or a whole flow; each
        at most once per request, then AuthorizationFailed."""
        tried = attempts.done
        async with self._lock:
            current = await self.storage.load_tokens(self._storage_key)
            if current is not None and (sent is None or current.access_token != sent.access_token):
                if "newer" not in tried:
                    tried.add("newer")
                    return current
            if sent is not None and "refresh" not in tried:
                tried.add("refresh")
                refreshed = await self._try_refresh(server, sent)
                if refreshed is not None:
                    return refreshed
            if "flow" not in tried:
                tried.add("flow")
                self._count_authorization(server, attempts, 401)
                scope = self.scope or None
                return await self._authorize(server, challenge, scope)
        raise AuthorizationFailed(
            "invalid_token",
            f"{server} refused the access token it was just issued (HTTP 401): is its "
            "authorization server configured for this resource?",
            status=401,
        )

    async def _step_up(
        self,
        server: str,
        sent: StoredTokens | None,
        challenge: Challenge,
        attempts: Attempts,
    ) -> StoredTokens:
        """Re-authorize with the union of the scopes held and those the 403 asks for (spec:
        "Step-Up Authorization Flow"), so earlier grants are not lost; at most `max_step_ups`
        times per request, then AuthorizationFailed."""
        if attempts.step_ups >= self.max_step_ups:
            raise AuthorizationFailed(
                "insufficient_scope",
                f"{server} still wants scope {' '.join(challenge.scopes)!r} after "
                f"{attempts.step_ups} re-authorizations: giving up",
                status=403,
            )
        attempts.step_ups += 1
        wanted = wider_scope(sent, challenge)
        async with self._lock:
            current = await self.storage.load_tokens(self._storage_key)
            if current is not None and (sent is None or current.access_token != sent.access_token):
                if set(wanted.split()) <= set((current.scope or "").split()):
                    return current  # another request stepped up meanwhile
            self._count_authorization(server, attempts, 403)
            tokens = await self._authorize(server, challenge, wanted)
        refused = [s for s in challenge.scopes if s not in (tokens.scope or "").split()]
        if refused:
            # Asking again would only send the user through the same sign-in again.
            raise AuthorizationFailed(
                "insufficient_scope",
                f"{server} needs scope {' '.join(refused)!r}, and the authorization server "
                f"did not grant it (granted: {tokens.scope or 'none'!r}): this user may not "
                "hold it",
                status=403,
            )
        return tokens

    def _count_authorization(self, server: str, attempts: Attempts, status: int) -> None:
        """Count one authorization against the request's budget (`1 + max_step_ups`, those of
        requests cut short before it included), or AuthorizationFailed when it is spent: the
        retry limit the spec asks for ("Scope Challenge Handling"), whatever the timing."""
        limit = 1 + self.max_step_ups
        if attempts.authorizations >= limit:
            raise AuthorizationFailed(
                "insufficient_scope" if status == 403 else "invalid_token",
                f"{server} still refuses (HTTP {status}) after {attempts.authorizations} "
                "authorizations, some of them by requests cancelled before their answer: "
                "giving up",
                status=status,
            )
        attempts.authorizations += 1

    async def _try_refresh(self, server: str, tokens: StoredTokens) -> StoredTokens | None:
        """Refreshed tokens, stored; None when there is no refresh token or the server refuses
        it (then a whole flow follows)."""
        if tokens.refresh_token is None:
            return None
        client = await self._client_for(server, tokens.issuer)
        if client is None:
            return None
        grant = refresh_token_grant(tokens.refresh_token, resource=tokens.resource)
        try:
            async with self._as_client() as http:
                endpoint = await self._token_endpoint(http, server, tokens.issuer)
                answer = await request_token(
                    http,
                    endpoint,
                    grant,
                    self._client_authentication(client),
                    steps=self._token_steps,
                    issuer=tokens.issuer,
                )
        except AuthorizationFailed:
            await self.storage.save_tokens(self._storage_key, None)
            return None
        fresh = self._stored(answer, tokens.resource, tokens.issuer, endpoint)
        if fresh.refresh_token is None:  # RFC 6749 section 6: the old one stays valid
            fresh.refresh_token = tokens.refresh_token
        if fresh.scope is None:
            fresh.scope = tokens.scope
        await self.storage.save_tokens(self._storage_key, fresh)
        return fresh

    async def _token_endpoint(self, http: httpx.AsyncClient, server: str, issuer: str) -> str:
        """Where `issuer` takes token requests, from its metadata (RFC 8414), learned once
        per process; the stored tokens' `token_endpoint` is never used."""
        endpoint = self._token_endpoints.get(issuer)
        if endpoint is None:
            metadata = await discover_authorization_server(http, issuer)
            if metadata is None and issuer.rstrip("/") == origin(server):
                metadata = fallback_metadata(server)  # 2025-03-26: the server's own origin
            if metadata is None or metadata.token_endpoint is None:
                raise AuthorizationFailed(
                    "invalid_issuer", f"{issuer} publishes no token endpoint to refresh at"
                )
            endpoint = self._token_endpoints[issuer] = metadata.token_endpoint
        return endpoint

    async def _client_for(self, server: str, issuer: str) -> ClientInformation | None:
        """The client registered at `issuer` (never one of another authorization server's:
        SEP-2352), to refresh tokens it issued; None when there is none."""
        if self.client is not None:
            return self.client if self.client_issuer in (None, issuer) else None
        stored = await self._stored_client(issuer)
        return None if stored is None else stored.information

    async def _stored_client(self, issuer: str) -> StoredClient | None:
        return await load_issuer_client(self.storage, issuer, legacy_key=self._storage_key)

    # ---------------------------------------------------------------- the flow

    async def _authorize(
        self, server: str, challenge: Challenge | None, scope: str | None
    ) -> StoredTokens:
        """Discovery, registration and the authorization code flow; the new tokens, stored."""
        try:
            async with self._as_client() as http:
                return await self._authorize_with(http, server, challenge, scope)
        finally:
            # A loopback listener must not outlive a flow that failed before its redirect.
            if self._closing is not None:
                await self._closing.aclose()

    async def _authorize_with(
        self, http: httpx.AsyncClient, server: str, challenge: Challenge | None, scope: str | None
    ) -> StoredTokens:
        found = await discover(http, server, challenge)
        metadata = found.authorization_server
        redirect_uri = await self.redirect.redirect_uri()
        client = await self._registered(http, server, metadata, redirect_uri)
        scope = scope or select_scope(challenge, found.resource_metadata)
        grants = client.grant_types or self.client_metadata.grant_types or ["refresh_token"]
        if "refresh_token" in grants:
            scope = with_offline_access(scope, metadata)
        answer = await run_authorization_code(
            http,
            metadata,
            redirect=self.redirect,
            redirect_uri=redirect_uri,
            client_id=client.client_id,
            client_auth=self._client_authentication(client),
            resource=found.resource,
            scope=scope,
            steps=self._token_steps,
        )
        assert metadata.token_endpoint is not None  # checked by run_authorization_code
        if self.client is not None and self.client_issuer is None:
            self.client_issuer = metadata.issuer  # where the app's credentials just worked
        self._token_endpoints[metadata.issuer] = metadata.token_endpoint
        tokens = self._stored(answer, found.resource, metadata.issuer, metadata.token_endpoint)
        if tokens.scope is None:  # RFC 6749 section 5.1: no scope means the one asked for
            tokens.scope = scope
        await self.storage.save_tokens(self._storage_key, tokens)
        return tokens

    async def _registered(
        self,
        http: httpx.AsyncClient,
        server: str,
        metadata: AuthorizationServerMetadata,
        redirect_uri: str,
    ) -> ClientInformation:
        """The client to authorize as at the authorization server `metadata` describes: the
        app's own when it gave one (and it is for this issuer), else the registration kept
        for this issuer, else a new one, kept under the issuer (for refreshes after a restart).
        A registration at another authorization server is never used here: when the server's
        authorization server changes, the client registers anew (spec: "Authorization Server
        Binding")."""
        if self.client is not None:
            self._check_client_issuer(server, metadata.issuer)
            return self.client
        stored = await self._stored_client(metadata.issuer)
        client, _ = await choose_client(
            http,
            metadata,
            redirect_uri=redirect_uri,
            client_metadata=self.client_metadata,
            client_id_metadata_url=self.client_id_metadata_url,
            stored=stored,
        )
        keep = StoredClient(issuer=metadata.issuer, information=client)
        if keep != stored:
            await self.storage.save_client(metadata.issuer, keep)
        return client

    def _check_client_issuer(self, server: str, issuer: str) -> None:
        """Pre-registered credentials belong to one authorization server: an error rather than
        sending them to another (spec: "Authorization Server Binding")."""
        assert self.client is not None
        if self.client_issuer is not None and self.client_issuer != issuer:
            raise AuthorizationFailed(
                "invalid_client",
                f"the client {self.client.client_id!r} is registered at {self.client_issuer}, "
                f"but {server} is now authorized by {issuer}: register a client there and "
                "pass it as OAuth(client=..., client_issuer=...)",
            )

    def _stored(
        self, answer: TokenResponse, resource: str, issuer: str, token_endpoint: str
    ) -> StoredTokens:
        expires_at = self._expires_at(answer, issuer)
        return StoredTokens(
            access_token=answer.access_token,
            resource=resource,
            issuer=issuer,
            token_endpoint=token_endpoint,
            refresh_token=answer.refresh_token,
            expires_at=expires_at,
            scope=answer.scope,
        )
