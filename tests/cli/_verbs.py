"""Running `mcpkit` verbs as a user does (a subprocess with this checkout's sources first on
the path), blocking or from async tests; and the verbs' test server, by path or imported."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from _processes import finished

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "tests" / "cli" / "servers" / "verbs_server.py"
WAIT = 60.0  # seconds: a bound on a hang, not a measurement

# the HTTP tests' helpers (_serving: uvicorn in this loop; _running: `mcpkit run` children)
if str(REPO / "tests" / "http") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "http"))


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(extra or {})
    return env


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Ran:
    """`mcpkit ARGS` to its end; stdin is empty unless given."""
    done = subprocess.run(
        [sys.executable, "-m", "mcpkit", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=cli_env(env),
        cwd=REPO,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


async def acli(*args: str, env: dict[str, str] | None = None) -> Ran:
    """The same from an async test, so a server in this loop keeps serving meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpkit",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(env),
        cwd=REPO,
    )
    async with asyncio.timeout(WAIT):
        out, err = await finished(proc)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


def load_server() -> ModuleType:
    """The verbs' test server module, imported in this process (to serve it over HTTP)."""
    spec = importlib.util.spec_from_file_location("verbs_server", SERVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
