"""The HTTP side of a protected endpoint (spec: basic/authorization): each request's bearer
token checked before any session is touched, the per-item scopes of a call checked before
its body reaches the session, the protected resource metadata served at its well-known URIs
(RFC 9728 section 3), and the other apps of the origin (`ProtectedResource.routes`).

Authorization is a section of the spec of its own, and optional: a deployment that protects
its endpoint puts this in front of it. The Streamable HTTP binding and the legacy HTTP+SSE
endpoint ask it what they need (the token, a body's scopes) as a
`transports.http.live_sessions.TokenGuard`, and import nothing of this package.

It relies on: the resource server's parts (`mcpkit.auth.server`: the verifier, DPoP proofs,
the metadata); of the binding, its refusals (`checks`), the path below a mount point
(`mcpkit._asgi.local_path`); and the server it protects (`hosted_server.HostedServer`), whose
store keeps the DPoP replay cache and whose items say the scopes they need."""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any, Final, cast

import msgspec

from mcpkit._asgi import Receive, Scope, Send, local_path, send_whole, values_of
from mcpkit.auth.metadata import encode
from mcpkit.auth.server.dpop import ProofChecker, RequestProof
from mcpkit.auth.server.resource import (
    WELL_KNOWN,
    ASGIApp,
    AuthFailure,
    ProtectedResource,
    check_host,
    metadata_url,
)
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.stores.component_rules import ComponentRule
from mcpkit.transports.deployment.hosted_server import HostedServer
from mcpkit.transports.http.checks import Refusal, refuse

__all__ = ["Guard", "call_route"]

logger = logging.getLogger("mcpkit.http")

_JSON: Final = (b"content-type", b"application/json")
# The metadata is public and read by browser-based clients too: any origin may GET it.
_CORS: Final = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, OPTIONS"),
    (b"access-control-allow-headers", b"mcp-protocol-version"),
)
# The requests that name one item, and the params field that names it.
_TARGETS: Final = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    "resources/subscribe": "uri",
}


_ANY_JSON: Final[msgspec.json.Decoder[Any]] = msgspec.json.Decoder()


def _targets(body: bytes) -> list[tuple[str, str]]:
    """The (method, item) pairs a body's requests name: each message of a batch on its own,
    so one malformed element does not hide the others, and an item given as another JSON
    type than a string (`"uri": 5`) as its JSON text, as the session would see it named."""
    try:
        found: Any = _ANY_JSON.decode(body)
    except (msgspec.DecodeError, RecursionError):  # too deep, or not JSON: the session
        return []  # refuses it with the error the spec names
    pairs: list[tuple[str, str]] = []
    messages: list[Any] = found if isinstance(found, list) else [found]  # pyright: ignore[reportUnknownVariableType]
    for message in messages:
        if not isinstance(message, dict):
            continue
        fields = cast("dict[str, Any]", message)
        method, params = fields.get("method"), fields.get("params")
        name = _TARGETS.get(method) if isinstance(method, str) else None
        if name is None or not isinstance(params, dict):
            continue
        target = cast("dict[str, Any]", params).get(name)
        if isinstance(method, str) and target is not None:
            text = target if isinstance(target, str) else msgspec.json.encode(target).decode()
            pairs.append((method, text))
    return pairs


