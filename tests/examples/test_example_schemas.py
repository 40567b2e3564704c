"""Every schema every example server advertises resolves (tests/_schema_checks.py): each
`$ref` points at a definition it holds, none only at itself, and the whole is a JSON Schema
2020-12 document, as clients that follow references need."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from _schema_checks import schema_problems

from mcpkit import Client, Server
from mcpkit.proxy import ProxyServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Examples that serve nothing of their own: clients, and the proxy whose tools are those of
# examples/everything.py (checked here as itself).
NO_SERVER = frozenset({"client", "oauth_client", "proxy"})
#: Examples that read their provider's discovery document at import, from the environment:
#: tests/interop/test_front_example.py runs them against a real provider.
NEEDS_PROVIDER = frozenset({"front"})


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"schema_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _servers(module: ModuleType) -> list[Server]:
    found = [v for v in vars(module).values() if isinstance(v, Server)]
    return [s for s in found if not isinstance(s, ProxyServer)]


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem not in NEEDS_PROVIDER)
)
async def test_every_advertised_schema_resolves(name: str) -> None:
    servers = _servers(_load(name))
    if name in NO_SERVER:
        assert servers == [], f"examples/{name}.py serves tools now: take it off NO_SERVER"
        return
    assert servers, f"examples/{name}.py defines no Server"
    for server in servers:
        async with Client(server) as client:
            offered = client.server_capabilities.tools is not None
            tools = await client.list_tools() if offered else []
        for tool in tools:
            where = f"examples/{name}.py: {server.name} tool {tool.name!r}"
            assert schema_problems(tool.input_schema) == [], f"{where} inputSchema"
            if tool.output_schema is not None:
                assert schema_problems(tool.output_schema) == [], f"{where} outputSchema"
