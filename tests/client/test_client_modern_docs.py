"""docs/client.md's revisions example runs as written, in both eras."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

from _modern_fakes import FakeModernServer

from mcpkit import Server

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def load_revisions() -> ModuleType:
    (block,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
        if "# revisions.py" in b
    ]
    module = ModuleType("revisions")
    exec(compile(block, "revisions.py", "exec"), module.__dict__)
    return module


async def _book(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
    responses = params.get("inputResponses")
    if responses is None:
        ask = {
            "method": "elicitation/create",
            "params": {
                "message": "Sure?",
                "requestedSchema": {
                    "type": "object",
                    "properties": {"confirmed": {"type": "boolean"}},
                },
            },
        }
        return {"resultType": "input_required", "inputRequests": {"ok": ask}}
    assert params["_meta"]["io.modelcontextprotocol/logLevel"] == "warning"
    confirmed = responses["ok"]["content"]["confirmed"]
    return {
        "content": [{"type": "text", "text": f"booked {params['arguments']['room']}: {confirmed}"}]
    }


async def test_the_example_speaks_2026_to_a_modern_server() -> None:
    server = FakeModernServer(handlers={"tools/call": _book})
    assert await load_revisions().main(server.open) == ("2026-07-28", "booked A: True")


async def test_the_example_speaks_2026_to_mcpkits_server() -> None:
    app = Server("rooms")

    @app.tool()
    async def book(room: str) -> str:
        return f"booked {room}"

    # mcpkit's server answers server/discover, so "auto" speaks 2026-07-28 to it.
    assert await load_revisions().main(app) == ("2026-07-28", "booked A")
