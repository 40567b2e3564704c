"""In-memory round trip: a client and a server in one process, calling `echo` one call at a time.

mcpkit: `Client(server)`. Official SDK: `mcp.Client(server)`, which for an in-process server uses
its direct dispatcher by default (mode "auto"); `--mode legacy` selects its in-memory JSON-RPC
streams instead. Run it with the interpreter of the implementation under test:

    python bench/inmemory.py --impl mcpkit --server bench/servers/mcpkit_server.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any


def load_server(path: Path) -> Any:
    """Import a benchmark server file without running it and return its `server` object."""
    spec = importlib.util.spec_from_file_location(f"bench_server_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.server


def open_client(impl: str, server: Any, mode: str | None) -> Any:
    if impl == "mcpkit":
        from mcpkit import Client

        return Client(server)
    from mcp import Client as OfficialClient

    return OfficialClient(server) if mode is None else OfficialClient(server, mode=mode)


async def measure(
    impl: str, server: Any, mode: str | None, duration: float, warmup: int
) -> dict[str, Any]:
    now_ns = time.perf_counter_ns
    start = now_ns()
    async with open_client(impl, server, mode) as client:
        connect_ms = (now_ns() - start) / 1e6
        first = await client.call_tool("echo", {"text": "hello"})
        text = first.content[0].text
        if text != "hello":
            raise SystemExit(f"echo returned {text!r}")
        for _ in range(warmup):
            await client.call_tool("echo", {"text": "hello"})
        latencies: list[int] = []
        begin = now_ns()
        deadline = begin + int(duration * 1e9)
        t = begin
        while t < deadline:
            await client.call_tool("echo", {"text": "hello"})
            t2 = now_ns()
            latencies.append(t2 - t)
            t = t2
        elapsed = (t - begin) / 1e9
    latencies.sort()
    n = len(latencies)
    return {
        "impl": impl,
        "mode": mode or "default",
        "connect_ms": connect_ms,
        "calls": n,
        "calls_per_s": n / elapsed,
        "mean_us": elapsed / n * 1e6,
        "p50_us": latencies[n // 2] / 1e3,
        "p99_us": latencies[min(n - 1, n * 99 // 100)] / 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", choices=["mcpkit", "official"], required=True)
    parser.add_argument("--server", type=Path, required=True, help="benchmark server file")
    parser.add_argument("--mode", help="official SDK Client mode (default: its default)")
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    server = load_server(args.server)
    bounded = asyncio.wait_for(
        measure(args.impl, server, args.mode, args.duration, args.warmup),
        timeout=args.duration + 120,  # a hung implementation fails the run instead of stalling it
    )
    factory = asyncio.new_event_loop
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(bounded)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.impl} ({result['mode']}): {result['calls_per_s']:.0f} calls/s, "
            f"p50 {result['p50_us']:.0f} us, p99 {result['p99_us']:.0f} us "
            f"({result['calls']} calls; connect {result['connect_ms']:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
