"""docs/auth.md, "Calling downstream APIs as the user", works as written: its server module
runs with the OpenID provider double standing in for https://login.example.com and a reports
API double for https://reports.example.com (both uvicorn on 127.0.0.1); the API sees a token
issued for it, never the caller's."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _oidc_double import Provider
from _serving import WAIT, serving
from _verify_servers import _lifespan, _send

from mcpkit import Client
from mcpkit.types import TextContent

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


class ReportsApi:
    """Answers `GET /reports/<month>` to a bearer token issued for it; keeps the tokens."""

    def __init__(self) -> None:
        self.base = ""
        self.tokens: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        token = header.removeprefix("Bearer ")
        self.tokens.append(token)
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims["aud"] != self.base or "reports:read" not in claims["scope"].split():
            await _send(send, 401, b"not for this API", "text/plain")
            return
        month = scope["path"].rsplit("/", 1)[-1]
        await _send(send, 200, f"{month} report of {claims['sub']}".encode(), "text/plain")


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_the_reports_server_calls_the_api_as_its_caller(
    era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = Provider()
    provider.client = ("reports-mcp", "s3cret")
    monkeypatch.setenv("REPORTS_MCP_SECRET", "s3cret")
    api = ReportsApi()
    async with asyncio.timeout(WAIT), serving(provider) as base, serving(api) as api_base:
        provider.base, api.base = base, api_base
        source = block("reports.py").replace("https://login.example.com", base)
        source = source.replace("https://reports.example.com", api_base)
        namespace: dict[str, Any] = {"__name__": "reports"}
        exec(compile(source, "<docs/auth.md reports.py>", "exec"), namespace)  # our docs
        verifier = namespace["reports"].auth.verifier
        async with verifier, namespace["exchange"], serving(namespace["app"]) as mcp:
            caller = provider.token(aud=mcp + "/mcp")
            headers = {"authorization": f"Bearer {caller}"}
            async with Client(f"{mcp}/mcp", headers=headers, protocol=era) as client:
                result = await client.call_tool("monthly_report", {"month": "2026-10"})
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    assert texts == ["2026-10 report of alice"]
    assert api.tokens and caller not in api.tokens
