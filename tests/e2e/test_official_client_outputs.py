"""The failure reported against a `-> list` tool, checked with the client that reported it:
the official Python SDK accepts the result of every tool in the output-schema table (it
refuses a result with an output schema but no, or non-conforming, structured content)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import mcpkit

CHECK = pathlib.Path(__file__).with_name("official_output_check.py")


def test_the_official_python_client_accepts_every_result() -> None:
    env = dict(os.environ)
    # The server subprocess imports this checkout's mcpkit, whatever is installed.
    env["PYTHONPATH"] = str(pathlib.Path(mcpkit.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, str(CHECK)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == []
