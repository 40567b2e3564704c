"""The agent frameworks, downstream: each framework's MCP adapter against examples/everything.py
(and the recursive and workaround servers of scripts/agent_frameworks_server.py), over stdio and
Streamable HTTP on 127.0.0.1, compared with scripts/downstream_expected.json.

Run as `scripts/downstream` (which `.ci/run` runs after the suite). Each framework gets a
virtualenv of its own, made from its lock in scripts/downstream_locks/ (the whole environment,
installed with `--no-deps`, so a new release upstream changes nothing until a lock is bumped)
and kept under the cache folder, keyed by the lock's content. No model is called: the probes
(scripts/agent_probes.py) list the tools each adapter makes, convert their schemas and call a
few as the framework's agent loop would. Exit 1 when a check that worked stopped working, an
install failed or the time budget ran out; a check that newly works is reported, not a failure
(`--update` writes the file anew). docs/agents.md says how to bump a lock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent_frameworks import FRAMEWORKS, SERVER_FILE, TREE, plan, run_child, served, versions
from downstream_compare import compare, flatten, verdicts

HERE = Path(__file__).resolve().parent
LOCKS = HERE / "downstream_locks"
EXPECTED = HERE / "downstream_expected.json"
EVERYTHING = HERE.parent / "examples" / "everything.py"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcpkit-downstream"

#: The whole script's budget, installs on a cold cache included (864 s measured for five frameworks
#: on a 2-core machine at load 16; a warm cache skips the installs); each step's own limits.
BUDGET = 1500.0
INSTALL_TIMEOUT = 300.0
RUN_TIMEOUT = 240.0

EVERYTHING_PLAN = {
    "convert": [
        "add",
        "stats",
        "divide",
        "files",
        "slow",
        "visit",
        "ask_model",
        "sign_up",
        "connect_account",
        "roots",
        "add_greeting_tool",
        "write_note",
    ],
    "calls": [
        {"tool": "add", "arguments": {"a": 2, "b": 3}, "expect": "5"},
        {"tool": "stats", "arguments": {"values": [1, 2, 3]}, "expect": "2.0"},
        {
            "tool": "divide",
            "arguments": {"a": 1, "b": 0},
            "expect": "b must not be zero",
            "error": True,
        },
        {"tool": "files", "arguments": {}, "expect": "two files"},
    ],
}
RECURSIVE_PLAN = {
    "convert": ["count_nodes"],
    "calls": [{"tool": "count_nodes", "arguments": {"tree": TREE}, "expect": "3"}],
}
WORKAROUND_PLAN = {
    "convert": ["count_nodes"],
    "calls": [
        entry
        for entry in plan("Error executing tool lookup: no entry")["calls"]
        if entry["tool"] in ("count_nodes", "lookup")
    ],
}
SERVERS = {
    "everything": (f"{EVERYTHING}:server", EVERYTHING_PLAN),
    "recursive": (f"{SERVER_FILE}:server", RECURSIVE_PLAN),
    "workaround": (f"{SERVER_FILE}:workaround", WORKAROUND_PLAN),
}


class InstallFailed(Exception):
    """A framework's virtualenv could not be made: one line saying why."""


class Clock:
    """The budget: what is left of it, and a step's limit within it."""

    def __init__(self, budget: float) -> None:
        self.deadline = time.monotonic() + budget

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def limit(self, step: float) -> float:
        return max(0.0, min(step, self.left()))


def requires(name: str) -> list[str]:
    """The requirements a lock was made from (its `# requires:` line)."""
    for line in (LOCKS / f"{name}.txt").read_text().splitlines():
        if line.startswith("# requires:"):
            return line.removeprefix("# requires:").split()
    raise SystemExit(f"scripts/downstream_locks/{name}.txt has no '# requires:' line")


def pip(python: Path, args: list[str], timeout: float, what: str) -> str:
    """`python -m pip install ARGS`, quietly; its output, or InstallFailed with its last line."""
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"{what}: pip took over {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise InstallFailed(f"{what}: pip exited {done.returncode}: {last}")
    return done.stdout


def new_venv(folder: Path, timeout: float) -> Path:
    """A virtualenv at `folder` (made anew) of this python's version; its python."""
    shutil.rmtree(folder, ignore_errors=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(folder)],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise InstallFailed(f"python -m venv {folder}: {exc}") from None
    return folder / "bin" / "python"


