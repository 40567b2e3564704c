"""The "Verifying tokens" section of docs/auth.md, held here as the text the docs will show:
each of its Python blocks runs as written, against a JWKS or introspection endpoint served by
uvicorn on 127.0.0.1 (standing in for https://auth.example.com)."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import re
from typing import Any

import pytest
from _serving import serving
from _verify_servers import WAIT, IntrospectionEndpoint, JwksEndpoint
from _verify_tokens import EC, claims, jwks, sign
from joserfc import jwt
from joserfc.jwk import OctKey

from mcpkit.errors import InsufficientScope, InvalidToken

SECTION = """\
## Verifying tokens

A protected server hands each bearer token to a *token verifier*:
`await verifier.verify(token, resource=R)`, where `R` is the canonical URI of the MCP endpoint,
returns an `AccessToken` (`subject`, `client_id`, `scopes`, `expires_at`, `issuer`, `audience`
and every claim in `claims`; never the token itself) or raises `InvalidToken` (401) saying what
was wrong, without echoing the token. Two ship ready to use; both need `mcpkit[auth]`, own an
`httpx.AsyncClient` unless given one (`http_client=`), and close it in `aclose()` or
`async with`.

### JWT access tokens

Most authorization servers issue JWT access tokens (RFC 9068) and publish their public keys
as a JWKS (`jwks_uri` in their metadata). Point a `JwtVerifier` at both:

```python
from mcpkit.auth.server.jwt import JwtVerifier

verifier = JwtVerifier(
    issuer="https://auth.example.com/",  # exactly the `issuer` of its metadata
    jwks_url="https://auth.example.com/.well-known/jwks.json",  # its `jwks_uri`
    required_scopes=["mcp"],  # optional: scopes every token must carry
)
access = await verifier.verify(token, resource="https://mcp.example.com/mcp")
print(access.subject, sorted(access.scopes))
```

It refuses a token whose signature does not check with the issuer's key named by its `kid`,
whose algorithm is not allowed, whose `iss` differs, whose `aud` does not name the resource
(RFC 8707: a token for another server is never accepted), that has no `exp`, has expired, is
not valid yet (`nbf`) or was issued in the future (`iat`); clocks may differ by `leeway`
(60 s). A token without a required scope gets `InsufficientScope` (403, so the client can ask
for more). Scopes come from `scope`, or `scp` as some providers send.

| setting | default | what it does |
| --- | --- | --- |
| `audience` | the resource | the `aud` to expect instead (a string or several) |
| `algorithms` | RS/PS/ES 256-512, EdDSA, Ed25519, Ed448 | the allow-list; never `none` |
| `leeway` | 60 | seconds of clock difference tolerated for `exp`, `nbf`, `iat` |
| `cache_ttl` | 600 | seconds the JWKS is kept before it is fetched again |
| `min_refresh_interval` | 30 | an unknown `kid` refetches the JWKS at most this often |
| `timeout`, `max_jwks_bytes`, `max_keys` | 5 s, 256 KiB, 100 | bounds on one JWKS fetch |
| `max_token_bytes` | 16 KiB | longer tokens are refused unread |
| `clock` | `time.time` | seconds since the epoch, for tests |

For an OpenID Connect provider, `issuer` and `jwks_uri` are in
`<issuer>/.well-known/openid-configuration`. For example:

| provider | `issuer` | `jwks_url` |
| --- | --- | --- |
| Keycloak | `https://HOST/realms/R` | `https://HOST/realms/R/protocol/openid-connect/certs` |
| Auth0 | `https://TENANT.auth0.com/` | `https://TENANT.auth0.com/.well-known/jwks.json` |
| Okta | `https://ORG.okta.com/oauth2/default` | `https://ORG.okta.com/oauth2/default/v1/keys` |

Where the provider names the API rather than the server's URL in `aud` (an Auth0 API
identifier, say), set `audience=` to that name.

The JWKS must come over HTTPS (plain HTTP only from `localhost`). If a fetch fails, the
keys already held stay in use and the failure is logged (logger `mcpkit.auth`).

HMAC-signed tokens (`HS256`) are accepted only when you list the algorithm and give the
shared secret yourself, as an `oct` key of a JWKS passed as `jwks=`; a JWKS URL is public,
so a key from one never checks an HMAC, and an RSA or EC key never does either:

```python
import os

from mcpkit.auth.server.jwt import JwtVerifier

secret = {"kty": "oct", "kid": "hs-1", "k": os.environ["MCP_JWT_SECRET"]}  # base64url
verifier = JwtVerifier(
    issuer="https://auth.internal", jwks={"keys": [secret]}, algorithms=["HS256"]
)
access = await verifier.verify(token, resource="https://mcp.example.com/mcp")
```

### Opaque tokens: introspection

