"""`DevAuthorizationServer`: the development authorization server as a plain ASGI 3 app, its
routes, and the warning that it is not a production identity provider."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mcpkit._asgi import Receive, Scope, Send, send_whole
from mcpkit.auth.devserver._http import (
    Refused,
    answer_lifespan,
    parse_form,
    request_origin,
    require_method,
    send_json,
    send_redirect,
)
from mcpkit.auth.devserver.authorize import Authorizer
from mcpkit.auth.devserver.clients import Clients
from mcpkit.auth.devserver.endpoints import NOT_FOR_PRODUCTION, introspect, metadata, revoke
from mcpkit.auth.devserver.grants import Grants
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.devserver.mountable import (
    AS_METADATA,
    OPENID_CONFIGURATION,
    Handler,
    MountedServer,
)
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import Store
from mcpkit.auth.devserver.tokens import Minter
from mcpkit.auth.metadata import ClientInformation
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource

__all__ = ["DevAuthorizationServer"]

logger = logging.getLogger("mcpkit.auth.devserver")


class DevAuthorizationServer(MountedServer[DevServerSettings]):
    """A development OAuth 2.1 authorization server for MCP, as an ASGI app: serve it alone
    or mount it beside the MCP endpoint (every path in `routes` to this app). It approves
    every request at once: never use it in production.

    `clients` are pre-registered (`ClientInformation`, with `client_secret` for confidential
    ones); `clock` (seconds since the epoch) is for tests of expiry."""

    def __init__(
        self,
        settings: DevServerSettings | None = None,
        *,
        clients: Iterable[ClientInformation] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings = settings or DevServerSettings()
        self.key = SigningKey(settings.algorithm)
        self._clock = clock
        self._store = Store(settings.max_codes, settings.max_tokens, settings.max_codes_per_source)
        self._clients = Clients(settings, clock, clients)
        self._authorizer = Authorizer(settings, self._clients, self._store, clock)
        self._grants = Grants(
            settings, self._store, Minter(settings, self.key, self._store, clock), clock
        )
        self._warned = False
        prefix, paths = settings.prefix, settings.paths
        self._handlers: dict[str, Handler] = {
            AS_METADATA + prefix: self._metadata,
            prefix + OPENID_CONFIGURATION: self._metadata,
            OPENID_CONFIGURATION + prefix: self._metadata,
            prefix + paths.authorize: self._authorize,
            prefix + paths.token: self._token,
            prefix + paths.revoke: self._revoke,
            prefix + paths.introspect: self._introspect,
            prefix + paths.jwks: self._jwks,
        }
        if settings.allow_registration:
            self._handlers[prefix + paths.register] = self._register

    def verifier(self, **options: Any) -> JwtVerifier:
        """A `JwtVerifier` for this server's tokens, checked in process against its own key
        (no JWKS fetch): the issuer is the one a client reaching the resource's origin sees.
        `options` go to `JwtVerifier` (`required_scopes`, `leeway`...)."""
        return JwtVerifier(issuer=self._issuer_of, jwks=self.key.jwks(), **options)

    def protect(
        self,
        *,
        required_scopes: Sequence[str] = (),
        scopes_supported: Sequence[str] | None = None,
        resource: str | None = None,
        resource_name: str | None = None,
    ) -> ProtectedResource:
        """Protect a server with this development authorization server, mounted beside its
        MCP endpoint on the same origin: `Server(name, auth=dev.protect(...))`. Tokens are
        checked with `verifier()`; clients discover this server through the endpoint's
        protected resource metadata. `scopes_supported` defaults to the scopes this server
        grants (`DevServerSettings.scopes`), else the required ones."""
        return self._protected(
            self.verifier(), required_scopes, scopes_supported, resource, resource_name
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send, self._warn_once)
            return
        if scope["type"] != "http":
            return
        self._warn_once()
        await self._dispatch(scope, receive, send, self._admit)

    def _admit(self, scope: Scope) -> None:
        if not self.settings.insecure_serve_network and not _over_loopback(scope):
            raise Refused(
                "access_denied",
                "the development authorization server answers this machine only (it "
                "approves everyone): set DevServerSettings(insecure_serve_network=True) "
                "to serve the network anyway",
                status=403,
            )

    def _metadata_document(self, issuer: str) -> dict[str, Any]:
        return metadata(self.settings, issuer)

    def _warn_once(self) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("%s", NOT_FOR_PRODUCTION)

    async def _authorize(self, scope: Scope, receive: Receive, send: Send) -> None:
        require_method(scope, "GET")
        origin = request_origin(scope)
        query = parse_form(scope.get("query_string", b""))
        location = await self._authorizer.authorize(
            query, self.issuer(origin), origin, source_of(scope)
        )
        await send_redirect(send, location)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        origin = request_origin(scope)
        client = await self._clients.authenticate(
            scope, form, self._audiences(origin, self.settings.paths.token)
        )
        answer = self._grants.exchange(form, client, self.issuer(origin), origin)
        await send_json(send, answer, store=False)

    async def _register(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._registration(scope, receive)
        client = self._clients.register(body, source_of(scope))
        await send_json(send, client, status=201, store=False)

    async def _revoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        audiences = self._audiences(request_origin(scope), self.settings.paths.revoke)
        revoke(self._store, form, await self._clients.authenticate(scope, form, audiences))
        await send_whole(send, 200, b"", ())

    async def _introspect(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        client = await self._clients.authenticate(scope, form)
        # A configured client (a resource server) may ask about any token; a registered one
        # only about its own: anyone may register a confidential client.
        trusted = self._clients.configured(client.client_id)
        answer = introspect(self._store, form, client, self._clock, trusted=trusted)
        await send_json(send, answer, store=False)


def source_of(scope: Scope) -> str:
    """Who asked: the client's host, as the ASGI server gives it (what the per-source caps
    count); "?" when it gives none."""
    client = scope.get("client")
    return "?" if not client else str(client[0])


def _over_loopback(scope: Scope) -> bool:
    """Whether the request reached a loopback address of this machine (ASGI `server`: the
    local address the connection arrived on; unknown, as in-process, counts as loopback)."""
    server = scope.get("server")
    if not server or not server[0]:
        return True
    host = str(server[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a Unix socket path, or an in-process transport's name
