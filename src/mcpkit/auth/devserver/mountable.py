"""What mcpkit's authorization servers (the development one, the authorization front) share
as ASGI apps mounted beside an MCP endpoint: their routes, the issuer a client sees, the
`ProtectedResource` that points at them, request dispatch, and form bodies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Generic, Protocol, Self, TypeVar
from urllib.parse import urlsplit

from mcpkit._asgi import Receive, Scope, Send, send_whole
from mcpkit.auth.devserver._http import (
    PREFLIGHT,
    Form,
    Refused,
    parse_form,
    read_body,
    request_origin,
    require_content_type,
    require_method,
    send_json,
    send_refused,
)
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import TokenVerifier

__all__ = ["AS_METADATA", "OPENID_CONFIGURATION", "Handler", "MountedServer"]

#: The well-known paths of the metadata (RFC 8414, OpenID Connect discovery).
AS_METADATA: Final = "/.well-known/oauth-authorization-server"
OPENID_CONFIGURATION: Final = "/.well-known/openid-configuration"

#: An endpoint's handler.
Handler = Callable[[Scope, Receive, Send], Any]


class _Settings(Protocol):
    @property
    def issuer(self) -> str | None: ...
    @property
    def prefix(self) -> str: ...
    @property
    def scopes(self) -> tuple[str, ...] | None: ...
    @property
    def max_body_size(self) -> int: ...


S = TypeVar("S", bound=_Settings)


class MountedServer(Generic[S]):
    """The base of an authorization server app: `_handlers` maps each path to its handler."""

    settings: S
    key: SigningKey
    _handlers: dict[str, Handler]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app: each server answers its lifespan and requests its own way."""
        raise NotImplementedError

    @property
    def routes(self) -> Mapping[str, Self]:
        """Every path this server answers, each mapped to this app (for mounting)."""
        return MappingProxyType(dict.fromkeys(self._handlers, self))

    def issuer(self, origin: str) -> str:
        """The issuer as seen by a client that reached this server at `origin`."""
        configured = self.settings.issuer
        return configured.rstrip("/") if configured else origin + self.settings.prefix

    def _issuer_of(self, resource: str) -> str:
        parts = urlsplit(resource)
        return self.issuer(f"{parts.scheme}://{parts.netloc}")

    def _protected(
        self,
        verifier: TokenVerifier,
        required_scopes: Sequence[str],
        scopes_supported: Sequence[str] | None,
        resource: str | None,
        resource_name: str | None,
    ) -> ProtectedResource:
        """The `ProtectedResource` of an MCP endpoint on this server's origin, pointing at it
        (`scopes_supported` defaulting to the scopes it grants)."""
        if scopes_supported is None and self.settings.scopes is not None:
            scopes_supported = list(self.settings.scopes)
        issuer, prefix = self.settings.issuer, self.settings.prefix
        return ProtectedResource(
            verifier=verifier,
            # None: the origin the client used, as the issuer is when not configured.
            authorization_servers=[issuer] if issuer else ([prefix] if prefix else None),
            required_scopes=required_scopes,
            scopes_supported=scopes_supported,
            resource=resource,
            resource_name=resource_name,
            routes=self.routes,
        )

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, admit: Callable[[Scope], None]
    ) -> None:
        """Answer an HTTP request with its path's handler (after `admit`, which may refuse),
        a CORS preflight, or the error it was refused with."""
        handler = self._handlers.get(scope["path"])
        try:
            admit(scope)
            if handler is None:
                raise Refused(
                    "invalid_request", f"nothing is served at {scope['path']}", status=404
                )
            if scope["method"] == "OPTIONS":
                await send_whole(send, 204, b"", PREFLIGHT)
                return
            await handler(scope, receive, send)
        except Refused as refused:
            await send_refused(send, refused)

    def _metadata_document(self, issuer: str) -> dict[str, Any]:
        """The RFC 8414 document this server publishes for `issuer`."""
        raise NotImplementedError

    async def _metadata(self, scope: Scope, receive: Receive, send: Send) -> None:
        require_method(scope, "GET")
        await send_json(send, self._metadata_document(self.issuer(request_origin(scope))))

    async def _jwks(self, scope: Scope, receive: Receive, send: Send) -> None:
        require_method(scope, "GET")
        await send_json(send, self.key.jwks())

    async def _registration(self, scope: Scope, receive: Receive) -> bytes:
        """The body of a registration request (RFC 7591: a POST of JSON)."""
        require_method(scope, "POST")
        require_content_type(scope, b"application/json")
        return await read_body(receive, self.settings.max_body_size)

    def _audiences(self, origin: str, path: str) -> set[str]:
        """What a client assertion's `aud` may be here (RFC 7523 section 3): the issuer, or
        the URL of the endpoint it is sent to."""
        issuer = self.issuer(origin)
        return {issuer.rstrip("/"), issuer + path}

    async def _form(self, scope: Scope, receive: Receive) -> Form:
        require_method(scope, "POST")
        require_content_type(scope, b"application/x-www-form-urlencoded")
        return parse_form(await read_body(receive, self.settings.max_body_size))
