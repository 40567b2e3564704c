"""docs/auth.md, "Protecting a server", works as written: its server, served by uvicorn,
answers as the text says, and its client example calls it with a token."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _resource_helpers import bearer, call
from _serving import INITIALIZE, WAIT, messages_of, serving

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def _section() -> str:
    text = DOC.read_text()
    start = text.index("## Protecting a server")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def _load(name: str) -> ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", _section(), re.S)
    (block,) = [b for b in blocks if b.startswith(f"# {name}.py\n")]
    module = ModuleType(name)
    exec(compile(block, f"{name}.py", "exec"), module.__dict__)
    return module


async def test_the_protected_example_answers_as_documented() -> None:
    notes = _load("notes")
    client_example = _load("call_notes")
    async with serving(notes.app) as base, httpx.AsyncClient(timeout=WAIT) as client:
        url = base + "/mcp"
        refused = await client.post(url, json=INITIALIZE, headers=bearer(None))
        assert refused.status_code == 401
        documented = (
            'Bearer scope="notes:read", resource_metadata="http://127.0.0.1:8000/.well-known/'
            'oauth-protected-resource/mcp"'
        )
        assert " ".join(documented.split()) in " ".join(_section().split())
        assert refused.headers.get_list("www-authenticate")[0] == documented.replace(
            "http://127.0.0.1:8000", base
        )
        for path in (
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            document = (await client.get(base + path)).json()
            assert document["authorization_servers"] == ["https://auth.example.com"]
            assert document["scopes_supported"] == ["notes:read", "notes:write"]

        assert await client_example.main(url) == "ada with notes:read"

        opened = await client.post(url, json=INITIALIZE, headers=bearer("reader-token"))
        sid = opened.headers["mcp-session-id"]
        tools = await _post(client, url, "reader-token", sid, call(2, "tools/list"))
        assert [tool["name"] for tool in tools["result"]["tools"]] == ["whoami"]
        add = call(3, "tools/call", name="add_note", arguments={"text": "hi"})
        step_up = await client.post(url, json=add, headers=bearer("reader-token", sid))
        assert step_up.status_code == 403
        challenge = step_up.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="insufficient_scope", ')
        assert 'scope="notes:read notes:write"' in challenge
        added = await _post(client, url, "writer-token", sid, add)
        assert added["result"]["structuredContent"] == {"result": 1}


async def _post(client: httpx.AsyncClient, url: str, token: str, sid: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=bearer(token, sid))
    assert response.status_code == 200, response.text
    return messages_of(response)[0]
