"""docs/auth.md, "An authorization front for providers without registration", works as
written: its `front.py` and `front_passthrough.py` servers run with the oidc-provider peer
standing in for https://login.example.com, `front_client.py` signs in through them with the
form-filling test browser standing in for the user, and `make_front_key.py` writes a key
the front loads."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _ports import spare_port
from form_browser import FormBrowser
from oidc_peer import WAIT, OidcProvider

from mcpkit import Client
from mcpkit.auth.client import OAuth
from mcpkit.auth.front import AuthorizationFront, SigningKey
from mcpkit.auth.metadata import ClientMetadata

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# ([\w-]+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


def load(name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": name.removesuffix(".py")}
    exec(compile(block(name), name, "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as peer:
        yield peer


def configure(monkeypatch: pytest.MonkeyPatch, provider: OidcProvider, client_id: str) -> None:
    monkeypatch.setenv("IDP_ISSUER", provider.issuer)
    monkeypatch.setenv("IDP_CLIENT_ID", client_id)
    monkeypatch.setenv("IDP_CLIENT_SECRET", "front-secret")


async def test_front_py_and_front_client_py(
    provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, provider, "docs-front")
    served = load("front.py")
    front: AuthorizationFront = served["front"]
    try:
        async with asyncio.timeout(3 * WAIT), serving(served["server"].http_app()) as base:
            provider.register_client([front.callback_url(base)], client_id="docs-front")
            who, me = await load("front_client.py")["main"](base + "/mcp", FormBrowser(login="gil"))
    finally:
        await front.aclose()
    assert who == {"subject": "gil", "provider": "Example Login"}
    assert me["sub"] == "gil"


async def test_front_passthrough_py(
    provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = spare_port()
    configure(monkeypatch, provider, "docs-pass-through")
    monkeypatch.setenv("MCP_URL", f"http://127.0.0.1:{port}/mcp")
    served = load("front_passthrough.py")
    front: AuthorizationFront = served["front"]
    try:
        async with (
            asyncio.timeout(3 * WAIT),
            serving(served["server"].http_app(), port=port) as base,
        ):
            provider.register_client([front.callback_url(base)], client_id="docs-pass-through")
            browser = FormBrowser(login="hal")
            auth = OAuth(browser, client_metadata=ClientMetadata(client_name="Weather desk"))
            async with Client(base + "/mcp", auth=auth) as client:
                who = (await client.call_tool("whoami", {})).structured_content
    finally:
        await front.aclose()
    assert who == {"result": "hal"}
    assert any("/interaction/" in page.url for page in browser.pages)


def test_make_front_key_py(tmp_path: Path) -> None:
    script = tmp_path / "make_front_key.py"
    script.write_text(block("make_front_key.py"))
    key = tmp_path / "front-key.pem"
    subprocess.run([sys.executable, str(script), str(key)], check=True, timeout=30)
    assert key.stat().st_mode & 0o777 == 0o600
    assert SigningKey.load(key).algorithm == "ES256"
    again = subprocess.run([sys.executable, str(script), str(key)], capture_output=True, timeout=30)
    assert again.returncode != 0 and b"FileExistsError" in again.stderr
