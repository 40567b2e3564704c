"""What a proxy adds to each tools/call: the same `echo` called one at a time directly and
through `ProxyServer`, median and p99 over N calls, and the difference.

    python bench/proxy_bench.py [--calls 3000] [--rounds 3] [--json]

Pairs (each "added" is the second minus the first, medians of the rounds' medians):
  memory    client -> server, in process   vs  client -> proxy -> server, all in process
            (the proxy's own cost: one more decode, encode and hop each way)
  stdio     client -> server over stdio    vs  client -> proxy (in process) -> server over
            stdio (the issue's case: the same upstream, the proxy in front)
  http      client -> `mcpkit run --transport http` vs client -> `mcpkit proxy --transport
            http` in front of the same server file over stdio (a stdio server put on the
            network by the proxy, against the same server natively on HTTP: one process
            and one hop more)
  http-in   client -> `mcpkit run --transport http` vs the same serving a proxy of the
            server in process (the proxy's own cost behind HTTP, no process added)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER_FILE = HERE / "servers" / "mcpkit_server.py"
SERVING = re.compile(r"over Streamable HTTP at (http://\S+)")


def load_server() -> Any:
    spec = importlib.util.spec_from_file_location("bench_proxy_server", SERVER_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.server


async def measure(target: Any, calls: int, warmup: int) -> dict[str, float]:
    """Median and p99 microseconds per call to `target`, one call at a time."""
    from mcpkit import Client

    now_ns = time.perf_counter_ns
    async with Client(target, stderr="devnull") as client:
        for _ in range(warmup):
            await client.call_tool("echo", {"text": "hello"})
        latencies: list[int] = []
        for _ in range(calls):
            start = now_ns()
            await client.call_tool("echo", {"text": "hello"})
            latencies.append(now_ns() - start)
    latencies.sort()
    return {
        "p50_us": latencies[len(latencies) // 2] / 1e3,
        "p99_us": latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] / 1e3,
    }


@contextlib.asynccontextmanager
async def serving(*args: str) -> AsyncIterator[str]:
    """`python -m mcpkit ARGS --transport http --port 0` in a child: its URL, then stopped."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpkit",
        *args,
        "--transport",
        "http",
        "--port",
        "0",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(60):
            while True:
                line = (await proc.stderr.readline()).decode(errors="replace")
                if not line:
                    raise SystemExit(f"mcpkit {' '.join(args)} exited before serving")
                found = SERVING.search(line)
                if found:
                    break
        drain = asyncio.ensure_future(proc.stderr.read())  # keep its pipe from filling
        yield found.group(1)
        drain.cancel()
    finally:
        if proc.returncode is None:
            proc.terminate()
            async with asyncio.timeout(20):
                await proc.wait()


Pair = tuple[Callable[[], Awaitable[dict[str, float]]], Callable[[], Awaitable[dict[str, float]]]]


def pairs(calls: int, warmup: int) -> dict[str, Pair]:
    from mcpkit.proxy import ProxyServer

    command = [sys.executable, str(SERVER_FILE)]

    async def http_direct() -> dict[str, float]:
        async with serving("run", str(SERVER_FILE)) as url:
            return await measure(url, calls, warmup)

    async def http_proxied() -> dict[str, float]:
        async with serving("proxy", str(SERVER_FILE)) as url:
            return await measure(url, calls, warmup)

    async def http_in_process() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as folder:
            wrapper = Path(folder) / "proxied.py"
            wrapper.write_text(_WRAPPER.format(server_file=str(SERVER_FILE)))
            async with serving("run", str(wrapper)) as url:
                return await measure(url, calls, warmup)

    return {
        "memory": (
            lambda: measure(load_server(), calls, warmup),
            lambda: measure(ProxyServer(load_server()), calls, warmup),
        ),
        "stdio": (
            lambda: measure(command, calls, warmup),
            lambda: measure(ProxyServer(command, stderr="devnull"), calls, warmup),
        ),
        "http": (http_direct, http_proxied),
        "http-in": (http_direct, http_in_process),
    }


_WRAPPER = """
import importlib.util
from mcpkit.proxy import ProxyServer
spec = importlib.util.spec_from_file_location("bench_upstream", {server_file!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
server = ProxyServer(module.server)
"""


async def run(calls: int, warmup: int, rounds: int, only: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, (direct, proxied) in pairs(calls, warmup).items():
        if only and name not in only:
            continue
        runs: dict[str, list[dict[str, float]]] = {"direct": [], "proxied": []}
        for _ in range(rounds):  # alternated, so drift in the machine's load hits both
            runs["direct"].append(await direct())
            runs["proxied"].append(await proxied())
        row = {
            f"{kind}_{stat}": statistics.median(r[stat] for r in runs[kind])
            for kind in runs
            for stat in ("p50_us", "p99_us")
        }
        row["added_p50_us"] = row["proxied_p50_us"] - row["direct_p50_us"]
        row["added_p99_us"] = row["proxied_p99_us"] - row["direct_p99_us"]
        results[name] = row
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="measured calls per run")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", choices=["memory", "stdio", "http", "http-in"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.calls, args.warmup, args.rounds, args.only or []))
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"tools/call echo, {args.calls} calls x {args.rounds} rounds (medians of rounds), us")
    print(
        "| downstream -> upstream | direct p50 | proxied p50 | added p50 | direct p99 | "
        "proxied p99 | added p99 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['direct_p50_us']:.0f} | {r['proxied_p50_us']:.0f} | "
            f"{r['added_p50_us']:.0f} | {r['direct_p99_us']:.0f} | {r['proxied_p99_us']:.0f} | "
            f"{r['added_p99_us']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
