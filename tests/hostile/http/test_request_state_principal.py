"""A requestState is bound to who it was issued to, spelled so that no two callers share it:
subject `x|y` with client `z` is not subject `x` with client `y|z`, and one subject of two
issuers is two users (the session owner's key: issuer, subject, client)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from _serving import ACCEPT, WAIT, messages_of, serving

from mcpkit import Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

REV = "2026-07-28"
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
MCP = frozenset({"mcp"})
#: token -> who it speaks for; each pair below joined to the same "sub|client" string.
TOKENS = {
    "tok-victim": AccessToken(subject="x|y", client_id="z", issuer="https://idp.one", scopes=MCP),
    "tok-pipes": AccessToken(subject="x", client_id="y|z", issuer="https://idp.one", scopes=MCP),
    "tok-other-idp": AccessToken(
        subject="x|y", client_id="z", issuer="https://idp.two", scopes=MCP
    ),
}


class Verifier:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        found = TOKENS.get(token)
        if found is None:
            raise InvalidToken("the token is unknown")
        return found


def billing(charges: list[str]) -> Server:
    auth = ProtectedResource(verifier=Verifier(), required_scopes=["mcp"])
    server = Server("billing", auth=auth, request_state_key="k" * 32)

    @server.tool()
    async def pay(ctx: Context) -> str:
        """Ask who pays, then charge the caller."""
        who = await ctx.elicit("Who pays?", NAME)
        assert who.data is not None
        charges.append(who.data["name"])
        return "charged"

    return server


def pay(rid: int, token: str, **round_fields: Any) -> tuple[dict[str, Any], dict[str, str]]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "raw-2026", "version": "0"},
    }
    params = {"name": "pay", "arguments": {}, **round_fields, "_meta": meta}
    headers = {
        "accept": ACCEPT,
        "content-type": "application/json",
        "mcp-protocol-version": REV,
        "mcp-method": "tools/call",
        "mcp-name": "pay",
        "authorization": f"Bearer {token}",
    }
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}, headers


async def post(client: httpx.AsyncClient, request: tuple[Any, dict[str, str]]) -> Any:
    body, headers = request
    response = await client.post("/mcp", json=body, headers=headers)
    (answer,) = [m for m in messages_of(response) if "result" in m or "error" in m]
    return answer


async def test_a_state_opens_for_its_own_caller_only() -> None:
    charges: list[str] = []
    async with asyncio.timeout(WAIT), serving(billing(charges).http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            asked = (await post(client, pay(1, "tok-victim")))["result"]
            state = asked["requestState"]
            answers = {"q1": {"action": "accept", "content": {"name": "victim's card"}}}
            for rid, thief in enumerate(("tok-pipes", "tok-other-idp"), start=2):
                stolen = await post(
                    client, pay(rid, thief, inputResponses=answers, requestState=state)
                )
                assert stolen["error"]["code"] == -32602, thief
                assert "issued to another user" in stolen["error"]["message"], thief
            assert charges == []
            own = await post(
                client, pay(9, "tok-victim", inputResponses=answers, requestState=state)
            )
    assert own["result"]["content"][0]["text"] == "charged"
    assert charges == ["victim's card"]
