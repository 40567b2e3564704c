"""Where a Streamable HTTP server's time goes: serve one app under cProfile (main thread only:
a `def` tool's worker thread is not seen) for a short load, then print the time per call by
layer and the functions that cost most.

    bench/.venv-http/bin/python bench/http_profile.py [--app mcpkit_async] [--answers sse]
        [--server uvicorn-httptools] [--era 2026-07-28] [--duration 3] [--top 30]

The profiler slows Python code more than C code, so read the shares, not the absolute times.
Socket writes happen inside uvloop's (Cython) transport and are counted in the time of the
Python function that calls them (uvicorn's `send`). Stats go to bench/results/.
"""

from __future__ import annotations

import argparse
import os
import pstats
import sys
from typing import Any

from http_bench import ANSWERS, BENCH, StepFailed, Variant, ensure_http_venv, measure

__all__ = ["layer_of", "main"]

# (path fragment, layer), first match wins.
LAYERS = [
    ("/uvicorn/", "uvicorn (HTTP parsing, ASGI send and its socket writes)"),
    ("/granian/", "granian (Python side)"),
    ("/mcpkit/transports/http/", "mcpkit HTTP app (checks, streams, SSE)"),
    ("/mcpkit/runtime/", "mcpkit runtime (connection, dispatch)"),
    ("/mcpkit/protocol/", "mcpkit protocol (session, JSON-RPC)"),
    ("/mcpkit/server/", "mcpkit server (tools, handlers)"),
    ("/mcpkit/", "mcpkit, other"),
    ("/asyncio/", "asyncio (Python part: events, queues, tasks)"),
    ("~", "C functions (msgspec, builtins, the loop)"),
]


def layer_of(filename: str) -> str:
    for fragment, layer in LAYERS:
        if fragment in filename:
            return layer
    return "other"


def by_layer(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Own time per call (us) of each layer, largest first."""
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]  # pstats has no public view
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        layer = layer_of(filename)
        totals[layer] = totals.get(layer, 0.0) + tottime
    return sorted(((k, v / calls * 1e6) for k, v in totals.items()), key=lambda kv: -kv[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="mcpkit_async")
    parser.add_argument("--answers", choices=ANSWERS, default="sse")
    parser.add_argument("--server", default="uvicorn-httptools")
    parser.add_argument("--loop", default="uvloop")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=30, help="functions to print")
    parser.add_argument(
        "--era",
        choices=("2025-11-25", "2026-07-28"),
        default="2025-11-25",
        help="2025-11-25 opens sessions; 2026-07-28 sends each call with its own terms",
    )
    args = parser.parse_args()
    try:
        pythons = {"http": ensure_http_venv(sys.executable, BENCH / ".venv-http")}
        variant = Variant(
            "profile", "profile", "http", args.app, args.server, args.loop, era=args.era
        )
        out = BENCH / "results"
        out.mkdir(exist_ok=True)
        stats_file = out / f"http-profile-{args.app}-{args.server}-{args.answers}-{args.era}.pstats"
        loadgen = ["--duration", str(args.duration), "--warmup", "0.5"]
        r = measure(variant, args.answers, pythons, dict(os.environ), loadgen, stats_file)
    except StepFailed as exc:
        print(f"http_profile: {exc}", file=sys.stderr)
        return 1
    stats = pstats.Stats(str(stats_file))
    calls = r["all_calls"]
    print(f"{r['calls_per_s']:,.0f} calls/s under the profiler; {calls} calls in all")
    print(f"stats: {stats_file}\n\nown time per call by layer (us, under the profiler):")
    for layer, us in by_layer(stats, calls):
        print(f"  {us:8.1f}  {layer}")
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
