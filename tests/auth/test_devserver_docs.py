"""docs/auth.md's section on the development authorization server runs as written: the server
it configures, the headless client, and the discovery of a provider's issuer and JWKS URL."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import httpx
from _devserver_helpers import WAIT, read_jwt, serving

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def load(name: str) -> ModuleType:
    """The python block of docs/auth.md that starts with `# name`, run as a module."""
    (block,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
        if b.startswith(f"# {name}\n")
    ]
    module = ModuleType(name.removesuffix(".py"))
    exec(compile(block, name, "exec"), module.__dict__)
    return module


async def test_the_configured_server_serves_client_credentials() -> None:
    auth = load("devauth.py").auth
    async with serving(auth) as base, httpx.AsyncClient(timeout=WAIT) as http:
        answer = await http.post(
            base + "/token",
            data={"grant_type": "client_credentials"},
            auth=("ci-bot", "dev-only-secret"),
        )
        claims = (await read_jwt(http, base, answer.json()["access_token"])).claims
        metadata = (await http.get(base + "/.well-known/oauth-authorization-server")).json()
    assert claims["scope"] == "notes:read" and claims["sub"] == "ci-bot"
    assert metadata["scopes_supported"] == ["notes:read", "notes:write"]


async def test_the_headless_client_gets_tokens() -> None:
    auth = load("devauth.py").auth
    headless = load("headless.py")
    async with serving(auth) as base, httpx.AsyncClient(timeout=WAIT) as http:
        tokens = await headless.get_tokens(base, base + "/mcp")
        claims = (await read_jwt(http, base, tokens["access_token"])).claims
    assert claims["aud"] == base + "/mcp" and claims["sub"] == "dev-user"
    assert tokens["scope"] == "notes:read" and tokens["refresh_token"]


async def test_discovery_finds_issuer_and_jwks() -> None:
    discover = load("discover.py")
    async with serving(load("devauth.py").auth) as base:
        assert await discover.provider_settings(base) == (base, base + "/jwks")
        local = base.replace("127.0.0.1", "localhost")
        assert await discover.provider_settings(local) == (local, local + "/jwks")
