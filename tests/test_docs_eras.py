"""docs/eras.md's example runs as written, and serves what the text says in both eras."""

from __future__ import annotations

import pathlib
import re
from typing import Any

from mcpkit import Server
from mcpkit.testing import connected, raw_session
from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

DOC = pathlib.Path(__file__).parents[1] / "docs" / "eras.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def _server() -> Server:
    namespace: dict[str, Any] = {"__name__": "docs_eras"}
    for block in BLOCKS:
        exec(compile(block, str(DOC), "exec"), namespace)  # our own docs, as a reader runs them
    server: Server = namespace["server"]
    return server


def _meta() -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}},
    }


async def test_the_example_serves_a_2026_client_in_rounds() -> None:
    trip = {"name": "plan_trip", "arguments": {"city": "Oslo"}, "_meta": _meta()}
    async with raw_session(_server(), initialize=False) as peer:
        listed = (await peer.request("tools/list", {"_meta": _meta()}))["result"]
        assert (listed["ttlMs"], listed["cacheScope"]) == (60_000, "private")
        schema = listed["tools"][0]["inputSchema"]
        assert schema["properties"]["city"]["x-mcp-header"] == "City"
        first = (await peer.request("tools/call", trip))["result"]
        assert first["inputRequests"]["q1"]["method"] == "elicitation/create"
        answer = {"action": "accept", "content": {"name": "Ada"}}
        second = (
            await peer.request(
                "tools/call",
                {**trip, "inputResponses": {"q1": answer}, "requestState": first["requestState"]},
            )
        )["result"]
        assert second["inputRequests"]["q2"]["method"] == "sampling/createMessage"
        sampled = {"role": "assistant", "content": {"type": "text", "text": "fjords"}, "model": "m"}
        done = (
            await peer.request(
                "tools/call",
                {**trip, "inputResponses": {"q2": sampled}, "requestState": second["requestState"]},
            )
        )["result"]
    assert done["content"][0]["text"] == "Ada: fjords"


async def test_the_example_serves_a_2025_session_the_same_answer() -> None:
    async def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    async def sample(params: Any) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="fjords"), model="m")

    async with connected(_server(), elicitation_handler=elicit, sampling_handler=sample) as client:
        result = await client.call_tool("plan_trip", {"city": "Oslo"})
    assert result.content[0].text == "Ada: fjords"  # type: ignore[union-attr]