class Guard:
    """`auth` applied to the endpoint at `path` of `server`."""

    def __init__(self, auth: ProtectedResource, path: str, server: HostedServer) -> None:
        self.auth = auth
        self.path = path
        self.server = server
        paths = {WELL_KNOWN, WELL_KNOWN + path.rstrip("/")}
        if auth.resource is not None:
            paths.add(urllib.parse.urlsplit(metadata_url(auth.resource)).path)
        self.metadata_paths = frozenset(paths)
        self.routes = sorted(auth.routes.items(), key=lambda item: len(item[0]), reverse=True)
        self._proofs: ProofChecker | None = None

    def _where(self, scope: Scope) -> tuple[str, str] | Refusal:
        """The origin the client used and the canonical URI of the endpoint."""
        hosts = values_of(scope["headers"], b"host")
        host = check_host(hosts[0]) if len(hosts) == 1 else None
        if host is None:
            return refuse(400, "the Host header is missing or malformed: send one host[:port]")
        scheme = "https" if scope.get("scheme") == "https" else "http"
        return f"{scheme}://{host}", self.auth.resource_for(scheme, host, self.path)

    # ---------------------------------------------------------------- requests

    async def admit(self, scope: Scope) -> AccessToken | Refusal:
        """The request's verified token, or the 400/401/403/503 refusal to send."""
        where = self._where(scope)
        if isinstance(where, Refusal):
            return where
        headers = scope["headers"]
        proof = RequestProof(
            self._proof_checker(),
            scope["method"],
            self.auth.request_url(where[1], self.path, local_path(scope)),
            values_of(headers, b"dpop"),
        )
        found = await self.auth.authenticate(values_of(headers, b"authorization"), where[1], proof)
        if isinstance(found, AuthFailure):
            return _refusal(found, where[1])
        return found

    def _proof_checker(self) -> ProofChecker:
        """The DPoP proof checker, made at the first request with the server's store (its
        replay cache and shared secrets hold across the processes sharing it)."""
        if self._proofs is None:
            store = self.server.store
            self._proofs = self.auth.proof_checker(store.replay, store.secrets)
        return self._proofs

    def check_scopes(
        self,
        scope: Scope,
        token: AccessToken,
        body: bytes,
        session_rules: tuple[ComponentRule, ...] = (),
    ) -> Refusal | None:
        """403 when `body` calls, reads or gets an item needing scopes `token` lacks (spec:
        "Runtime Insufficient Scope Errors"); None otherwise, or when the body is not
        JSON-RPC (the session answers that). An item the request may not see (hidden by
        the rules of its session, `session_rules`, or per request) is left to the session,
        which answers it as unknown: a 403 would say it exists."""
        needed: list[str] = []
        for method, target in _targets(body):
            needed.extend(self.server.scopes_for(method, target, session_rules))
        missing = [s for s in dict.fromkeys(needed) if s not in token.scopes]
        if not missing:
            return None
        where = self._where(scope)
        if isinstance(where, Refusal):
            return where
        logger.info("refused a call needing scopes %s", " ".join(missing))
        return _refusal(self.auth.insufficient(token, missing), where[1])

    # ----------------------------------------------------- the rest of the origin

    async def serve_metadata(self, scope: Scope, send: Send) -> bool:
        """Answer a request for the metadata (GET, or a CORS preflight); False when the path
        is not one of its well-known URIs. No token is needed: it tells how to get one."""
        if scope["path"] not in self.metadata_paths:
            return False
        method = scope["method"]
        if method == "OPTIONS":
            await send_whole(send, 204, b"", _CORS)
            return True
        if method != "GET":
            refusal = refuse(405, "use GET", headers=((b"allow", b"GET, OPTIONS"),))
            await send_whole(send, 405, refusal.body, refusal.headers)
            return True
        where = self._where(scope)
        if isinstance(where, Refusal):
            await send_whole(send, where.status, where.body, where.headers)
            return True
        body = encode(self.auth.metadata(where[1], where[0]))
        headers = (_JSON, *_CORS, (b"cache-control", b"max-age=300"))
        await send_whole(send, 200, body, headers)
        return True

    def route(self, scope: Scope) -> tuple[str, ASGIApp] | None:
        """The app of `routes` serving the request's path (longest prefix), with its prefix."""
        path: str = scope["path"]
        for prefix, app in self.routes:
            bare = prefix.rstrip("/")
            if not bare or path == bare or path.startswith(bare + "/"):
                return bare, app
        return None


async def call_route(prefix: str, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Hand a request to a mounted app: `path` stays whole, `root_path` gains the prefix (ASGI
    3: an app mounted below a prefix reads its own path as `path` minus `root_path`)."""
    inner = dict(scope)
    inner["root_path"] = str(scope.get("root_path", "")) + prefix
    await app(inner, receive, send)


def _refusal(failure: AuthFailure, resource: str) -> Refusal:
    headers = [_JSON, *failure.headers(metadata_url(resource))]
    if failure.status == 503:
        headers.append((b"retry-after", b"5"))
    return Refusal(failure.status, failure.description, failure.body(), tuple(headers))