def venv_for(name: str, cache: Path, clock: Clock) -> Path:
    """The python of NAME's virtualenv, made from its lock unless the cache has one for the
    lock's content (and this python's version); older ones of NAME are removed."""
    lock = LOCKS / f"{name}.txt"
    key = hashlib.sha256(lock.read_bytes() + sys.version.encode()).hexdigest()[:12]
    folder = cache / f"{name}-{key}"
    if (folder / ".complete").exists():
        return folder / "bin" / "python"
    for old in cache.glob(f"{name}-*"):
        shutil.rmtree(old, ignore_errors=True)
    partial = cache / f"{name}-{key}.partial"
    python = new_venv(partial, clock.limit(60))
    pip(python, ["--no-deps", "-r", str(lock)], clock.limit(INSTALL_TIMEOUT), f"{name}'s lock")
    (partial / ".complete").write_text(lock.read_text())
    partial.rename(folder)
    return folder / "bin" / "python"


def relock(name: str) -> None:
    """Write NAME's lock anew: its `# requires:` installed with their dependencies into a new
    virtualenv, then frozen."""
    lock = LOCKS / f"{name}.txt"
    header = [line for line in lock.read_text().splitlines() if line.startswith("#")]
    with tempfile.TemporaryDirectory() as scratch:
        python = new_venv(Path(scratch) / "venv", 60)
        pip(python, requires(name), INSTALL_TIMEOUT, f"{name}'s requirements")
        frozen = subprocess.run(
            [str(python), "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    lock.write_text("\n".join(header) + "\n" + frozen)
    print(f"wrote {lock}; run scripts/downstream --only {name} --update next")


def one(name: str, targets: dict[str, Any], cache: Path, clock: Clock) -> dict[str, Any]:
    """NAME's checks ({"failed": why} when its install or its run failed)."""
    if clock.left() <= 0:
        return {"failed": "not run: the time budget was spent"}
    try:
        python = str(venv_for(name, cache, clock))
    except InstallFailed as exc:
        return {"failed": f"install failed: {exc}"}
    timeout = clock.limit(RUN_TIMEOUT)
    if timeout <= 0:
        return {"failed": "not run: the time budget was spent"}
    framework, mcp = versions(python, FRAMEWORKS[name], "mcp")
    print(f"== {name}: {FRAMEWORKS[name]} {framework}, mcp {mcp}", flush=True)
    answer = run_child(python, name, targets, timeout)
    if "failed" in answer:
        return answer
    return {"checks": flatten(answer)}


def report(name: str, found: dict[str, Any], expected: dict[str, str]) -> bool:
    """Print what changed for NAME; whether nothing stopped working."""
    if "failed" in found:
        print(f"FAIL {name}: {found['failed']}", flush=True)
        return False
    lost, gained = compare(expected, found["checks"])
    for line in lost:
        print(f"FAIL {name}: {line}")
    for line in gained:
        print(f"NEW  {name}: {line} (scripts/downstream --only {name} --update records it)")
    if not lost:
        print(f"ok   {name}: {len(expected)} checks as expected", flush=True)
    return not lost


def main() -> int:
    names = sorted(path.stem for path in LOCKS.glob("*.txt"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="*", default=names, choices=names)
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"default {CACHE}")
    parser.add_argument("--budget", type=float, default=BUDGET, help="seconds, installs included")
    parser.add_argument("--update", action="store_true", help="write the verdicts as expected")
    parser.add_argument("--lock", choices=names, help="write this framework's lock anew")
    options = parser.parse_args()
    if options.lock:
        relock(options.lock)
        return 0
    options.cache.mkdir(parents=True, exist_ok=True)
    clock = Clock(options.budget)
    expected: dict[str, dict[str, str]] = (
        json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    )
    started = time.monotonic()
    good = True
    with served(SERVERS) as targets:
        for name in options.only:
            found = one(name, targets, options.cache, clock)
            if options.update and "checks" in found:
                expected[name] = verdicts(found["checks"])
            good = report(name, found, expected.get(name, {})) and good
    if options.update:
        EXPECTED.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
        print(f"wrote {EXPECTED}")
    print(f"downstream: {time.monotonic() - started:.0f} s of a {options.budget:.0f} s budget")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
