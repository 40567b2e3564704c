"""A plain `pip install mcpkit` has no HTTP client, uvicorn or JOSE library: the command line
says which extra to install instead of showing a traceback (the missing modules are hidden
with `sys.modules[name] = None`, which makes their import fail as if absent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mcpkit_without(modules: list[str], *argv: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    sys.modules[name] = None\n"
        "from mcpkit.cli.main import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )


def test_a_url_without_httpx_names_the_http_extra() -> None:
    done = mcpkit_without(["httpx", "joserfc"], "list", "http://127.0.0.1:9/mcp")
    assert done.returncode == 3, done.stderr
    assert 'pip install "mcpkit[http]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_the_inspector_without_uvicorn_names_the_http_extra() -> None:
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["uvicorn"], "inspect", target, "--web", "--no-browser")
    assert done.returncode == 1, done.stderr
    assert 'uvicorn: pip install "mcpkit[http]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_list_works_over_stdio_with_none_of_the_extras() -> None:
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["httpx", "uvicorn", "joserfc"], "list", target)
    assert done.returncode == 0, done.stderr
    assert "Tool add" in done.stdout
