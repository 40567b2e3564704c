"""Import time: run one import statement in fresh interpreters and report the median.

Each run is a new process, timed inside it around the statement only (interpreter start-up is
not counted); the number of modules the statement loaded is reported too. One discarded run
first lets Python write its bytecode caches.

    python bench/import_time.py --python .venv/bin/python --runs 7 "import mcpkit"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

_PROBE = """\
import sys, time
before = len(sys.modules)
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(elapsed * 1e3, len(sys.modules) - before)
"""

# Variables that would make the measurement unrepresentative of a user's machine.
_UNSET = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDEVMODE",
    "PYTHONTRACEMALLOC",
    "PYTHONASYNCIODEBUG",
    "PYTHONMALLOC",
    "PYTHONUNBUFFERED",
)


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in _UNSET:
        env.pop(name, None)
    return env


def measure_import(python: str, statement: str, runs: int, timeout: float = 60.0) -> dict[str, Any]:
    code = _PROBE.format(statement=statement)
    times: list[float] = []
    modules = 0
    for i in range(runs + 1):
        out = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(),
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{python} -c {statement!r} failed: {out.stderr.strip()[-2000:]}")
        ms, count = out.stdout.split()
        if i > 0:  # the first run writes bytecode caches
            times.append(float(ms))
            modules = int(count)
    return {
        "statement": statement,
        "median_ms": statistics.median(times),
        "runs_ms": times,
        "modules_loaded": modules,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("statement", nargs="+")
    args = parser.parse_args()
    results = [measure_import(args.python, s, args.runs) for s in args.statement]
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print(
                f"{r['statement']}: {r['median_ms']:.1f} ms median of {len(r['runs_ms'])}, "
                f"{r['modules_loaded']} modules"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
