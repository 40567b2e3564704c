"""Instructions per `Client.call_tool` over `StreamableHttpTransport`: the client, httpx and
the bench server's ASGI app (`bench/servers/mcpkit_server_async.py`) in one process, joined
by `httpx.ASGITransport` (no socket), counted by valgrind's callgrind.

    python bench/client_instructions.py [--era 2025-11-25|2026-07-28] [--answers json|sse]
        [--calls 500] [--no-gc]

The figure is the whole call, both ends; the app's own part is what `bench/app_instructions.py`
counts, so a change to the client moves this figure and not that one. As there, the script
zeroes the counters after a warmup (at `os.sched_yield()`) and dumps them after the counted
calls (at `os.getppid()`); run without `--child`, it starts itself under callgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "servers")]

from app_instructions import bench_app, counted_run  # noqa: E402  (bench/ is put on the path just above)

__all__ = ["main"]

WARMUP = 300
ERAS = ("2025-11-25", "2026-07-28")


async def _calls(args: argparse.Namespace) -> None:
    import httpx

    from mcpkit import Client
    from mcpkit.transports.http_client import StreamableHttpTransport

    app = bench_app("async", args.answers)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # The GET stream never ends, and ASGITransport reads a whole response: not opened.
    transport = StreamableHttpTransport("http://127.0.0.1:8000/mcp", http_client=http, listen=False)
    async with _lifespan(app):
        async with Client(transport, protocol=args.era) as client:
            for n in range(WARMUP):
                await client.call_tool("echo", {"text": f"w{n}"})
            if args.no_gc:
                gc.collect()
                gc.disable()
            os.sched_yield()  # callgrind zeroes its counters here
            for n in range(args.calls):
                await client.call_tool("echo", {"text": f"c{n}"})
            os.getppid()  # and dumps them here
            if client.protocol_version != args.era:
                raise SystemExit(f"client_instructions: spoke {client.protocol_version}")
    await http.aclose()


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan, as uvicorn runs it (ASGITransport sends no lifespan events)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    await queue.put({"type": "lifespan.startup"})
    life = asyncio.create_task(app({"type": "lifespan", "state": {}}, queue.get, send))
    await started.wait()
    try:
        yield
    finally:
        await queue.put({"type": "lifespan.shutdown"})
        await life


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--era", choices=ERAS, default="2026-07-28")
    parser.add_argument("--answers", choices=("json", "sse"), default="json")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument(
        "--no-gc", action="store_true", help="count with the collector off (as app_instructions)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_calls(args))
        return 0
    per_call = counted_run("client_instructions", __file__, sys.argv[1:]) / args.calls
    gc_off = ", collector off" if args.no_gc else ""
    print(f"client {args.era} {args.answers}{gc_off}: {per_call:,.0f} instructions per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
