"""What a `tools/call` costs the server in each protocol era, in process: the same call as a
2025-11-25 session sends it (after `initialize`) and as a 2026-07-28 client sends it (its terms
in `_meta`, no session), through an in-memory channel, `inflight` at a time. The client side
only sends prepared bytes and counts answers, the same for both, so the difference between the
two figures is the server's. Rounds alternate the eras; the medians are printed.

    python bench/eras.py [--requests 20000] [--rounds 5] [--inflight 16] [--loop uvloop] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from loadgen import ECHO_TEMPLATE, MODERN_ECHO_TEMPLATE

from mcpkit.testing import raw_session

SERVERS = Path(__file__).resolve().parent / "servers"


def load_server(kind: str) -> Any:
    """bench/servers/mcpkit_server.py (`def` tools) or mcpkit_server_async.py's `server`."""
    import importlib.util

    name = "mcpkit_server_async.py" if kind == "async" else "mcpkit_server.py"
    spec = importlib.util.spec_from_file_location(f"bench_eras_{kind}", SERVERS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.server


async def one_round(server: Any, era: str, requests: int, inflight: int) -> float:
    """CPU seconds of this process per request, `inflight` requests kept in flight."""
    template = ECHO_TEMPLATE if era == "2025-11-25" else MODERN_ECHO_TEMPLATE
    async with raw_session(server, initialize=era == "2025-11-25", timeout=30) as peer:
        channel = peer.channel
        for n in range(200):  # warm up
            await channel.send(template % n)
            await channel.receive()
        sent = 0
        start = time.process_time()
        for _ in range(min(inflight, requests)):
            await channel.send(template % sent)
            sent += 1
        for _ in range(requests):
            data = await channel.receive()
            assert data.find(b'"result"') >= 0, data[:200]  # (find: see session.receive_data)
            if sent < requests:
                await channel.send(template % sent)
                sent += 1
        return (time.process_time() - start) / requests


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, dict[str, list[float]]] = {}
    for kind in ("def", "async"):
        server = load_server(kind)
        per_era = found.setdefault(kind, {"2025-11-25": [], "2026-07-28": []})
        for _ in range(args.rounds):
            for era in per_era:
                per_era[era].append(await one_round(server, era, args.requests, args.inflight))
    return {
        kind: {era: statistics.median(v) * 1e6 for era, v in eras.items()}
        for kind, eras in found.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ["MCPKIT_UVLOOP"] = "1" if args.loop == "uvloop" else "0"
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(main_async(args))
    else:
        result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps({"loop": args.loop, "us_per_request": result}))
        return 0
    print(f"server + raw client CPU per tools/call, us (median of {args.rounds}), {args.loop}")
    for kind, eras in result.items():
        a, b = eras["2025-11-25"], eras["2026-07-28"]
        print(f"  {kind:5s}  2025-11-25 {a:6.1f}   2026-07-28 {b:6.1f}   ({b / a - 1:+.0%})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
