"""Starting the interop peers: setup checks, their commands, and running a peer client.

A suite's peers are named `<peer>[_<suite>]_<role>` in peers/: `official_server.py`,
`ts_features_client.mjs`, and so on (peer: official, ts, mcpkit; role: server, client).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
REPO = HERE.parent.parent
SRC = REPO / "src"

SUBPROCESS_TIMEOUT = 30.0  # seconds; a bound on hangs, not a performance assertion
SETUP_HINT = (
    "interop peers are not installed; run the test setup once:\n"
    "    .venv/bin/pip install -r tests/interop/requirements.txt\n"
    "    (cd tests/interop && npm ci)"
)


def require_python_sdk() -> None:
    """Fail (never skip) when the official Python SDK, 2.x, is not importable."""
    if importlib.util.find_spec("mcp") is None:
        pytest.fail(f"the official Python SDK (`mcp`) is missing. {SETUP_HINT}")
    if importlib.util.find_spec("mcp.server.mcpserver") is None:
        pytest.fail(f"the installed `mcp` is older than 2.x. {SETUP_HINT}")


def require_node() -> str:
    """Fail (never skip) without node or the TypeScript SDK; return node's path."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"`node` is not on PATH (Node.js 20+ is needed). {SETUP_HINT}")
    if not (HERE / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json").is_file():
        pytest.fail(f"tests/interop/node_modules lacks @modelcontextprotocol/sdk. {SETUP_HINT}")
    return node


def _peer(peer: str, role: str, suite: str) -> list[str]:
    stem = f"{peer}_{suite}_{role}" if suite else f"{peer}_{role}"
    if peer == "ts":
        return [require_node(), str(PEERS / f"{stem}.mjs")]
    if peer == "official":
        require_python_sdk()
    return [sys.executable, str(PEERS / f"{stem}.py")]


def server_command(server: str, suite: str = "") -> list[str]:
    """The stdio command that starts peer server `server` of `suite`."""
    return _peer(server, "server", suite)


def client_command(client: str, suite: str = "") -> list[str]:
    """The command of peer client `client`, to which a server command is appended."""
    return _peer(client, "client", suite)


def peer_env() -> dict[str, str]:
    """This environment, with mcpkit's source importable by the servers the peers start."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return env


def run_peer_client(client: str, server: str, suite: str = "") -> dict[str, Any]:
    """Run peer client `client` against peer server `server`; return its JSON summary."""
    argv = client_command(client, suite) + server_command(server, suite)
    return run_summary(argv, f"{client} client vs {server} server")


def through_proxy(client: str, server: str, suite: str = "") -> list[str]:
    """Peer client `client` with `mcpkit proxy '<server's command>'` as its server."""
    upstream = " ".join(server_command(server, suite))
    if upstream.endswith(".py"):  # client/target.py reads that text as a file to `mcpkit run`
        upstream += " --stdio"  # an argument the peer ignores keeps it a command
    return [*client_command(client, suite), sys.executable, "-m", "mcpkit", "proxy", upstream]


def run_summary(argv: list[str], what: str) -> dict[str, Any]:
    """Run a peer client's `argv` to its end (bounded); the JSON summary its last line is."""
    # A session of its own, so a hang is ended with the server the client started.
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=peer_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(
            f"{what}: no result within {SUBPROCESS_TIMEOUT} s\nstdout:\n{out}\nstderr:\n{err}"
        )
    if proc.returncode != 0:
        pytest.fail(f"{what}: exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}")
    try:
        summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        pytest.fail(f"{what}: no JSON summary ({exc})\nstdout:\n{out}\nstderr:\n{err}")
    return summary
