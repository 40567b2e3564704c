"""docs/deploy.md, "Azure Container Apps with Entra ID", works as written: its entra_notes.py,
with the OpenID provider double standing in for login.microsoftonline.com at the tenant's
v2.0 issuer path, takes a token whose `aud` is the API's client id and whose `scp` holds the
scope, and refuses one for another audience or without the scope."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _oidc_double import Provider
from _serving import WAIT, serving

from mcpkit import Client
from mcpkit.types import TextContent

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
ENTRA = "https://login.microsoftonline.com"
PUBLIC = "https://mcp.APP-ENV.REGION.azurecontainerapps.io"
HOST = PUBLIC.removeprefix("https://")


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


@contextlib.asynccontextmanager
async def page_server(base: str) -> AsyncIterator[str]:
    """The page's server, its issuer pointed at the double at `base`, served on 127.0.0.1
    and reached under the public name its `resource` names (the Host clients send)."""
    namespace: dict[str, Any] = {"__name__": "entra_notes"}
    source = block("entra_notes.py").replace(ENTRA, base)
    exec(compile(source, "<docs/deploy.md entra_notes.py>", "exec"), namespace)  # our docs
    server = namespace["server"]
    async with server.auth.verifier, serving(server.http_app(allowed_hosts=[HOST])) as mcp:
        yield mcp


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_the_server_takes_entras_v2_tokens_for_its_api(era: str) -> None:
    source = block("entra_notes.py")
    tenant = re.search(r'TENANT = "([\w-]+)"', source)
    client_id = re.search(r'API_CLIENT_ID = "([\w-]+)"', source)
    assert tenant is not None and client_id is not None
    provider = Provider(path=f"/{tenant.group(1)}/v2.0")  # Entra's v2.0 issuer path
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with page_server(base) as mcp:
            good = provider.token(aud=client_id.group(1), scp="notes.read")
            headers = {"authorization": f"Bearer {good}", "host": HOST}
            async with Client(f"{mcp}/mcp", headers=headers, protocol=era) as client:
                result = await client.call_tool("whoami", {})
            other_audience = provider.token(aud=PUBLIC + "/mcp", scp="notes.read")
            other_scope = provider.token(aud=client_id.group(1), scp="notes.write")
            statuses = [await _status(mcp, t) for t in (other_audience, other_scope)]
    assert [c.text for c in result.content if isinstance(c, TextContent)] == ["alice"]
    assert statuses == [401, 403]


async def _status(mcp: str, token: str) -> int:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"authorization": f"Bearer {token}", "host": HOST}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{mcp}/mcp", json=ping, headers=headers)
    return response.status_code
