"""What each store costs per request, how `--workers` scales on one Redis, and what a session
holds in Redis (issue 23).

    python bench/stores_bench.py [--duration 3] [--rounds 2] [--json]

Each figure starts `mcpkit run bench/servers/mcpkit_server.py --transport http --store URL`
(uvloop, httptools: mcpkit's defaults) and drives it with bench/http_loadgen.py: 16 sessions
calling `echo` one call at a time each, as 2025-11-25 sessions and as 2026-07-28 calls.

- Stores: `memory://`, `sqlite:///...`, `redis://...` on one worker: calls/s, p50/p99
  latency, the server's CPU per call, and redis-server's (its own process) per call.
- Workers: `--workers 1, 2, 4` on Redis, 32 sessions: calls/s and the scaling efficiency
  (calls/s at N / (N x calls/s at 1)). This machine has few cores and the load generator
  takes one: read the efficiency against `os.cpu_count()`, printed with it.
- Footprint: 1,000 idle 2025-11-25 sessions opened on a Redis store, and Redis's
  `used_memory` and key count before and after, per session.

redis-server is Debian's (scripts/test installs it); the run starts its own on a free
loopback port, with no persistence, and stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SERVER = BENCH / "servers" / "mcpkit_server.py"
sys.path.insert(0, str(REPO / "tests"))  # the tests' redis-server runner: one of them
from _redis_server import redis_server_running  # noqa: E402

SERVING_WITHIN = 30.0  # seconds for a server to accept connections


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_info(port: int) -> tuple[int, int, int]:
    """redis-server's pid, `used_memory` and keys in every database."""
    client = redis.Redis(port=port)
    try:
        keys = sum(db["keys"] for name, db in client.info("keyspace").items() if name[:2] == "db")
        return client.info("server")["process_id"], client.info("memory")["used_memory"], keys
    finally:
        client.close()


@contextmanager
def served(store: str, workers: int, cwd: Path) -> Iterator[tuple[int, int]]:
    """`mcpkit run` serving the benchmark server: (its pid, its port)."""
    port = free_port()
    cmd = [sys.executable, "-m", "mcpkit", "run", str(SERVER), "--transport", "http"]
    cmd += ["--port", str(port), "--store", store, "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "MCPKIT_UVLOOP": "1"}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=cwd, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVING_WITHIN
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.3 * workers)  # every worker imported and listening
        yield proc.pid, port
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def load(pid: int, port: int, sessions: int, era: str, duration: float) -> dict[str, Any]:
    cmd = [sys.executable, str(BENCH / "http_loadgen.py"), "--json", "--port", str(port)]
    cmd += ["--pid", str(pid), "--sessions", str(sessions), "--duration", str(duration)]
    cmd += ["--warmup", "1", "--era", era]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if out.returncode:
        raise SystemExit(f"loadgen failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def store_costs(redis_port: int, redis_pid: int, work: Path, args: argparse.Namespace) -> list[Any]:
    rows = []
    stores = {
        "memory://": "memory://",
        "sqlite": f"sqlite:///{work / 'bench-state.db'}",
        "redis": f"redis://127.0.0.1:{redis_port}/0",
    }
    for era in ("2025-11-25", "2026-07-28"):
        for name, url in stores.items():
            runs = []
            for _ in range(args.rounds):
                with served(url, 1, work) as (pid, port):
                    before = cpu_seconds(redis_pid)
                    result = load(pid, port, 16, era, args.duration)
                    result["redis_cpu_us_per_call"] = (
                        (cpu_seconds(redis_pid) - before) / result["all_calls"] * 1e6
                    )
                    runs.append(result)
            rows.append({"era": era, "store": name, **median(runs)})
    return rows


def worker_scaling(redis_port: int, work: Path, args: argparse.Namespace) -> list[Any]:
    rows = []
    url = f"redis://127.0.0.1:{redis_port}/1"
    for era in ("2025-11-25", "2026-07-28"):
        base = None
        for workers in (1, 2, 4):
            runs = []
            for _ in range(args.rounds):
                with served(url, workers, work) as (pid, port):
                    runs.append(load(pid, port, 32, era, args.duration))
            figures = median(runs)
            base = base or figures["calls_per_s"]
            figures["efficiency"] = figures["calls_per_s"] / (workers * base)
            rows.append({"era": era, "workers": workers, **figures})
    return rows


def footprint(redis_port: int, work: Path) -> dict[str, Any]:
    url = f"redis://127.0.0.1:{redis_port}/2"
    with served(url, 1, work) as (pid, port):
        _, memory_before, keys_before = redis_info(redis_port)
        cmd = [sys.executable, str(BENCH / "http_loadgen.py"), "--json", "--port", str(port)]
        cmd += ["--pid", str(pid), "--idle", "1000", "--idle-warmup", "0", "--connections", "4"]
        subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
        time.sleep(1.0)  # the last records written
        _, memory_after, keys_after = redis_info(redis_port)
    used, keys = memory_after - memory_before, keys_after - keys_before
    return {"sessions": 1000, "bytes_per_session": used / 1000, "keys_per_session": keys / 1000}


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("calls_per_s", "p50_us", "p99_us", "server_cpu_us_per_call", "redis_cpu_us_per_call")
    return {k: statistics.median(r[k] for r in runs) for k in keys if k in runs[0]}


def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    if "stores" in results:
        lines += _stores_table(results["stores"])
    if "workers" in results:
        lines += _workers_table(results["workers"])
    if "footprint" in results:
        f = results["footprint"]
        lines += [
            "",
            f"A 2025-11-25 session in Redis: {f['bytes_per_session']:,.0f} bytes of "
            f"used_memory, {f['keys_per_session']:.1f} keys ({f['sessions']:,} idle sessions)",
        ]
    return "\n".join(lines)


def _stores_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"Stores (1 worker, 16 sessions, uvloop; {os.cpu_count()} CPUs)",
        "",
        "| era | store | calls/s | p50 µs | p99 µs | server CPU µs/call | redis CPU µs/call |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['era']} | {r['store']} | {r['calls_per_s']:,.0f} | {r['p50_us']:,.0f} | "
            f"{r['p99_us']:,.0f} | {r['server_cpu_us_per_call']:,.0f} | "
            f"{r['redis_cpu_us_per_call']:,.1f} |"
        )
    return lines


def _workers_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "Workers on one Redis (32 sessions)",
        "",
        "| era | workers | calls/s | efficiency | p50 µs | p99 µs | CPU µs/call |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['era']} | {r['workers']} | {r['calls_per_s']:,.0f} | {r['efficiency']:.0%} | "
            f"{r['p50_us']:,.0f} | {r['p99_us']:,.0f} | {r['server_cpu_us_per_call']:,.0f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only", choices=("stores", "workers", "footprint"), help="one of the three parts"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        with redis_server_running(work) as server:
            redis_pid = redis_info(server.port)[0]
            parts = {
                "stores": lambda: store_costs(server.port, redis_pid, work, args),
                "workers": lambda: worker_scaling(server.port, work, args),
                "footprint": lambda: footprint(server.port, work),
            }
            results = {name: part() for name, part in parts.items() if args.only in (None, name)}
    out = BENCH / "results" / f"stores-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
