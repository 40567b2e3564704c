"""docs/auth.md, "Verifying tokens", works as written: each of its Python blocks runs against
a JWKS or introspection endpoint served by uvicorn on 127.0.0.1 (standing in for
https://auth.example.com)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from _serving import serving
from _verify_servers import WAIT, IntrospectionEndpoint, JwksEndpoint
from _verify_tokens import EC, claims, jwks, sign
from joserfc import jwt
from joserfc.jwk import OctKey

from mcpkit.errors import InsufficientScope, InvalidToken

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def section() -> str:
    """The "## Verifying tokens" section of docs/auth.md, up to the next `## ` heading."""
    text = DOC.read_text()
    start = text.index("## Verifying tokens\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


EXAMPLE = "https://auth.example.com"
RESOURCE = "https://mcp.example.com/mcp"


def blocks() -> dict[str, str]:
    """The section's blocks by the file name on their first line."""
    return dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", section(), re.S))


async def run(name: str, base: str, token: str | None = None) -> dict[str, Any]:
    """Runs the block saved as `name`, with the example origin replaced by `base`, as a module
    (not as `__main__`); then its `check(token)`, whose result is `access`."""
    code = compile(blocks()[name].replace(EXAMPLE, base), f"<docs/auth.md {name}>", "exec")
    namespace: dict[str, Any] = {"__name__": name.removesuffix(".py")}
    exec(code, namespace)  # our own docs, as a reader saves them
    if token is not None:
        namespace["access"] = await namespace["check"](token)
    return namespace


async def test_the_jwks_example() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        token = sign(EC, iss=base + "/", scope="mcp files:read", exp=2**40, iat=None, nbf=None)
        access = (await run("check_jwt.py", base, token=token))["access"]
    assert (access.subject, sorted(access.scopes)) == ("alice", ["files:read", "mcp"])


async def test_the_jwks_example_refuses_a_token_without_the_scope() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        token = sign(EC, iss=base + "/", exp=2**40, iat=None, nbf=None)
        with pytest.raises(InsufficientScope) as caught:
            await run("check_jwt.py", base, token=token)
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
    namespace = await run("check_hmac.py", "unused", token=token)
    assert namespace["access"].subject == "alice"


async def test_the_introspection_example(monkeypatch: Any) -> None:
    monkeypatch.setenv("INTROSPECTION_SECRET", "s3cret")
    endpoint = IntrospectionEndpoint("mcp-server", "s3cret")
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        endpoint.answers["opaque"] = {"active": True, "iss": base + "/", "aud": RESOURCE}
        namespace = await run("check_opaque.py", base, token="opaque")
    assert namespace["access"].audience == (RESOURCE,)


async def test_the_custom_verifier_example() -> None:
    namespace = await run("api_keys.py", "unused")
    keys = namespace["ApiKeys"]({hashlib.sha256(b"k-123").hexdigest(): "build-bot"})
    access = await keys.verify("k-123", resource=RESOURCE)
    assert (access.subject, access.audience) == ("build-bot", (RESOURCE,))
    with pytest.raises(InvalidToken, match="unknown API key"):
        await keys.verify("guess", resource=RESOURCE)


def test_the_section_has_the_blocks_the_tests_run() -> None:
    assert list(blocks()) == ["check_jwt.py", "check_hmac.py", "check_opaque.py", "api_keys.py"]
    assert "### Opaque tokens: introspection" in section()
