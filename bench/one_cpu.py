#!/usr/bin/env python3
"""The benchmark people quote: each server pinned to one CPU, 50 users calling a mix of tools
over Streamable HTTP (docs/performance.md, "One CPU, 50 users", says what it follows of the
public multi-language MCP benchmark and where it differs).

    bench/one_cpu.py                          # every server, both shapes, 30 s each (~10 min)
    bench/one_cpu.py --duration 5 --warmup 2  # a smoke run (~2 min)
    bench/one_cpu.py --only mcpkit fastmcp --shapes k6
    bench/one_cpu.py --rounds 3 --update-docs # medians of 3 rounds, into docs/performance.md

Each server runs under `taskset -c 0` and the load generator (bench/mix_loadgen.py) under
`taskset -c 1`, on 127.0.0.1 and an ephemeral port, one server at a time; the server's process
group is ended after its run, whatever happened. The servers: mcpkit (bench/.venv-http, this
checkout), FastMCP 4 (bench/.venv-fastmcp), the official SDK (bench/.venv-official), each
created and pinned on first use, and the TypeScript SDK v1 and v2 from
tests/interop/node_modules. Raw results go to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

from http_bench import (
    MCP_VERSION,
    StepFailed,
    Variant,
    clean_env,
    ensure_http_venv,
    ensure_pinned_venv,
    find_node,
    measure,
)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DOCS = REPO / "docs" / "performance.md"
BEGIN, END = "<!-- bench-one-cpu:begin -->", "<!-- bench-one-cpu:end -->"
FASTMCP_VERSION = "4.2.3"  # the newest 4.x on PyPI when this was written
#: The public benchmark's Python server (FastMCP, one uvicorn worker, one CPU): requests/s.
PUBLIC_PYTHON_RPS = 292
SHAPES = ("k6", "session")

VARIANTS = [
    Variant(
        "mcpkit", "mcpkit, uvicorn httptools + uvloop", "http", "mcpkit_mix", "uvicorn-httptools"
    ),
    Variant(
        "mcpkit-2026",
        "mcpkit, uvicorn httptools + uvloop, 2026-07-28 requests",
        "http",
        "mcpkit_mix",
        "uvicorn-httptools",
        era="2026-07-28",
    ),
    Variant("mcpkit/h11", "mcpkit, uvicorn h11 + asyncio", "http", "mcpkit_mix", loop="asyncio"),
    Variant(
        "fastmcp",
        f"FastMCP {FASTMCP_VERSION}, uvicorn defaults",
        "fastmcp",
        "fastmcp_mix",
        "uvicorn",
        "auto",
    ),
    Variant(
        "official",
        f"official SDK {MCP_VERSION}, uvicorn defaults",
        "official",
        "official_mix",
        "uvicorn",
        "auto",
    ),
    Variant("ts", "TypeScript SDK v1, node http", "node", "ts_mix"),
    Variant(
        "ts2-2026",
        "TypeScript SDK v2 `createMcpHandler`, node http, 2026-07-28 requests",
        "node",
        "ts2_mix",
        era="2026-07-28",
    ),
]
BY_KEY = {v.key: v for v in VARIANTS}


def setup(args: argparse.Namespace) -> dict[str, str]:
    """The interpreters each server needs, created and pinned on first use."""
    if shutil.which("taskset") is None:
        raise SystemExit("one_cpu: `taskset` (util-linux) is needed to pin the processes")
    cpus = os.sched_getaffinity(0)
    if not {args.server_cpu, args.loadgen_cpu} <= cpus or args.server_cpu == args.loadgen_cpu:
        raise SystemExit(
            f"one_cpu: --server-cpu {args.server_cpu} and --loadgen-cpu {args.loadgen_cpu} must "
            f"be two different CPUs of this process's {sorted(cpus)}"
        )
    wanted = {BY_KEY[key].python for key in args.only}
    pythons = {"http": ensure_http_venv(args.python, args.http_venv)}
    if "official" in wanted:
        pythons["official"] = ensure_pinned_venv(
            args.python, "mcp", MCP_VERSION, args.official_venv
        )
    if "fastmcp" in wanted:
        pythons["fastmcp"] = ensure_pinned_venv(
            args.python, "fastmcp", FASTMCP_VERSION, args.fastmcp_venv
        )
    node = find_node()
    if "node" in wanted and node is None:
        print("one_cpu: node or the TypeScript SDK is missing: no TS rows", file=sys.stderr)
    elif node is not None:
        pythons["node"] = node
    return pythons


def run(pythons: dict[str, str], args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Every (shape, server) once a round: their results, keyed "shape:server"."""
    pins = (["taskset", "-c", str(args.server_cpu)], ["taskset", "-c", str(args.loadgen_cpu)])
    loadgen = ["--users", str(args.users), "--duration", str(args.duration)]
    loadgen += ["--warmup", str(args.warmup), "--within", str(args.within)]
    results: dict[str, list[dict[str, Any]]] = {}
    for round_no in range(args.rounds):
        for shape in args.shapes:
            for key in args.only:
                variant = BY_KEY[key]
                if variant.python not in pythons:
                    continue
                print(f"round {round_no + 1}: {shape} {key} ...", file=sys.stderr)
                one = partial(
                    measure,
                    variant,
                    args.answers,
                    pythons,
                    clean_env(),
                    [*loadgen, "--shape", shape],
                    loadgen="mix_loadgen.py",
                    pins=pins,
                    timeout=args.duration + args.warmup + 120,
                )
                try:
                    results.setdefault(f"{shape}:{key}", []).append(one())
                except StepFailed as exc:
                    print(f"  failed: {exc}", file=sys.stderr)
    return results


