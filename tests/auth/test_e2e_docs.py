"""docs/auth.md works as written: the quick start (its commands are the ones the examples'
tests run, its output is what examples/oauth_client.py prints, its two blocks complete the
flow and the step-up), the development server's `protect()`/`verifier()` block, and the
revocation section's introspection block, each served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from _e2e_helpers import EXAMPLES, WAIT, load_protected, serving, stored_tokens
from _resource_helpers import bearer
from _serving import INITIALIZE

from mcpkit import Client
from mcpkit.auth.client import HeadlessRedirect, OAuth

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def section(heading: str) -> str:
    text = DOC.read_text()
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def block(name: str, heading: str) -> ModuleType:
    """The Python block of `heading`'s section that starts `# name.py`, run as a module."""
    blocks = re.findall(r"```python\n(.*?)```", section(heading), re.S)
    (found,) = [b for b in blocks if b.startswith(f"# {name}.py\n")]
    module = ModuleType(name)
    exec(compile(found, f"{name}.py", "exec"), module.__dict__)
    return module


def printed(main: Any, url: str) -> Any:
    """What `await main(url)` prints, as an awaitable of the text."""

    async def run() -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            await main(url)
        return out.getvalue()

    return run()


def _client_id_free(text: str) -> str:
    return re.sub(r'"client_id":"[^"]*"', '"client_id":"ID"', text)


def load_client_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("e2e_oauth_client", EXAMPLES / "oauth_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_quick_start_prints_what_the_page_says() -> None:
    quick = section("## Quick start")
    commands = re.findall(r"```sh\n(.*?)```", quick, re.S)
    # tests/examples/test_oauth_client.py runs these two, with a free port for 8000.
    assert commands == [
        "mcpkit run examples/protected.py --transport http --port 8000\n",
        "python examples/oauth_client.py http://127.0.0.1:8000/mcp\n",
    ]
    (shown,) = re.findall(r"```text\n(.*?)```", quick, re.S)
    async with asyncio.timeout(WAIT), serving(load_protected().server.http_app()) as base:
        out = await printed(load_client_example().main, base + "/mcp")
    # The example prints the client id too; the page abbreviates it.
    assert _client_id_free(out) == _client_id_free(shown)


async def test_the_quick_start_blocks_complete_the_flow_and_step_up() -> None:
    heading = "## Quick start"
    server = block("protected", heading).server
    client = block("oauth_client", heading)
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        out = await printed(client.main, base + "/mcp")
        auth = OAuth(HeadlessRedirect())
        async with Client(base + "/mcp", auth=auth) as stepping:
            rotated = await stepping.call_tool("rotate_secrets")
        held = (await stored_tokens(auth)).scope
    assert out == 'tools: whoami\nwhoami: {"subject":"dev-user","scopes":["mcp"]}\n'
    assert rotated.text == "secrets rotated" and held == "mcp admin"
    example = (EXAMPLES / "protected.py").read_text()
    assert 'auth_server.protect(required_scopes=["mcp"]' in example  # the page shows the file


async def test_protect_and_verifier_as_the_page_shows_them() -> None:
    beside = block("beside", "## The development authorization server")
    for server in (beside.notes, beside.strict):
        async with (
            asyncio.timeout(WAIT),
            serving(server.http_app()) as base,
            httpx.AsyncClient(timeout=WAIT) as http,
        ):
            prm = await http.get(base + "/.well-known/oauth-protected-resource/mcp")
            auth = OAuth(HeadlessRedirect())
            async with Client(base + "/mcp", auth=auth) as client:
                await client.ping()  # connected: the flow is complete
            tokens = await stored_tokens(auth)
        assert prm.json()["authorization_servers"] == [base]
        assert prm.json()["scopes_supported"] == ["notes:read", "notes:write"]
        assert tokens.scope == "notes:read" and tokens.issuer == base


async def test_the_introspection_block_refuses_a_revoked_token_at_its_next_use() -> None:
    introspected = block("introspected", "## The development authorization server")
    assert introspected.ORIGIN == "http://127.0.0.1:8000"
    try:
        async with (
            asyncio.timeout(WAIT),
            serving(introspected.app) as base,
            httpx.AsyncClient(timeout=WAIT) as http,
        ):
            introspected.verifier.endpoint = base + "/introspect"  # the port given to this test
            auth = OAuth(HeadlessRedirect())
            async with Client(base + "/mcp", auth=auth):
                pass
            tokens = await stored_tokens(auth)
            accepted = await http.post(
                base + "/mcp", json=INITIALIZE, headers=bearer(tokens.access_token)
            )
            client = await auth.storage.load_client(tokens.issuer)  # kept per issuer
            assert client is not None
            revoked = await http.post(
                base + "/revoke",
                data={"token": tokens.access_token, "client_id": client.information.client_id},
            )
            refused = await http.post(
                base + "/mcp", json=INITIALIZE, headers=bearer(tokens.access_token)
            )
    finally:
        await introspected.verifier.aclose()
    assert (accepted.status_code, revoked.status_code, refused.status_code) == (200, 200, 401)


def test_the_page_reads_top_to_bottom() -> None:
    headings = re.findall(r"^## (.+)$", DOC.read_text(), re.M)
    assert headings[:5] == [
        "Quick start",
        "Protecting a server",
        "Verifying tokens",
        "The development authorization server",
        "Authorizing a client",
    ]
    # Every link within the page goes to a section (## or ###) of it, by GitHub's anchors.
    sections = re.findall(r"^#{2,3} (.+)$", DOC.read_text(), re.M)
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in sections}
    for anchor in re.findall(r"\]\(#([\w-]+)\)", DOC.read_text()):
        assert anchor in anchors, anchor
