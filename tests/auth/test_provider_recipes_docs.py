"""docs/auth.md, "Sign in with your provider", works as written: each recipe's block, run with
its environment variables set, gives the provider the page describes (the subject claim, the
audience, the pass-through verifier or its refusal), and the discovery block reads the
provider double (served by uvicorn on 127.0.0.1) standing in for login.example.com."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from _serving import WAIT, serving
from test_provider_discovery import SignInProvider

from mcpkit.auth.front import UpstreamProvider
from mcpkit.auth.front.providers import verifier_for
from mcpkit.auth.server.jwt import JwtVerifier

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"
MCP = "https://mcp.example.com/mcp"
GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
EXAMPLE = "https://login.example.com"


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


def run(
    name: str, monkeypatch: pytest.MonkeyPatch, replace: dict[str, str] | None = None
) -> dict[str, Any]:
    """The block's module namespace, every variable it reads from the environment set (to
    its name in lower case), each key of `replace` in its source replaced by its value."""
    source = block(name)
    for example, stand_in in (replace or {}).items():
        assert example in source
        source = source.replace(example, stand_in)
    for variable in re.findall(r'os\.environ\["(\w+)"\]', source):
        monkeypatch.setenv(variable, GUID if variable.endswith("TENANT_ID") else variable.lower())
    namespace: dict[str, Any] = {"__name__": name.removesuffix(".py")}
    exec(compile(source, f"<docs/auth.md {name}>", "exec"), namespace)  # our own docs
    return namespace


#: Each block: the provider's name, the claim naming the user, the pass-through audience.
RECIPES = {
    "github_upstream.py": ("GitHub", "id", None),
    "google_upstream.py": ("Google", "sub", None),
    "entra_upstream.py": ("Microsoft Entra ID", "oid", "entra_client_id"),
    "auth0_upstream.py": ("Auth0", "sub", MCP),
    "okta_upstream.py": ("Okta", "sub", "api://default"),
    "keycloak_upstream.py": ("Keycloak", "sub", MCP),
    "cognito_upstream.py": ("Amazon Cognito", "sub", MCP),
    "workos_upstream.py": ("WorkOS", "sub", MCP),
}


@pytest.mark.parametrize("name", RECIPES)
async def test_each_recipe_block_gives_the_provider_described(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = run(name, monkeypatch)
    upstream: UpstreamProvider = module["upstream"]
    assert (upstream.name, upstream.subject_claim, upstream.audience) == RECIPES[name]
    assert upstream.client_secret == f"{name.split('_')[0]}_client_secret"
    verifier: JwtVerifier | None = module.get("verifier")
    if upstream.audience is None:  # the page: the front's own tokens only
        assert verifier is None
        with pytest.raises(ValueError, match="opaque"):
            verifier_for(upstream)
        return
    assert verifier is not None and verifier.issuer == upstream.issuer
    await verifier.aclose()


def test_the_entra_block_sends_no_resource_and_asks_for_its_api_by_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream: UpstreamProvider = run("entra_upstream.py", monkeypatch)["upstream"]
    assert upstream.resource_parameter == "omit"
    assert upstream.scopes[-1] == "api://entra_client_id/access_as_user"
    assert upstream.issuer == f"https://login.microsoftonline.com/{GUID}/v2.0"


async def test_the_discovery_block_reads_the_providers_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = SignInProvider()
    provider.path = "/realms/acme"
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        module = run("discovered_upstream.py", monkeypatch, {EXAMPLE: base})
        upstream: UpstreamProvider = await module["discovered_upstream"]()
    assert (upstream.name, upstream.issuer) == ("Acme SSO", f"{base}/realms/acme")
    assert (upstream.authorize_url, upstream.token_url) == (f"{base}/authorize", f"{base}/token")
    assert (upstream.client_id, upstream.client_secret) == ("sso_client_id", "sso_client_secret")
