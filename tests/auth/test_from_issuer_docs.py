"""docs/auth.md, "Verifying tokens from an OpenID provider", works as written: its server module
runs with the OpenID provider double (served by uvicorn on 127.0.0.1) standing in for
https://login.example.com, and a client with the provider's token calls its tool in both eras."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from _oidc_double import Provider
from _serving import WAIT, serving

from mcpkit import Client
from mcpkit.types import TextContent

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"
EXAMPLE = "https://login.example.com"


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_the_server_module_checks_the_providers_tokens(era: str) -> None:
    provider = Provider(path="/realms/acme")
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        namespace: dict[str, Any] = {"__name__": "sso_notes"}
        source = block("sso_notes.py").replace(EXAMPLE, base)
        exec(compile(source, "<docs/auth.md sso_notes.py>", "exec"), namespace)  # our docs
        async with namespace["sso_notes"].auth.verifier, serving(namespace["app"]) as mcp:
            token = provider.token(aud=mcp + "/mcp")
            headers = {"authorization": f"Bearer {token}"}
            async with Client(f"{mcp}/mcp", headers=headers, protocol=era) as client:
                result = await client.call_tool("whoami", {})
                refused = await _status_without_token(mcp)
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    assert texts == [f"alice via {base}/realms/acme"]
    assert refused == 401


async def _status_without_token(mcp: str) -> int:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{mcp}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    return response.status_code
