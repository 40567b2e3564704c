"""A fake MCP server and authorization server for the OAuth client's tests, as one function
from `httpx.Request` to `httpx.Response` (for `httpx.MockTransport`) that an ASGI wrapper can
also serve: protected resource metadata, authorization server metadata, registration, an
authorization endpoint that approves at once, a token endpoint with refresh, and an MCP
endpoint that wants a bearer token with the right scopes. Every request is recorded."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import msgspec

MCP = "https://mcp.example.com/mcp"
ISSUER = "https://auth.example.com"
PRM_PATH = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


@dataclass
class Grant:
    client_id: str
    scope: str
    resource: str


@dataclass
class World:
    """Settings (change them before the first request) and the state of both servers."""

    mcp: str = MCP
    prm_in_header: bool = True
    #: Where the protected resource metadata is served; None: the path-inserted URL.
    prm_urls: tuple[str, ...] | None = None
    #: The metadata's `resource`; None: `mcp`.
    prm_resource: str | None = None
    issuer: str = ISSUER
    #: Where the authorization server metadata is served; None: the RFC 8414 URL.
    as_metadata_urls: tuple[str, ...] | None = None
    #: The metadata's `issuer`; None: `issuer`.
    as_issuer_in_metadata: str | None = None
    metadata_extra: dict[str, Any] = field(default_factory=dict[str, Any])
    challenge_scope: str | None = "mcp:read"
    scopes_supported: list[str] | None = field(default_factory=lambda: ["mcp:read"])
    #: The scope each MCP request needs (beyond a valid token).
    needed_scope: set[str] = field(default_factory=lambda: {"mcp:read"})
    #: What the 403 asks for; None: the needed scopes.
    step_up_scope: str | None = None
    #: Scopes the authorization server never grants, whoever asks (they are roles).
    withheld: set[str] = field(default_factory=set[str])
    expires_in: int | None = 3600
    send_iss: bool = True
    forged_iss: str | None = None
    forged_state: str | None = None
    seen: list[httpx.Request] = field(default_factory=list[httpx.Request])
    clients: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    codes: dict[str, tuple[Grant, str, str]] = field(default_factory=dict[str, Any])
    tokens: dict[str, Grant] = field(default_factory=dict[str, Grant])
    refresh_tokens: dict[str, Grant] = field(default_factory=dict[str, Grant])
    revoked_all: bool = False
    refuse_all: bool = False

    @property
    def prm_path(self) -> str:
        url = httpx.URL(self.mcp)
        return str(url.copy_with(path="/.well-known/oauth-protected-resource" + url.path))

    # ---------------------------------------------------------------- routing

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: an httpx.Auth re-sends the same request object with new headers.
        copy = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.content
        )
        self.seen.append(copy)
        url = str(request.url.copy_with(query=None))
        if url in (self.prm_urls if self.prm_urls is not None else (self.prm_path,)):
            return self._json(self._prm())
        rfc8414 = (f"{self.issuer}/.well-known/oauth-authorization-server",)
        if url in (self.as_metadata_urls if self.as_metadata_urls is not None else rfc8414):
            return self._json(self._as_metadata())
        if url == f"{self.issuer}/register" and request.method == "POST":
            return self._register(request)
        if url == f"{self.issuer}/authorize":
            return self._authorize(request)
        if url == f"{self.issuer}/token" and request.method == "POST":
            return self._token(request)
        if url.startswith(self.mcp):
            return self.check_mcp(request) or self._json({"ok": True})
        return httpx.Response(404, json={"error": "not_found"})

    def urls(self) -> list[str]:
        return [str(r.url.copy_with(query=None)) for r in self.seen]

    def requests_to(self, url: str) -> list[httpx.Request]:
        return [r for r in self.seen if str(r.url.copy_with(query=None)) == url]

    @staticmethod
    def _json(data: Any, status: int = 200) -> httpx.Response:
        return httpx.Response(status, content=msgspec.json.encode(data))

    def _prm(self) -> dict[str, Any]:
        resource = self.prm_resource or self.mcp
        doc: dict[str, Any] = {"resource": resource, "authorization_servers": [self.issuer]}
        if self.scopes_supported is not None:
            doc["scopes_supported"] = self.scopes_supported
        return doc

    def _as_metadata(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "issuer": self.as_issuer_in_metadata or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "registration_endpoint": f"{self.issuer}/register",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": self.send_iss,
        }
        doc.update(self.metadata_extra)
        return {k: v for k, v in doc.items() if v is not None}

    # ------------------------------------------------------------ the servers

    def _register(self, request: httpx.Request) -> httpx.Response:
        body = msgspec.json.decode(request.content)
        client_id = f"client-{len(self.clients) + 1}"
        self.clients[client_id] = body
        return self._json({**body, "client_id": client_id}, 201)

    def _authorize(self, request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(8)
        scope = " ".join(s for s in q.get("scope", "").split() if s not in self.withheld)
        grant = Grant(q["client_id"], scope, q["resource"])
        self.codes[code] = (grant, q["code_challenge"], q["redirect_uri"])
        answer = {"code": code, "state": self.forged_state or q["state"]}
        if self.send_iss or self.forged_iss:
            answer["iss"] = self.forged_iss or self.issuer
        return httpx.Response(302, headers={"location": f"{q['redirect_uri']}?{urlencode(answer)}"})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form["grant_type"] == "authorization_code":
            grant, challenge, redirect_uri = self.codes.pop(form["code"])
            verifier = form["code_verifier"].encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if digest.decode() != challenge or form["redirect_uri"] != redirect_uri:
                return self._json({"error": "invalid_grant"}, 400)
        elif form["grant_type"] == "refresh_token":
            found = self.refresh_tokens.pop(form["refresh_token"], None)
            if found is None or self.revoked_all:
                return self._json({"error": "invalid_grant"}, 400)
            grant = found
        else:
            return self._json({"error": "unsupported_grant_type"}, 400)
        if form.get("resource") != grant.resource:
            return self._json({"error": "invalid_target"}, 400)
        access, refresh = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
        self.tokens[access] = grant
        self.refresh_tokens[refresh] = grant
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
        answer.update(refresh_token=refresh, scope=grant.scope)
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return self._json(answer)

    def check_mcp(self, request: httpx.Request) -> httpx.Response | None:
        """The refusal the MCP endpoint answers `request` with, or None when it may pass."""
        auth = request.headers.get("authorization", "")
        grant = (
            self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if grant is None or self.revoked_all or self.refuse_all:
            params: list[str] = []
            if self.prm_in_header:
                params.append(f'resource_metadata="{self.prm_path}"')
            if self.challenge_scope:
                params.append(f'scope="{self.challenge_scope}"')
            challenge = "Bearer " + ", ".join(params) if params else "Bearer"
            return httpx.Response(401, headers={"www-authenticate": challenge})
        if not self.needed_scope <= set(grant.scope.split()):
            wanted = self.step_up_scope or " ".join(sorted(self.needed_scope))
            challenge = f'Bearer error="insufficient_scope", scope="{wanted}"'
            return httpx.Response(403, headers={"www-authenticate": challenge})
        return None


def mock_client(world: World, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth)
