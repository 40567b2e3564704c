"""docs/_auth_grants.md ("Other grants", to be appended to docs/auth.md) runs as written: client
credentials over real HTTP against a server protected by the development authorization
server; the other examples against the fakes that check what the conformance scenarios check."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import ModuleType

import httpx
from _grants_world import CLIENT_ID, JWT_BEARER, MCP, GrantsWorld
from _serving import WAIT, serving
from joserfc.jwk import ECKey

from mcpkit import Context, Server
from mcpkit.auth.client import GrantAuth, OAuth
from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def load(name: str) -> ModuleType:
    """The python block of the section that starts with `# name`, run as a module."""
    (block,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
        if b.startswith(f"# {name}\n")
    ]
    module = ModuleType(name.removesuffix(".py"))
    exec(compile(block, name, "exec"), module.__dict__)
    return module


async def use(world: GrantsWorld, auth: GrantAuth) -> httpx.Response:
    auth.http_client = httpx.AsyncClient(transport=httpx.MockTransport(world))
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as http:
        return await http.post(MCP, json={})


async def test_the_machine_client_calls_a_protected_tool() -> None:
    dev = DevAuthorizationServer(
        DevServerSettings(scopes=("mcp",), default_scopes=("mcp",)),
        clients=[
            ClientInformation(
                client_id="ci-bot",
                client_secret="dev-only-secret",
                grant_types=["client_credentials"],
            )
        ],
    )
    server = Server("machines", auth=dev.protect(required_scopes=["mcp"]))

    @server.tool()
    def whoami(ctx: Context) -> list[str]:
        """Who the token speaks for, and its scopes."""
        assert ctx.auth is not None
        return [ctx.auth.subject, *sorted(ctx.auth.scopes)]

    async with serving(server.http_app()) as base:
        async with asyncio.timeout(WAIT):
            result = await load("machine_client.py").call(f"{base}/mcp", "whoami")
    assert result == {"result": ["ci-bot", "mcp"]}


async def test_the_key_client(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256")
    (tmp_path / "key.pem").write_bytes(key.as_pem(private=True))
    world = GrantsWorld(client_auth="private_key_jwt", client_key=key)
    auth = load("key_client.py").key_auth(CLIENT_ID, tmp_path / "key.pem")
    assert (await use(world, auth)).status_code == 200


async def test_the_workload_client(tmp_path: Path) -> None:
    world = GrantsWorld(client_auth="none", grant_type=JWT_BEARER)
    (tmp_path / "token").write_text(world.assertion())
    auth = load("workload_client.py").workload_auth(CLIENT_ID, str(tmp_path / "token"))
    assert (await use(world, auth)).status_code == 200


async def test_the_enterprise_client() -> None:
    world = GrantsWorld(client_auth="basic", grant_type=JWT_BEARER)
    id_token = world.assertion(aud="idp-client", sub="alice@example.com")
    auth = load("enterprise_client.py").enterprise_auth(id_token)
    assert (await use(world, auth)).status_code == 200


async def test_the_dpop_client() -> None:
    example = load("dpop_client.py")
    assert isinstance(example.user_auth, OAuth) and example.user_auth.dpop is example.key
    world = GrantsWorld(dpop=True, as_nonce="a", rs_nonce="r")
    assert (await use(world, example.machine_auth)).status_code == 200
    (issued,) = world.issued.values()
    assert issued.jkt == example.key.thumbprint