When tokens are opaque, ask the authorization server (RFC 7662) as a client it knows:

```python
import os

from mcpkit.auth.server.introspection import IntrospectionVerifier

verifier = IntrospectionVerifier(
    "https://auth.example.com/oauth/introspect",
    client_id="mcp-server",
    client_secret=os.environ["INTROSPECTION_SECRET"],
    issuer="https://auth.example.com/",  # optional: checked when the answer has `iss`
)
access = await verifier.verify(token, resource="https://mcp.example.com/mcp")
```

The client authenticates with HTTP Basic (`auth_method="client_secret_post"` puts the
credentials in the form instead). An inactive token is refused, and the answer is checked
like a JWT's claims: `aud` must name the resource (`require_audience=False` accepts an answer
without one), then `exp`, `nbf`, `iat` and `required_scopes`. Active answers are cached for
`cache_ttl` seconds (30; never past the token's `exp`; `0` turns it off), at most
`cache_size` (1024) of them, keyed by a digest of the token: a revoked token is refused at
most `cache_ttl` seconds later. `timeout` (5 s) and `max_response_bytes` (64 KiB) bound a
request.

### Anything else

A verifier is any object with this one method; raise `InvalidToken` to refuse:

```python
import hashlib

from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InsufficientScope, InvalidToken


class ApiKeys:
    \"\"\"Accepts API keys, held as SHA-256 digests (the keys themselves are not kept).\"\"\"

    def __init__(self, subjects: dict[str, str]) -> None:
        self.subjects = subjects  # hex digest of a key -> who it belongs to

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        subject = self.subjects.get(hashlib.sha256(token.encode()).hexdigest())
        if subject is None:
            raise InvalidToken("unknown API key")
        return AccessToken(subject=subject, scopes=frozenset({"mcp"}), audience=(resource,))
```
"""

EXAMPLE = "https://auth.example.com"
RESOURCE = "https://mcp.example.com/mcp"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", SECTION, re.S)


async def run(block: str, base: str, **names: Any) -> dict[str, Any]:
    """Runs `block` (top-level `await` allowed) with the example origin replaced by `base`."""
    code = compile(
        block.replace(EXAMPLE, base), "<docs/auth.md>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    namespace: dict[str, Any] = {**names}
    try:
        result = eval(code, namespace)
        if result is not None:
            await result
    finally:
        verifier = namespace.get("verifier")
        if verifier is not None:
            await verifier.aclose()
    return namespace


async def test_the_jwks_example(capsys: Any) -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        token = sign(EC, iss=base + "/", scope="mcp files:read", exp=2**40, iat=None, nbf=None)
        await run(blocks()[0], base, token=token)
    assert capsys.readouterr().out == "alice ['files:read', 'mcp']\n"


async def test_the_jwks_example_refuses_a_token_without_the_scope() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        token = sign(EC, iss=base + "/", exp=2**40, iat=None, nbf=None)
        with pytest.raises(InsufficientScope) as caught:
            await run(blocks()[0], base, token=token)
    assert caught.value.scopes == ("mcp",)


async def test_the_hmac_example(monkeypatch: Any) -> None:
    secret = OctKey.generate_key(256, parameters={"kid": "hs-1"})
    monkeypatch.setenv("MCP_JWT_SECRET", secret.as_dict(private=True)["k"])
    token = jwt.encode(
        {"alg": "HS256", "kid": "hs-1"},
        claims(iss="https://auth.internal", exp=2**40, iat=None, nbf=None),
        secret,
        algorithms=["HS256"],
    )
    namespace = await run(blocks()[1], "unused", token=token)
    assert namespace["access"].subject == "alice"


async def test_the_introspection_example(monkeypatch: Any) -> None:
    monkeypatch.setenv("INTROSPECTION_SECRET", "s3cret")
    endpoint = IntrospectionEndpoint("mcp-server", "s3cret")
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        endpoint.answers["opaque"] = {"active": True, "iss": base + "/", "aud": RESOURCE}
        namespace = await run(blocks()[2], base, token="opaque")
    assert namespace["access"].audience == (RESOURCE,)


async def test_the_custom_verifier_example() -> None:
    namespace = await run(blocks()[3], "unused")
    keys = namespace["ApiKeys"]({hashlib.sha256(b"k-123").hexdigest(): "build-bot"})
    access = await keys.verify("k-123", resource=RESOURCE)
    assert (access.subject, access.audience) == ("build-bot", (RESOURCE,))
    with pytest.raises(InvalidToken, match="unknown API key"):
        await keys.verify("guess", resource=RESOURCE)


def test_the_section_has_the_blocks_the_tests_run() -> None:
    assert len(blocks()) == 4
    assert SECTION.startswith("## Verifying tokens\n")
