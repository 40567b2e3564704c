"""docs/auth.md, "Authorizing a client": its examples run as written, over real HTTP on
127.0.0.1, against an mcpkit server behind a bearer gate whose authorization server is the
test World served on the same origin."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path
from types import ModuleType

from _client_gate import Gate
from _client_world import World
from _serving import WAIT, serving

from mcpkit import Server
from mcpkit.auth.client import HeadlessRedirect

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Authorizing a client")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def load(name: str) -> ModuleType:
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", section(), re.S) if f"# {name}" in b]
    module = ModuleType(name.removesuffix(".py"))
    exec(compile(block, name, "exec"), module.__dict__)
    return module


def make_server() -> Server:
    server = Server("forecasts")

    @server.tool()
    def forecast(city: str) -> str:
        """Tomorrow's weather."""
        return f"{city}: sunny"

    @server.tool()
    def sunny_days(city: str) -> int:
        """How many of the next seven days are sunny."""
        return len(city)

    return server


async def test_the_interactive_example_authorizes_and_stores_tokens(tmp_path: Path) -> None:
    example = load("authorized_client.py")
    gate = Gate(make_server().http_app())
    async with serving(gate) as base:
        gate.world = world = World(mcp=f"{base}/mcp", issuer=base)
        async with asyncio.timeout(WAIT):
            tools = await example.main(f"{base}/mcp", tmp_path / "tokens", HeadlessRedirect())
            again = await example.main(f"{base}/mcp", tmp_path / "tokens", HeadlessRedirect())
    assert tools == again == ["forecast", "sunny_days"]
    assert len(world.requests_to(f"{base}/authorize")) == 1  # the second run used the file
    # One file for the server's tokens, one for the registration at its issuer (SEP-2352).
    files = sorted((tmp_path / "tokens").iterdir())
    assert len(files) == 2
    assert all(stat.S_IMODE(stored.stat().st_mode) == 0o600 for stored in files)


async def test_the_service_example_calls_a_tool_headlessly() -> None:
    example = load("service_client.py")
    gate = Gate(make_server().http_app())
    async with serving(gate) as base:
        gate.world = World(mcp=f"{base}/mcp", issuer=base)
        async with asyncio.timeout(WAIT):
            result = await example.call(f"{base}/mcp", "sunny_days", {"city": "Oslo"})
    assert result == {"result": 4}
