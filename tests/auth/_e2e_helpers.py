"""Helpers the end-to-end authorization tests share: examples/protected.py loaded fresh (a new
development authorization server and key each time), the same server built with clocks and
verifiers a test chooses, a redirect handler that logs in as a named user, and a recorder of
the requests the server saw."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers

from _serving import WAIT, messages_of, serving

from mcpkit import Context, Server
from mcpkit.auth.client import AuthorizationResponse, HeadlessRedirect, OAuth
from mcpkit.auth.devserver import DevAuthorizationServer
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken, TokenVerifier

__all__ = [
    "WAIT",
    "EXAMPLES",
    "LateVerifier",
    "LoginAs",
    "Recorder",
    "forged_signature",
    "load_protected",
    "messages_of",
    "protected_server",
    "serving",
    "stored_tokens",
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_protected() -> ModuleType:
    """examples/protected.py as a new module: its own authorization server, key and tokens."""
    spec = importlib.util.spec_from_file_location("e2e_protected", EXAMPLES / "protected.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def protected_server(auth_server: DevAuthorizationServer, verifier: TokenVerifier) -> Server:
    """examples/protected.py's shape (`whoami`; `rotate_secrets` needs `admin`), its tokens
    checked by `verifier` (one with a test's clock, or introspection) instead of the default."""
    server = Server(
        "protected-e2e",
        auth=ProtectedResource(
            verifier=verifier,
            required_scopes=["mcp"],
            scopes_supported=["mcp", "admin"],
            routes=auth_server.routes,
        ),
    )

    @server.tool()
    def whoami(ctx: Context) -> str:
        """The caller's subject and scopes."""
        assert ctx.auth is not None
        return f"{ctx.auth.subject} {' '.join(sorted(ctx.auth.scopes))}"

    @server.tool(scopes=["admin"])
    def rotate_secrets() -> str:
        """Needs `admin`."""
        return "secrets rotated"

    return server


class LateVerifier:
    """A verifier whose target is set once the server's port is known (introspection needs
    the endpoint's URL, which an ephemeral port decides)."""

    def __init__(self) -> None:
        self.target: TokenVerifier | None = None

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        assert self.target is not None, "set LateVerifier.target before the first request"
        return await self.target.verify(token, resource=resource)


class LoginAs(HeadlessRedirect):
    """HeadlessRedirect that asks the development server for `subject` (`login_hint`, which
    the development server turns into the token's `sub`)."""

    def __init__(self, subject: str) -> None:
        super().__init__()
        self.subject = subject

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        hint = urlencode({"login_hint": self.subject})
        return await super().authorize(f"{authorization_url}&{hint}")


class Recorder:
    """An ASGI wrapper that records the method, path and status of every HTTP request."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self.statuses: list[tuple[str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        self.seen.append((scope["method"], path))

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append((path, message["status"]))
            await send(message)

        await self.app(scope, receive, sending)

    def count(self, path: str) -> int:
        return sum(1 for _, seen in self.seen if seen == path)

    def answered(self, path: str) -> list[int]:
        """The statuses `path` was answered with, in order."""
        return [status for seen, status in self.statuses if seen == path]


def forged_signature(auth_server: DevAuthorizationServer, claims: dict[str, Any]) -> str:
    """A token in the development server's form, `kid` included, signed by another key."""
    other = ECKey.generate_key("P-256")
    header = {"alg": "ES256", "typ": "at+jwt", "kid": auth_server.key.kid}
    return jwt.encode(header, claims, other, algorithms=["ES256"])


async def stored_tokens(auth: OAuth) -> Any:
    """What `auth` holds for the server it is bound to."""
    assert auth.server is not None
    found = await auth.storage.load_tokens(auth.server)
    assert found is not None
    return found
