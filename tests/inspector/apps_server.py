"""A server for the inspector's MCP Apps tests: a view that reports what its CSP lets it reach
(MCPKIT_TEST_ALLOWED and MCPKIT_TEST_BLOCKED: two loopback origins, the first declared) and
what the host lets it call."""

from __future__ import annotations

import os
from pathlib import Path

from mcpkit import Server
from mcpkit.apps import Csp

ALLOWED = os.environ.get("MCPKIT_TEST_ALLOWED", "http://127.0.0.1:9")
BLOCKED = os.environ.get("MCPKIT_TEST_BLOCKED", "http://127.0.0.1:10")

server = Server("apps-probe")

PROBE = (Path(__file__).parent / "apps_probe.html").read_text()

server.add_view(
    "ui://probe/view",
    PROBE.replace("ALLOWED_URL", ALLOWED).replace("BLOCKED_URL", BLOCKED),
    csp=Csp(connect_domains=(ALLOWED,)),
)


@server.tool(view="ui://probe/view")
def probe() -> str:
    """Open the probe."""
    return "probing"


@server.tool(view="ui://probe/view", visibility=["model"])
def model_only() -> str:
    return "for the model"


@server.tool(view="ui://probe/view", visibility=["app"])
def app_only() -> str:
    return "for the view"


WAIT = (Path(__file__).parent / "apps_wait.html").read_text()
server.add_view("ui://probe/wait", WAIT)


@server.tool(view="ui://probe/wait")
async def wait_long(seconds: float) -> str:
    """Wait, with a view that shows how the call ends."""
    import asyncio

    await asyncio.sleep(seconds)
    return "waited"
