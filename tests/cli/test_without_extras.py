"""A plain `pip install mcpkit` has no HTTP client, uvicorn or JOSE library: the command line
says which extra to install instead of showing a traceback (the missing modules are hidden
with `sys.modules[name] = None`, which makes their import fail as if absent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mcpkit_without(
    modules: list[str], *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
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
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
    )


def test_a_url_without_httpx_names_the_http_extra() -> None:
    done = mcpkit_without(["httpx", "joserfc"], "list", "http://127.0.0.1:9/mcp")
    assert done.returncode == 3, done.stderr
    assert "pip install 'mcpkit[http]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_inspector_without_uvicorn_names_the_http_extra() -> None:
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["uvicorn"], "inspect", target, "--web", "--no-browser")
    assert done.returncode == 1, done.stderr
    assert "the inspector needs uvicorn, which is not installed: pip install 'mcpkit[http]'" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr


def test_list_works_over_stdio_with_none_of_the_extras() -> None:
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["httpx", "uvicorn", "joserfc"], "list", target)
    assert done.returncode == 0, done.stderr
    assert "Tool add" in done.stdout


AUTH_SERVER = """
from mcpkit import Server
from mcpkit.auth.server.jwt import JwtVerifier

server = Server("guarded")
"""


def test_run_of_a_file_importing_mcpkit_auth_without_joserfc_names_the_auth_extra(
    tmp_path: Path,
) -> None:
    server = tmp_path / "guarded.py"
    server.write_text(AUTH_SERVER)
    done = mcpkit_without(["joserfc"], "run", str(server))
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "error: guarded.py, line 3: mcpkit.auth.server.jwt needs joserfc, which is not "
        "installed: pip install 'mcpkit[auth]'\n"
    )
    verbose = mcpkit_without(["joserfc"], "run", str(server), "--verbose")
    assert verbose.returncode == 1
    assert "Traceback (most recent call last):" in verbose.stderr
    assert "fix that error in your code" not in verbose.stderr
    assert verbose.stderr.endswith(done.stderr)


def test_a_redis_store_without_redis_names_the_redis_extra() -> None:
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["redis"], "run", target, "--store", "redis://127.0.0.1:9/0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        "error: --store: the store redis://127.0.0.1:9/0 needs redis, which is not installed: "
        "pip install 'mcpkit[redis]'\n"
    )


def test_uvloop_asked_for_without_uvloop_names_the_fast_extra() -> None:
    """MCPKIT_UVLOOP=1 asks for uvloop: without it, said; unset, plain asyncio serves."""
    target = str(REPO / "examples" / "tools.py")
    done = mcpkit_without(["uvloop"], "run", target, env={"MCPKIT_UVLOOP": "1"})
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "error: MCPKIT_UVLOOP=1 needs uvloop, which is not installed: pip install 'mcpkit[fast]'\n"
    )


def test_goose_yaml_without_pyyaml_names_the_cli_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['yaml'] = None\n"
        "from mcpkit.cli.hosts.yaml_file import yaml_module\n"
        "yaml_module()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert done.stderr.endswith(
        "ConfigError: Goose's configuration (YAML) needs PyYAML, which is not installed: "
        "pip install 'mcpkit[cli]'\n"
    )
