"""docs/auth.md, "DPoP-bound tokens at the server", says what the code does: each setting of its
table exists with the default it names, and its example answers a request without a token
with the DPoP challenge only (`dpop="required"`) and a server nonce."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import ModuleType

import httpx
from _serving import INITIALIZE, WAIT, headers, serving

from mcpkit.auth.server.resource import ProtectedResource

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def _section() -> str:
    text = DOC.read_text()
    start = text.index("### DPoP-bound tokens at the server")
    return text[start : text.index("\n## ", start)]


def test_every_setting_in_the_table_has_the_default_it_names() -> None:
    rows = re.findall(r"^\| `(dpop\w*)` \| `([^`]*)` \|", _section(), re.M)
    defaults = {f.name: f.default for f in dataclasses.fields(ProtectedResource)}
    named = {name for name in defaults if name.startswith("dpop")}
    assert {name for name, _ in rows} == named
    for name, documented in rows:
        value = defaults[name]
        shown = " ".join(value) if isinstance(value, tuple) else repr(value).replace("'", '"')
        assert shown == documented, name


async def test_the_example_offers_dpop_only_with_a_nonce() -> None:
    (block,) = re.findall(r"```python\n(# dpop_server\.py\n.*?)```", _section(), re.S)
    module = ModuleType("dpop_server")
    exec(compile(block, "dpop_server.py", "exec"), module.__dict__)
    async with serving(module.app) as base, httpx.AsyncClient(timeout=WAIT) as http:
        refused = await http.post(base + "/mcp", json=INITIALIZE, headers=headers())
    assert refused.status_code == 401
    (only,) = refused.headers.get_list("www-authenticate")
    assert only == (
        'DPoP scope="notes:read", resource_metadata="https://mcp.example.com/.well-known/'
        'oauth-protected-resource/mcp", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 '
        'RS384 RS512 EdDSA Ed25519 Ed448"'
    )
    assert refused.headers["dpop-nonce"]
