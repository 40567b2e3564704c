"""An OpenID provider double for `JwtVerifier.from_issuer` and the token exchange tests, served
by real uvicorn on 127.0.0.1: discovery (OpenID Connect or RFC 8414, at a path or not), a JWKS
it can rotate, and a token endpoint answering RFC 8693 exchanges for one confidential client."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from _verify_servers import _body, _client_of, _lifespan, _send
from _verify_tokens import EC
from joserfc import jwt
from joserfc.jwk import Key

Send = Any
Receive = Any
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
OBO = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


class Provider:
    """`issuer` is set once served (`base + path`); `where` picks the discovery document's
    location ("oidc" or "rfc8414"); `claimed_issuer` overrides the issuer it states;
    `metadata_padding` bloats the document; `hits` counts requests per path."""

    def __init__(self, path: str = "", keys: tuple[Key, ...] = (EC,)) -> None:
        self.path = path
        self.base = ""
        self.where = "oidc"
        self.claimed_issuer: str | None = None
        self.metadata_padding = 0
        self.keys: Sequence[Key] = keys
        self.signer: Key = keys[0]
        self.hits: dict[str, int] = {}
        self.client: tuple[str, str] = ("mcp-server", "server-secret")
        self.exchanges: list[dict[str, str]] = []
        self.exchange_answer: dict[str, Any] | None = None
        self.expires_in = 300

    @property
    def issuer(self) -> str:
        return self.base + self.path

    def token(self, **claims: Any) -> str:
        """An access token issued now by this provider, signed by `signer`."""
        now = int(time.time())
        found = {"iss": self.issuer, "sub": "alice", "iat": now, "exp": now + 300, **claims}
        return jwt.encode(
            {"alg": "ES256", "kid": self.signer.kid, "typ": "at+jwt"}, found, self.signer
        )

    def metadata(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "issuer": self.claimed_issuer or self.issuer,
            "jwks_uri": self.base + "/jwks",
            "token_endpoint": self.base + "/token",
            "grant_types_supported": ["authorization_code", EXCHANGE],
        }
        if self.metadata_padding:
            found["padding"] = "x" * self.metadata_padding
        return found

    def metadata_path(self) -> str:
        if self.where == "oidc":
            return self.path + "/.well-known/openid-configuration"
        return "/.well-known/oauth-authorization-server" + self.path

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        path = scope["path"]
        self.hits[path] = self.hits.get(path, 0) + 1
        body = await _body(receive)
        if path == self.metadata_path():
            await _send(send, 200, json.dumps(self.metadata()).encode())
        elif path == "/jwks":
            keys = [key.as_dict(private=False) for key in self.keys]
            await _send(send, 200, json.dumps({"keys": keys}).encode())
        elif path == "/token":
            await self._token(scope, body, send)
        else:
            await _send(send, 404, b'{"error": "not_found"}')

    async def _token(self, scope: dict[str, Any], body: bytes, send: Send) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        _, credentials = _client_of(scope, form)
        self.exchanges.append(form)
        if credentials != self.client:
            await _send(send, 401, b'{"error": "invalid_client"}')
            return
        exchange = form.get("grant_type") == EXCHANGE and "subject_token" in form
        obo = form.get("grant_type") == OBO and form.get("requested_token_use") == "on_behalf_of"
        if not (exchange or (obo and "assertion" in form)):
            await _send(send, 400, b'{"error": "unsupported_grant_type"}')
            return
        answer = self.exchange_answer or {
            "access_token": self.token(
                aud=form.get("audience", ""), scope=form.get("scope", ""), act={"sub": "mcp"}
            ),
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        await _send(send, 200, json.dumps(answer).encode())
