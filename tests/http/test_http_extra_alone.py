"""`pip install "mcpkit[http]"` serves HTTP: nothing on the path of an app without auth needs
the `auth` extra (joserfc, cryptography) or the others (redis, opentelemetry). Run in a fresh
interpreter where importing any of them fails, as on a machine that lacks them."""

from __future__ import annotations

from _schema_checks import run_in_a_fresh_interpreter

_SERVE_WITHOUT_EXTRAS = """
import asyncio, importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in {"joserfc", "cryptography", "redis", "opentelemetry"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
import httpx
from mcpkit import Server

server = Server("light")

@server.tool()
def add(a: int, b: int) -> int:
    return a + b

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "t", "version": "1"}}}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}

async def main():
    app = server.http_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        answer = await client.post("http://127.0.0.1/mcp", json=INIT, headers=HEADERS)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        assert "serverInfo" in answer.text, answer.text
    loaded = sorted(n for n in sys.modules if n.partition(".")[0] in {"joserfc", "cryptography"})
    assert not loaded, loaded

asyncio.run(asyncio.wait_for(main(), 30))
"""


def test_an_app_without_auth_serves_with_the_http_extra_alone() -> None:
    run_in_a_fresh_interpreter(_SERVE_WITHOUT_EXTRAS)
