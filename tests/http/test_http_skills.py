"""Skills (SEP-2640) served to a 2026-07-28 request over HTTP: the results' cache hints."""

from __future__ import annotations

import asyncio

import msgspec
from _inprocess import asgi_request, final_answer

from mcpkit import Server
from mcpkit.types.skills import ListSkillsResult

SKILL = "---\nname: pdf-processing\ndescription: Extract PDF text\n---\nBody\n"


async def test_2026_results_carry_the_cache_hints() -> None:
    # 2026-07-28: ListSkillsResult and GetSkillResult are CacheableResults (ttlMs, cacheScope).
    server = Server("skills")
    server.add_skill(SKILL)
    app = server.http_app()
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    headers = {
        "host": "127.0.0.1:8000",
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "skills/list",
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": "skills/list", "params": {"_meta": meta}}
    async with asyncio.timeout(10):
        sent = await asgi_request(app, "POST", headers, msgspec.json.encode(body))
    result = final_answer(sent)["result"]
    assert result["resultType"] == "complete"
    assert (result["ttlMs"], result["cacheScope"]) == (0, "private")
    assert msgspec.convert(result, ListSkillsResult).skills[0].frontmatter["name"] == (
        "pdf-processing"
    )
