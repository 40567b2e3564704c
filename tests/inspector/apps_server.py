"""A server for the inspector's MCP Apps tests: a view that reports what its CSP lets it reach
(MCPKIT_TEST_ALLOWED and MCPKIT_TEST_BLOCKED: two loopback origins, the first declared) and
what the host lets it call, and one that asks to open links."""

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


# The same probe in documents that once slipped out of the policy put in their text: its
# script before <head> (it ran before the policy did), and a <header> with no <head> (the
# policy landed in it, outside any head, and was ignored).
SCRIPT = PROBE[PROBE.index("<script>") : PROBE.index("</script>") + len("</script>")]
EARLY = '<script>window.early = fetch("BLOCKED_URL/ok").then((r) => r.status, () => "failed")'
server.add_view(
    "ui://probe/script-first",
    (EARLY + "</script><!DOCTYPE html><html><head><title>p</title></head><body>" + SCRIPT)
    .replace("ALLOWED_URL", ALLOWED)
    .replace("BLOCKED_URL", BLOCKED),
    csp=Csp(connect_domains=(ALLOWED,)),
)
server.add_view(
    "ui://probe/header-no-head",
    ("<html><header><p>a header</p></header><body>" + SCRIPT + "</body></html>")
    .replace("ALLOWED_URL", ALLOWED)
    .replace("BLOCKED_URL", BLOCKED),
    csp=Csp(connect_domains=(ALLOWED,)),
)


@server.tool(view="ui://probe/view")
def probe() -> str:
    """Open the probe."""
    return "probing"


@server.tool(view="ui://probe/script-first")
def probe_script_first() -> str:
    return "probing"


@server.tool(view="ui://probe/header-no-head")
def probe_header_no_head() -> str:
    return "probing"


@server.tool(view="ui://probe/view", visibility=["model"])
def model_only() -> str:
    return "for the model"


@server.tool(view="ui://probe/view", visibility=["app"])
def app_only() -> str:
    return "for the view"


# A view that asks to open links: one hiding its host behind a user name, one of another
# scheme, one (MCPKIT_TEST_ALLOWED/page) the person is asked about, and two more too soon.
LINKS = (Path(__file__).parent / "apps_links.html").read_text()
server.add_view("ui://probe/links", LINKS.replace("LINK_URL", f"{ALLOWED}/page"))
server.add_view("ui://probe/links-again", LINKS.replace("LINK_URL", f"{ALLOWED}/page"))


@server.tool(view="ui://probe/links")
def links() -> str:
    return "asking"


@server.tool(view="ui://probe/links-again")
def links_again() -> str:
    return "asking"


WAIT = (Path(__file__).parent / "apps_wait.html").read_text()
server.add_view("ui://probe/wait", WAIT)


@server.tool(view="ui://probe/wait")
async def wait_long(seconds: float) -> str:
    """Wait, with a view that shows how the call ends."""
    import asyncio

    await asyncio.sleep(seconds)
    return "waited"
