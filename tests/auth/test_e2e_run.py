"""`mcpkit run examples/protected.py --transport http --port 0` in a subprocess, as a user
starts it, and a fresh mcpkit client completing the whole flow against it (step-up included)."""

from __future__ import annotations

import httpx
from _e2e_helpers import WAIT
from _resource_helpers import bearer
from _running import mcpkit, running
from _serving import INITIALIZE

from mcpkit import Client
from mcpkit.auth.client import HeadlessRedirect, OAuth


async def test_a_fresh_client_completes_the_flow_against_mcpkit_run() -> None:
    argv = mcpkit("run", "examples/protected.py", "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        async with httpx.AsyncClient(timeout=WAIT) as http:
            refused = await http.post(url, json=INITIALIZE, headers=bearer(None))
        auth = OAuth(HeadlessRedirect())
        async with Client(url, auth=auth) as client:
            who = await client.call_tool("whoami")
            rotated = await client.call_tool("rotate_secrets")
        assert auth.server is not None
        tokens = await auth.storage.load_tokens(auth.server)
    assert refused.status_code == 401
    assert 'resource_metadata="' in refused.headers["www-authenticate"]
    assert '"subject":"dev-user"' in who.text
    assert rotated.text == "secrets rotated"
    assert tokens is not None and tokens.scope is not None
    assert set(tokens.scope.split()) == {"mcp", "admin"}
    assert tokens.access_token not in server.text  # tokens never reach the log
