"""`AuthorizationFront`: an OAuth 2.1 authorization server for MCP clients, as an ASGI app
mounted beside the MCP endpoint, that signs users in with an upstream provider through the
front's own pre-registered client there; its routes, metadata, `protect()` and `verifier()`."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit._asgi import Receive, Scope, Send, send_whole
from mcpkit.auth.devserver._http import (
    answer_lifespan,
    parse_form,
    request_origin,
    require_method,
    send_json,
)
from mcpkit.auth.devserver.app import source_of
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.devserver.mountable import (
    AS_METADATA,
    OPENID_CONFIGURATION,
    Handler,
    MountedServer,
)
from mcpkit.auth.front.as_metadata import front_metadata
from mcpkit.auth.front.client_registry import StoredClients
from mcpkit.auth.front.front_settings import FrontSettings
from mcpkit.auth.front.leg import UpstreamLeg
from mcpkit.auth.front.signin import BROWSER_COOKIE, Answer, SignIn
from mcpkit.auth.front.state import FrontState
from mcpkit.auth.front.token_endpoint import FrontGrants
from mcpkit.auth.front.upstream import UpstreamProvider
from mcpkit.auth.front.verification import Caller, GrantCheckingVerifier, upstream_token
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import TokenVerifier
from mcpkit.stores.kv import KeyValueStore

__all__ = ["AuthorizationFront", "workers_refusal"]

# Set by `mcpkit run --workers N` in each worker (mcpkit.server.serving._workers.WORKER).
_WORKER_VARIABLE: Final = "MCPKIT_WORKER"
_MAX_COOKIE_BYTES: Final = 16384
_COOKIE_VALUE: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what secrets.token_urlsafe gives
_ONE_KEY: Final = (
    "several workers need one signing key: give key= a PEM or JWK file "
    "(SigningKey().save(path) writes one), or serve with --workers 1"
)


class AuthorizationFront(MountedServer[FrontSettings]):
    """An authorization server for MCP clients in front of `upstream`, a provider that lets
    them neither register nor use metadata documents: mount it beside the MCP endpoint
    (`server.auth = front.protect(server)`).

    `key` signs the front's tokens and seals what it keeps: a `SigningKey`, a PEM or JWK (text,
    mapping, or a file's path); None generates one for this process, which is refused when
    several workers serve (each would sign with its own). Its state lives in `store` (a
    `KeyValueStore`), else in the store of the server given to `protect`."""

    def __init__(
        self,
        upstream: UpstreamProvider,
        settings: FrontSettings | None = None,
        *,
        key: SigningKey | str | os.PathLike[str] | Mapping[str, Any] | None = None,
        store: KeyValueStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings = settings or FrontSettings()
        self.upstream = upstream
        if key is None and os.environ.get(_WORKER_VARIABLE):
            raise SystemExit(f"AuthorizationFront: {_ONE_KEY}")
        self.key_given = key is not None
        self.key = (
            key if isinstance(key, SigningKey) else SigningKey.load(key) if key else SigningKey()
        )
        _check_mode(settings, upstream)
        self._store, self._server = store, None
        self._verifiers: list[JwtVerifier] = []
        self._state = FrontState(
            self._kv,
            self.key.derive_secret(b"mcpkit front store"),
            settings.max_bytes_per_source,
            settings.max_bytes_per_user,
        )
        policy = settings.client_policy()
        self._clients = StoredClients(
            policy, clock, self._state, settings.client_ttl, settings.unused_client_ttl
        )
        self._leg = UpstreamLeg(
            upstream,
            timeout=settings.upstream_timeout,
            max_bytes=settings.max_upstream_bytes,
            http_client=http_client,
            clock=clock,
        )
        self._signin = SignIn(settings, policy, self._clients, self._state, self._leg)
        self._grants = FrontGrants(settings, self._state, self._leg, self.key, clock)
        self._clock = clock
        self._handlers = self._routes()

    def _routes(self) -> dict[str, Handler]:
        prefix, paths = self.settings.prefix, self.settings.paths
        handlers: dict[str, Handler] = {
            AS_METADATA + prefix: self._metadata,
            prefix + OPENID_CONFIGURATION: self._metadata,
            prefix + paths.authorize: self._authorize,
            prefix + paths.consent: self._consent,
            prefix + paths.callback: self._callback,
            prefix + paths.token: self._token,
            prefix + paths.revoke: self._revoke,
            prefix + paths.jwks: self._jwks,
        }
        if self.settings.allow_registration:
            handlers[prefix + paths.register] = self._register
        return handlers

    def callback_url(self, origin: str) -> str:
        """The redirect URI to register for the front's client at the provider."""
        return self.issuer(origin) + self.settings.paths.callback

    def verifier(self, **options: Any) -> TokenVerifier:
        """The verifier of the tokens MCP clients present: the front's own (signature, issuer,
        audience, and their grant still live) or, in pass-through mode, the provider's
        (issuer, `UpstreamProvider.audience`). `options` go to `JwtVerifier`."""
        upstream = self.upstream
        if self.settings.tokens == "issue":
            jwt = JwtVerifier(issuer=self._issuer_of, jwks=self.key.jwks(), **options)
            return GrantCheckingVerifier(jwt, self._state)
        assert upstream.issuer is not None and upstream.audience is not None
        if upstream.jwks_url is None:
            found = JwtVerifier.from_issuer(upstream.issuer, audience=upstream.audience, **options)
        else:
            found = JwtVerifier(
                issuer=upstream.issuer,
                jwks_url=upstream.jwks_url,
                audience=upstream.audience,
                **options,
            )
        self._verifiers.append(found)  # it holds an HTTP client for the keys: aclose() ends it
        return found

    def protect(
        self,
        server: Any = None,
        *,
        required_scopes: Sequence[str] = (),
        scopes_supported: Sequence[str] | None = None,
        resource: str | None = None,
        resource_name: str | None = None,
    ) -> ProtectedResource:
        """Protect `server` with this front mounted beside its MCP endpoint on the same origin:
        `server.auth = front.protect(server)`. The front keeps its state in that server's
        store (unless `store=` was given). The other arguments are `ProtectedResource`'s."""
        if server is not None:
            self._server = server
        return self._protected(
            self.verifier(), required_scopes, scopes_supported, resource, resource_name
        )

    def _metadata_document(self, issuer: str) -> dict[str, Any]:
        return front_metadata(self.settings, issuer)

    async def upstream_token(self, ctx: Caller) -> str:
        """The provider's access token of the user whose request `ctx` serves, for calling
        the provider's API as them (renewed when about to expire); never sent to the client.
        `mcpkit.auth.front.UpstreamTokenUnavailable` when there is none."""
        return await upstream_token(ctx, self._state, self._leg, self._grants, self._clock)

    async def aclose(self) -> None:
        """Close the HTTP clients the front made for the provider (its endpoints, and the
        keys of pass-through verifiers)."""
        await self._leg.aclose()
        for verifier in self._verifiers:
            await verifier.aclose()

    def _kv(self) -> KeyValueStore:
        if self._store is not None:
            return self._store
        if self._server is None:
            raise RuntimeError(
                "AuthorizationFront has no store: use front.protect(server) or store="
            )
        kv: KeyValueStore = self._server.store.kv
        return kv

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send, lambda: None)
            return
        if scope["type"] != "http":
            return
        await self._dispatch(scope, receive, send, lambda _: None)

    async def _authorize(self, scope: Scope, receive: Receive, send: Send) -> None:
        require_method(scope, "GET")
        origin = request_origin(scope)
        browser = _cookie(scope) or secrets.token_urlsafe(32)
        query = parse_form(scope.get("query_string", b""))
        issuer = self.issuer(origin)
        answer = await self._signin.authorize(query, issuer, origin, source_of(scope), browser)
        await _send(send, answer, self._browser_cookie(issuer, browser))

    async def _consent(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        issuer = self.issuer(request_origin(scope))
        await _send(send, await self._signin.consent(form, issuer, _cookie(scope)))

    async def _callback(self, scope: Scope, receive: Receive, send: Send) -> None:
        require_method(scope, "GET")
        query = parse_form(scope.get("query_string", b""))
        issuer = self.issuer(request_origin(scope))
        answer = await self._signin.callback(query, issuer, source_of(scope), _cookie(scope))
        await _send(send, answer)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        origin = request_origin(scope)
        audiences = self._audiences(origin, self.settings.paths.token)
        client = await self._clients.authenticate(scope, form, audiences)
        answer = await self._grants.exchange(form, client, self.issuer(origin))
        await self._clients.keep(client)
        await send_json(send, answer, store=False)

    async def _revoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        form = await self._form(scope, receive)
        audiences = self._audiences(request_origin(scope), self.settings.paths.revoke)
        await self._grants.revoke(form, await self._clients.authenticate(scope, form, audiences))
        await send_whole(send, 200, b"", ())

    async def _register(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._registration(scope, receive)
        client = await self._clients.register_stored(body, source_of(scope))
        await send_json(send, client, status=201, store=False)

    def _browser_cookie(self, issuer: str, value: str) -> tuple[bytes, bytes]:
        # The issuer's scheme is the browser's: behind a proxy that ends TLS the request
        # itself may arrive as http.
        secure = "; Secure" if issuer.startswith("https://") else ""
        path = self.settings.prefix or "/"
        cookie = (
            f"{BROWSER_COOKIE}={value}; Path={path}; Max-Age={self.settings.pending_ttl}; "
            f"HttpOnly; SameSite=Lax{secure}"
        )
        return (b"set-cookie", cookie.encode())


def _cookie(scope: Scope) -> str | None:
    """The browser cookie's value. Read by hand: `http.cookies` stops at the first cookie it
    cannot parse (a JSON value, a space), and a site's other cookies are not the front's to
    judge; every Cookie header counts (HTTP/2 may send one per cookie)."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, raw in headers:
        if name != b"cookie" or len(raw) > _MAX_COOKIE_BYTES:
            continue
        for pair in raw.decode("latin-1").split(";"):
            key, _, value = pair.strip().partition("=")
            if key == BROWSER_COOKIE and _COOKIE_VALUE.fullmatch(value):
                return value
    return None


async def _send(send: Send, answer: Answer, *extra: tuple[bytes, bytes]) -> None:
    await send_whole(send, answer.status, answer.body, [*answer.headers, *extra])


def _check_mode(settings: FrontSettings, upstream: UpstreamProvider) -> None:
    if settings.tokens == "pass-through" and (upstream.audience is None or upstream.issuer is None):
        raise ValueError(
            "FrontSettings(tokens='pass-through') needs UpstreamProvider(issuer=..., "
            "audience=...): the provider's tokens are checked against its issuer and must "
            "name this server"
        )


def workers_refusal(auth: object, workers: int) -> str | None:
    """Why `workers` processes cannot serve with `auth` (a server's `ProtectedResource`): a
    front among its routes signs with a key of its own process. None when they can."""
    if workers <= 1 or not isinstance(auth, ProtectedResource):
        return None
    for app in auth.routes.values():
        if isinstance(app, AuthorizationFront) and not app.key_given:
            return f"its AuthorizationFront: {_ONE_KEY}"
    return None
