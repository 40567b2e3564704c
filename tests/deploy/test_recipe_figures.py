"""The figures docs/deploy.md's recipes quote are the server's: the drain (5 s for calls, 8 s at
most), the SSE keep-alive (15 s, below every proxy idle timeout the page sets), the 5 s after
which `mcpkit run` closes an idle connection (uvicorn's, which nginx's keepalive_timeout must
stay under), the health paths. A change to one of them fails here, not in production."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from mcpkit.server.serving import _http_run
from mcpkit.transports.deployment.app_settings import AppSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
PAGE = " ".join(DOC.split())


def section(title: str) -> str:
    start = DOC.index(f"## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return " ".join(DOC[start : end if end != -1 else None].split())


def default(name: str) -> object:
    return inspect.signature(AppSettings).parameters[name].default


def test_the_drain_is_the_one_quoted() -> None:
    assert (_http_run.SHUTDOWN_GRACE, _http_run.SHUTDOWN_TIMEOUT) == (5, 8)
    assert "gives running calls 5 s and exits within 8 (`SHUTDOWN_TIMEOUT`)" in PAGE
    assert "mcpkit's drain takes at most 8" in section("Cloud Run")


def test_the_sse_keep_alive_is_below_the_idle_timeouts_the_page_sets() -> None:
    interval = default("keepalive_interval")
    assert interval == 15.0
    assert "each `keepalive_interval` (15 s)" in PAGE
    # nginx's proxy_read_timeout in the page's configuration, and the ALB's default.
    read_timeout = re.search(r"proxy_read_timeout (\d+)h;", DOC)
    assert read_timeout is not None and int(read_timeout.group(1)) * 3600 > interval
    assert "(60 s by default)" in section("Behind an AWS Application Load Balancer")


def test_an_idle_connection_is_closed_after_the_five_seconds_quoted() -> None:
    """`mcpkit run` closes an idle connection after `keep_alive` seconds, 5 unless told (the
    figure the page quotes: nginx keeps its own below it, the ALB needs `--keep-alive` above
    its idle timeout), and hands uvicorn that same value."""
    assert default("keep_alive") == 5
    source = inspect.getsource(_http_run)
    config = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "uvicorn.Config"
    ]
    assert config and all("timeout_keep_alive" in {k.arg for k in call.keywords} for call in config)
    assert "`keepalive_timeout 4s;` there, below the 5 s" in PAGE
    assert "closes idle connections after 5 seconds unless told" in PAGE


def test_the_health_paths_are_the_ones_quoted() -> None:
    assert (default("health_path"), default("ready_path")) == ("/healthz", "/readyz")
    for title in ("Kubernetes", "Behind an AWS Application Load Balancer"):
        assert "`/readyz`" in section(title), title
