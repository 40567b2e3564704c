"""The hand-off of a trivial sync function to a worker thread and back, per call, on each loop.

Compares mcpkit's `WorkerPool.run` with `asyncio.to_thread`, on plain asyncio and on uvloop
(when installed), one call at a time and 16 at once. Reports wall time and process CPU time
(all threads, `time.process_time`) per call: the median of several rounds with the spread, as
the machine may be shared. `--module` loads another version of `runtime/workers.py` to
compare (for example the one on the main branch).

    python bench/workers.py [--rounds 5] [--calls 20000] [--json] [--module path/workers.py]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Runner = Callable[[Callable[[], int]], Awaitable[int]]


def trivial() -> int:
    return 1


def load_runner(module: Path | None) -> Runner:
    if module is None:
        from mcpkit.runtime.workers import WorkerPool

        return WorkerPool().run
    spec = importlib.util.spec_from_file_location("bench_workers_module", module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.WorkerPool().run  # type: ignore[no-any-return]


async def sequential(run: Runner, calls: int) -> None:
    for _ in range(calls):
        await run(trivial)


async def concurrent(run: Runner, calls: int, width: int = 16) -> None:
    for _ in range(calls // width):
        await asyncio.gather(*[run(trivial) for _ in range(width)])


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def measure(kind: str, run: Runner, shape: str, calls: int) -> tuple[float, float]:
    """(wall us, CPU us) per call for one shape on a fresh loop, after a warm-up."""
    body = sequential if shape == "sequential" else concurrent
    loop = new_loop(kind)
    try:
        loop.run_until_complete(body(run, 500))
        wall, cpu = time.perf_counter(), time.process_time()
        loop.run_until_complete(body(run, calls))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        loop.close()
    return wall / calls * 1e6, cpu / calls * 1e6


def loops() -> list[str]:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ["asyncio"]
    return ["asyncio", "uvloop"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--module", type=Path, help="a workers.py to measure instead of mcpkit's")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    args = parser.parse_args()
    runners: dict[str, Runner] = {"pool": load_runner(args.module), "to_thread": asyncio.to_thread}
    samples: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for kind in loops():
            for name, run in runners.items():
                for shape in ("sequential", "concurrent"):
                    figures = measure(kind, run, shape, args.calls)
                    samples.setdefault((kind, name, shape), []).append(figures)
    for (kind, name, shape), values in samples.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        row: dict[str, Any] = {
            "loop": kind,
            "runner": name,
            "shape": shape,
            "wall_us": statistics.median(walls),
            "wall_range": [min(walls), max(walls)],
            "cpu_us": statistics.median(cpus),
            "cpu_range": [min(cpus), max(cpus)],
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{kind:8} {name:10} {shape:11} wall {row['wall_us']:6.1f} us "
                f"({min(walls):.1f}-{max(walls):.1f})  cpu {row['cpu_us']:6.1f} us "
                f"({min(cpus):.1f}-{max(cpus):.1f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
