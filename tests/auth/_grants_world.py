"""A fake MCP server, authorization server and enterprise IdP for the tests of the grants without
a browser, as one function for `httpx.MockTransport`: it checks what the client sends as the
conformance scenarios do (client authentication, assertions verified with joserfc, DPoP proofs
and their nonces, token exchange parameters) and records every request."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, import_key

from mcpkit.auth.client.dpop import access_token_hash

MCP = "https://mcp.example.com/mcp"
ISSUER = "https://auth.example.com"
IDP = "https://idp.example.com"
PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ID = "machine"
SECRET = "s3cret"


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def verify_proof(
    proof: str, method: str, url: str, *, token: str | None = None
) -> tuple[dict[str, Any], str]:
    """The claims of a valid DPoP proof (RFC 9449 section 4.3) and its key's thumbprint;
    AssertionError naming what is wrong otherwise."""
    header = header_of(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256", header
    assert "d" not in header["jwk"], "a private key in the proof"
    key = import_key(header["jwk"], "EC")
    claims = dict(jwt.decode(proof, key, algorithms=["ES256"]).claims)
    assert claims["htm"] == method and claims["htu"] == url, claims
    assert abs(claims["iat"] - time.time()) < 60 and len(claims["jti"]) >= 16
    if token is None:
        assert "ath" not in claims
    else:
        assert claims["ath"] == access_token_hash(token)
    return claims, str(key.thumbprint())


@dataclass
class Issued:
    scope: str | None
    jkt: str | None


@dataclass
class GrantsWorld:
    """Settings (change them before the first request) and what the servers saw."""

    #: How the token endpoint authenticates clients: none, basic, post or private_key_jwt.
    client_auth: str = "basic"
    #: The client's public key when it uses private_key_jwt.
    client_key: ECKey | None = None
    #: The key that signs workload identity tokens and IdP ID tokens the fakes accept.
    assertion_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256"))
    grant_type: str = "client_credentials"
    scopes_supported: list[str] = field(default_factory=lambda: ["mcp"])
    dpop: bool = False
    as_nonce: str | None = None
    rs_nonce: str | None = None
    #: Error the token endpoint answers with (RFC 6749 section 5.2), if any.
    token_error: str | None = None
    expires_in: int = 3600
    #: A scope every MCP request needs (403 insufficient_scope without it), if any.
    required_scope: str | None = None
    #: The scope every token gets whatever was asked (None: what was asked).
    granted_scope: str | None = None
    #: What the IdP answers instead of an ID-JAG (status, body), if set.
    idp_answer: tuple[int, dict[str, Any]] | None = None
    seen: list[httpx.Request] = field(default_factory=list[httpx.Request])
    issued: dict[str, Issued] = field(default_factory=dict[str, Issued])
    jtis: set[str] = field(default_factory=set[str])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        copy = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.content
        )
        self.seen.append(copy)
        url = str(request.url.copy_with(query=None))
        if url == PRM:
            return _json(
                {
                    "resource": MCP,
                    "authorization_servers": [ISSUER],
                    "scopes_supported": self.scopes_supported,
                }
            )
        if url == f"{ISSUER}/.well-known/oauth-authorization-server":
            return _json(self._as_metadata())
        if url == f"{ISSUER}/token":
            return self._token(request)
        if url == f"{IDP}/token":
            return self._exchange(request)
        if url == MCP:
            return self._mcp(request)
        return _json({"error": "not_found"}, 404)

    def requests_to(self, url: str) -> list[httpx.Request]:
        return [r for r in self.seen if str(r.url) == url]

    def assertion(self, *, aud: str = ISSUER, exp: int = 300, **claims: Any) -> str:
        """A JWT signed by the trusted `assertion_key` (workload token or IdP ID token)."""
        now = int(time.time())
        body = {
            "iss": "https://wif.example",
            "sub": "workload",
            "aud": aud,
            "iat": now,
            "exp": now + exp,
            "jti": secrets.token_urlsafe(8),
            **claims,
        }
        return jwt.encode({"alg": "ES256"}, body, self.assertion_key, algorithms=["ES256"])

    def _as_metadata(self) -> dict[str, Any]:
        methods = {"basic": "client_secret_basic", "post": "client_secret_post"}
        doc: dict[str, Any] = {
            "issuer": ISSUER,
            "token_endpoint": f"{ISSUER}/token",
            "grant_types_supported": [self.grant_type],
            "token_endpoint_auth_methods_supported": [
                methods.get(self.client_auth, self.client_auth)
            ],
        }
        if self.dpop:
            doc["dpop_signing_alg_values_supported"] = ["ES256"]
        return doc

    # ---------------------------------------------------------------- token endpoint

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        problem = self._authenticate(request, form)
        if problem is not None:
            return _json({"error": "invalid_client", "error_description": problem}, 401)
        if form.get("grant_type") != self.grant_type:
            return _json({"error": "unsupported_grant_type"}, 400)
        if form.get("resource") != MCP:
            return _json({"error": "invalid_target"}, 400)
        if self.grant_type == JWT_BEARER:
            try:
                claims = jwt.decode(form["assertion"], self.assertion_key).claims
                audience: dict[str, Any] = {"essential": True, "value": ISSUER}
                jwt.JWTClaimsRegistry(exp={"essential": True}, aud=audience).validate(claims)
            except Exception as exc:
                return _json({"error": "invalid_grant", "error_description": repr(exc)}, 400)
        if self.token_error is not None:
            return _json({"error": self.token_error}, 400)
        jkt = None
        if self.dpop and "dpop" in request.headers:
            claims, jkt = verify_proof(request.headers["dpop"], "POST", f"{ISSUER}/token")
            if self.as_nonce is not None and claims.get("nonce") != self.as_nonce:
                return _json({"error": "use_dpop_nonce"}, 400, {"DPoP-Nonce": self.as_nonce})
        token = secrets.token_urlsafe(16)
        self.issued[token] = Issued(self.granted_scope or form.get("scope"), jkt)
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_in": self.expires_in,
            "token_type": "DPoP" if jkt else "Bearer",
        }
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return _json(answer)

    def _authenticate(self, request: httpx.Request, form: dict[str, str]) -> str | None:
        if self.client_auth == "none":
            return None if form.get("client_id") == CLIENT_ID else "no client_id"
        if self.client_auth == "basic":
            expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            ok = request.headers.get("authorization") == f"Basic {expected}"
            return None if ok and "client_secret" not in form else "bad Basic credentials"
        if self.client_auth == "post":
            ok = form.get("client_id") == CLIENT_ID and form.get("client_secret") == SECRET
            return None if ok and "authorization" not in request.headers else "bad form secret"
        assert self.client_key is not None
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "wrong client_assertion_type"
        try:
            token = jwt.decode(form["client_assertion"], self.client_key, algorithms=["ES256"])
        except Exception as exc:
            return repr(exc)
        claims = token.claims
        if claims["iss"] != CLIENT_ID or claims["sub"] != CLIENT_ID or claims["aud"] != ISSUER:
            return f"wrong claims {claims}"
        if claims["jti"] in self.jtis or not claims["iat"] < claims["exp"] <= claims["iat"] + 300:
            return "replayed or long-lived assertion"
        self.jtis.add(claims["jti"])
        return None

    # ---------------------------------------------------------------- IdP

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        if self.idp_answer is not None:
            return _json(self.idp_answer[1], self.idp_answer[0])
        form = form_of(request)
        expected = {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "audience": ISSUER,
            "resource": MCP,
            "client_id": "idp-client",
        }
        wrong = {k: form.get(k) for k, v in expected.items() if form.get(k) != v}
        if wrong:
            return _json({"error": "invalid_request", "error_description": str(wrong)}, 400)
        try:
            id_token = jwt.decode(form["subject_token"], self.assertion_key, algorithms=["ES256"])
        except Exception:
            return _json({"error": "invalid_grant"}, 400)
        now = int(time.time())
        jag = jwt.encode(
            {"alg": "ES256", "typ": "oauth-id-jag+jwt"},
            {
                "iss": IDP,
                "sub": id_token.claims["sub"],
                "aud": ISSUER,
                "resource": MCP,
                "client_id": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "jti": secrets.token_hex(8),
            },
            self.assertion_key,
            algorithms=["ES256"],
        )
        return _json(
            {
                "access_token": jag,
                "token_type": "N_A",
                "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            }
        )

    # ---------------------------------------------------------------- MCP endpoint

    def _mcp(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        issued = self.issued.get(token)
        challenge = f'{"DPoP" if self.dpop else "Bearer"} resource_metadata="{PRM}"'
        if issued is None:
            return _json({"error": "unauthorized"}, 401, {"WWW-Authenticate": challenge})
        if issued.jkt is not None:
            assert scheme == "DPoP", f"a bound token sent as {scheme}"
            claims, jkt = verify_proof(request.headers["dpop"], request.method, MCP, token=token)
            assert jkt == issued.jkt, "proof signed by another key than the token is bound to"
            assert claims["jti"] not in self.jtis, "a proof sent twice"
            self.jtis.add(claims["jti"])
            if self.rs_nonce is not None and claims.get("nonce") != self.rs_nonce:
                headers = {
                    "WWW-Authenticate": 'DPoP error="use_dpop_nonce"',
                    "DPoP-Nonce": self.rs_nonce,
                }
                return _json({"error": "use_dpop_nonce"}, 401, headers)
        else:
            assert scheme == "Bearer"
        if self.required_scope and self.required_scope not in (issued.scope or "").split():
            wanted = f'Bearer error="insufficient_scope", scope="{self.required_scope}"'
            return _json({"error": "insufficient_scope"}, 403, {"WWW-Authenticate": wanted})
        return _json({"ok": True, "scope": issued.scope})


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=data, headers=headers)


def mock_http(world: GrantsWorld, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth)
