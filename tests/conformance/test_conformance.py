"""The official MCP conformance suite, run by scripts/conformance, as part of our test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "conformance"
# Installing the harness takes about 20 s, each part well under a minute; this bounds a hang.
TIMEOUT = 900.0


def _run(part: str) -> None:
    env = dict(os.environ)
    # The fixture server and client must import this tree's mcpkit, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--part", part],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"conformance ({part}) failed:\n{done.stdout}\n{done.stderr}", pytrace=False)


def test_server_scenarios() -> None:
    """Every server scenario (65: 2025-11-25, 2026-07-28, the tasks and skills extensions)
    passes against tests/conformance/server.py, with no expected-failures list."""
    _run("server")


def test_client_scenarios() -> None:
    """Every client scenario (48: both revisions, authorization and its extensions, skills)
    passes with tests/conformance/client.py, with no expected-failures list."""
    _run("client")
