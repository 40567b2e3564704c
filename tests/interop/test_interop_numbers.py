"""Numbers in form elicitation with the official Python SDK's client: it answers 2.5 to a
`float` field of an mcpkit server, 3 to a float and 3.0 to an `int`, directly and through
`mcpkit proxy`. schema.ts types an answer's values `number` (schema.json says `integer`:
docs/spec-deviations.md); the SDK follows schema.ts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest
from interop_harness import (
    REPO,
    SUBPROCESS_TIMEOUT,
    client_command,
    peer_env,
    run_peer_client,
    server_command,
)

SUITE = "numbers"
EXPECTED = [
    {"ratio": [2.5, "float"], "quantity": [3, "int"], "speed": [1.5, "float"]},
    {"ratio": [3.0, "float"], "quantity": [3, "int"], "speed": [1.5, "float"]},
]


def check(summary: dict[str, Any]) -> None:
    assert summary["client"] == "official"
    assert [json.loads(r) if isinstance(r, str) else r for r in summary["results"]] == EXPECTED
    speed = summary["schemas"][0]["properties"]["speed"]
    assert speed == {"type": "number", "default": 1.5}


def test_the_official_client_answers_fractions_to_an_mcpkit_server() -> None:
    check(run_peer_client("official", "mcpkit", SUITE))


def test_the_official_client_answers_fractions_through_mcpkit_proxy() -> None:
    upstream = " ".join(server_command("mcpkit", SUITE)) + " --stdio"  # a command, not a file
    argv = [*client_command("official", SUITE), sys.executable, "-m", "mcpkit", "proxy", upstream]
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=peer_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a hang is ended with everything the client started
    )
    try:
        out, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"no result within {SUBPROCESS_TIMEOUT} s\nstdout:\n{out}\nstderr:\n{err}")
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}"
    check(json.loads(out.strip().splitlines()[-1]))
