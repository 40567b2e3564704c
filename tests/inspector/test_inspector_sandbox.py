"""The views' sandbox (MCP Apps): served on a port of its own, it answers its one page, framed
by the inspector alone, and the views the page keeps there, as sent, with their policy as a
header; nothing of the inspector's API; the inspector's page may frame it and nothing else;
and a changed view file makes `mcpkit dev` show it again."""

from __future__ import annotations

from pathlib import Path

import httpx
from _inspector_harness import log_in, served

from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.sandbox import MAX_VIEWS, view_policy
from mcpkit.inspector.watch import files_to_watch


async def test_the_sandbox_port_serves_its_page_alone() -> None:
    async with served(InspectorHub()) as (base, app):
        port = app.sandbox_port
        assert port is not None
        sandbox = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=30) as http:
            page = await http.get(f"{sandbox}/sandbox", params={"host": base})
            assert page.status_code == 200
            assert page.headers["content-security-policy"] == f"frame-ancestors {base}"
            assert f'const HOST = "{base}";' in page.text
            assert "ui/notifications/sandbox-proxy-ready" in page.text
            # the host it posts to is the inspector's page: a loopback origin, another port
            for host in ["https://127.0.0.1:1", "http://evil.example:80", sandbox, "", "x"]:
                refused = await http.get(f"{sandbox}/sandbox", params={"host": host})
                assert refused.status_code == 400, host
            # nothing else of the inspector there, logged in or not
            await log_in(http, base, app)
            for path in ["/", "/app.js", "/api/events"]:
                assert (await http.get(f"{sandbox}{path}")).status_code == 404
            assert (await http.post(f"{sandbox}/api/state", json={})).status_code == 404
            # a name that is not loopback is refused there too (DNS rebinding)
            rebound = await http.get(
                f"{sandbox}/sandbox", params={"host": base}, headers={"host": "evil.example"}
            )
            assert rebound.status_code == 403


async def test_the_page_may_frame_the_sandbox_and_learns_its_port() -> None:
    async with served(InspectorHub()) as (base, app):
        async with httpx.AsyncClient(timeout=30) as http:
            await log_in(http, base, app)
            page = await http.get(f"{base}/")
            policy = page.headers["content-security-policy"]
            # the sandbox by the name the page was opened with, alone: Chromium logs an
            # IPv6 literal in a source list (http://[::1]:PORT) as an error on every load
            assert policy.endswith(f"; frame-src http://127.0.0.1:{app.sandbox_port}")
            assert "frame-ancestors 'none'" in policy  # nobody frames the inspector itself
            port = base.rsplit(":", 1)[1]
            by_name = await http.get(f"{base}/", headers={"host": f"localhost:{port}"})
            named = by_name.headers["content-security-policy"]
            assert named.endswith(f"; frame-src http://localhost:{app.sandbox_port}")
            assert (await http.get(f"{base}/apps.js")).status_code == 200
            reply = await http.post(f"{base}/api/sandbox", json={})
            assert reply.json() == {"result": {"port": app.sandbox_port}}


def test_mcpkit_dev_watches_the_views_html_beside_the_server(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text("")
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "main.html").write_text("<html></html>")
    (tmp_path / "page.html").write_text("<html></html>")
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "venv" / "lib" / "deep.html").write_text("")  # deeper: left out
    watched = {p.relative_to(tmp_path.resolve()).as_posix() for p in files_to_watch(server)}
    assert watched == {"server.py", "views/main.html", "page.html"}


HOSTILE_VIEWS = [
    "<!doctype html><html><head><title>v</title></head><body><p>plain</p></body></html>",
    # Issue 39: these two got the policy's <meta> where Chromium ignores it
    "<script>fetch('http://evil.example/')</script><html><head></head><body></body></html>",
    "<html><header><h1>no head</h1></header><body><script>fetch('/x')</script></body></html>",
    "not html at all \u00e9 <meta http-equiv='Content-Security-Policy' content='default-src *'>",
]


async def test_a_view_is_served_as_sent_with_its_policy_in_a_header() -> None:
    declared = {
        "connectDomains": ["https://api.example.com", "javascript:alert(1)", 7],
        "resourceDomains": ["https://*.cdn.example:8443", "https://x.example; script-src *"],
    }
    policy = view_policy(declared)
    assert "connect-src https://api.example.com;" in policy
    assert "script-src 'self' 'unsafe-inline' https://*.cdn.example:8443;" in policy
    assert "javascript" not in policy and "x.example" not in policy  # not origins: left out
    assert view_policy(None) == view_policy("not a dict")
    assert "connect-src 'none'" in view_policy(None)
    # a form sends data only where a fetch may: never a way around connect-src
    assert policy.endswith("; form-action https://api.example.com")
    assert view_policy(None).endswith("; form-action 'none'")
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient(timeout=30) as http:
        sandbox = f"http://127.0.0.1:{app.sandbox_port}"
        # only a logged-in page may keep a view there
        refused = await http.post(f"{base}/api/view", json={"html": "<p>x</p>"})
        assert refused.status_code == 403
        await log_in(http, base, app)
        key = ""
        for csp, expected in [(declared, policy), (None, view_policy(None))]:
            for html in HOSTILE_VIEWS:
                added = await http.post(f"{base}/api/view", json={"html": html, "csp": csp})
                key = added.json()["result"]["view"]
                view = await http.get(f"{sandbox}/view/{key}")
                assert view.status_code == 200
                assert view.content == html.encode()  # untouched, whatever it holds
                assert view.headers["content-type"] == "text/html; charset=utf-8"
                assert view.headers["content-security-policy"] == (
                    f"{expected}; frame-ancestors {sandbox} {base}; "
                    "sandbox allow-scripts allow-forms"
                )
                assert view.headers["x-content-type-options"] == "nosniff"
        for path in ["/view/", "/view/guessed", f"/view/{key}/x"]:
            assert (await http.get(f"{sandbox}{path}")).status_code == 404
        assert (await http.post(f"{sandbox}/view/{key}")).status_code == 404
        assert (await http.get(f"{base}/view/{key}")).status_code == 404  # the page's origin


async def test_the_sandbox_keeps_the_latest_views_alone() -> None:
    async with served(InspectorHub()) as (base, app), httpx.AsyncClient(timeout=30) as http:
        await log_in(http, base, app)
        keys = []
        for n in range(MAX_VIEWS + 1):
            added = await http.post(f"{base}/api/view", json={"html": f"<p>{n}</p>"})
            keys.append(added.json()["result"]["view"])
        sandbox = f"http://127.0.0.1:{app.sandbox_port}"
        assert (await http.get(f"{sandbox}/view/{keys[0]}")).status_code == 404
        assert (await http.get(f"{sandbox}/view/{keys[-1]}")).text == f"<p>{MAX_VIEWS}</p>"