def _median(runs: list[dict[str, Any]], field: str) -> float:
    return statistics.median(float(r[field]) for r in runs)


def table(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    rows = [
        "| shape | server | era | requests/s | tool calls/s | p50 ms | p95 ms | p99 ms "
        "| errors | server CPU | requests per server CPU-second | server RSS MiB "
        f"| requests/s over the public Python {PUBLIC_PYTHON_RPS} |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for shape in args.shapes:
        for key in args.only:
            runs = results.get(f"{shape}:{key}")
            variant = BY_KEY[key]
            if not runs:
                rows.append(f"| {shape} | {variant.label} | {variant.era} | failed |" + " |" * 9)
                continue
            rps = _median(runs, "requests_per_s")
            public = f"{rps / PUBLIC_PYTHON_RPS:.1f}x" if shape == "k6" else "(other shape)"
            rows.append(
                f"| {shape} | {variant.label} | {variant.era} | {rps:,.0f} "
                f"| {_median(runs, 'calls_per_s'):,.0f} | {_median(runs, 'p50_ms'):.2f} "
                f"| {_median(runs, 'p95_ms'):.2f} | {_median(runs, 'p99_ms'):.2f} "
                f"| {sum(int(r['errors']) for r in runs)} "
                f"| {_median(runs, 'server_cpu_percent'):.0f}% "
                f"| {_median(runs, 'requests_per_cpu_s'):,.0f} "
                f"| {_median(runs, 'server_rss_mib'):.0f} | {public} |"
            )
    return "\n".join(rows)


def versions(pythons: dict[str, str]) -> str:
    """The versions the rows ran: Python, the SDKs, node."""
    probe = "import sys; print(sys.version.split()[0])"
    out = subprocess.run([pythons["http"], "-c", probe], capture_output=True, text=True, timeout=60)
    found = [f"Python {out.stdout.strip()}"]
    for python, package in (("official", "mcp"), ("fastmcp", "fastmcp"), ("http", "uvicorn")):
        if python in pythons:
            probe = f"import importlib.metadata as m; print(m.version({package!r}))"
            out = subprocess.run(
                [pythons[python], "-c", probe], capture_output=True, text=True, timeout=60
            )
            found.append(f"{package} {out.stdout.strip()}")
    if "node" in pythons:
        node = subprocess.run([pythons["node"], "--version"], capture_output=True, text=True)
        sdk = REPO / "tests" / "interop" / "node_modules" / "@modelcontextprotocol"
        found.append(f"node {node.stdout.strip()}")
        for package in ("sdk", "server"):
            manifest = json.loads((sdk / package / "package.json").read_text())
            found.append(f"@modelcontextprotocol/{package} {manifest['version']}")
    return ", ".join(found)


def header(pythons: dict[str, str], args: argparse.Namespace, loads: list[float]) -> str:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout.strip()
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{date}, mcpkit {commit}; {os.cpu_count()} CPUs, load average "
        f"{loads[0]:.2f} before and {loads[1]:.2f} after the run (1 min); {versions(pythons)}. "
        f"{args.users} users, {args.answers.upper()} answers, {args.duration:g} s timed after "
        f"{args.warmup:g} s of warm-up per server; medians of {args.rounds} round(s)."
    )


def update_docs(text: str) -> None:
    doc = DOCS.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOCS.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(BY_KEY), default=list(BY_KEY))
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="timed seconds per server")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds first")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--within",
        type=float,
        default=30.0,
        help="seconds a k6 iteration or a session pass may take before it counts as an error",
    )
    parser.add_argument("--answers", choices=["sse", "json"], default="sse")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--loadgen-cpu", type=int, default=1)
    venv = REPO / ".venv" / "bin" / "python"  # as bench/run: the repository's, if it has one
    parser.add_argument(
        "--python",
        default=str(venv) if venv.exists() else sys.executable,
        help="the interpreter the bench venvs are made from",
    )
    parser.add_argument("--http-venv", type=Path, default=BENCH / ".venv-http")
    parser.add_argument("--official-venv", type=Path, default=BENCH / ".venv-official")
    parser.add_argument("--fastmcp-venv", type=Path, default=BENCH / ".venv-fastmcp")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs' table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pythons = setup(args)
    before = os.getloadavg()[0]
    results = run(pythons, args)
    text = header(pythons, args, [before, os.getloadavg()[0]]) + "\n\n" + table(results, args)
    out = BENCH / "results" / f"one_cpu-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results) if args.json else text)
    if args.update_docs:
        update_docs(text)
    failed = [
        k
        for k in args.only
        if BY_KEY[k].python in pythons
        for s in args.shapes
        if f"{s}:{k}" not in results
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
