"""What per-caller state (`ctx.set_state`, docs/server.md "State") costs each store per
caller, and what a 2026-07-28 request leaves behind when it uses none (issues 40 and 42).

    python bench/state_memory.py [--callers 2000] [--json]

One server, called in process by mcpkit's `Client` as 2026-07-28 requests, each caller
named by its own `_meta["io.mcpkit/stateKey"]` (what a client without a token sends):

- `memory://`: Python heap that stays allocated (tracemalloc, after a collection) per caller
  whose `remember` call wrote one small value (`["milk"]` under "notes"); and per call of
  `echo`, which keeps nothing: what a request outlives itself with.
- `sqlite:///...`: the database file's growth (with its WAL) per caller.
- `redis://...`: redis-server's `used_memory` and key count per caller (a redis-server of
  its own on a free loopback port, no persistence; tests/_redis_server.py starts it).

It also says what one such caller counts against the state pool (`entry_size`, its
`ENTRY_OVERHEAD` included), how many the default pool holds, and what they take in each store.

A first batch of callers is made before measuring, so that what is loaded or cached once
(modules, compiled validators, the store's tables) is not counted per caller.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import secrets
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import redis

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))
from _redis_server import redis_server_running  # noqa: E402

from mcpkit import Client, Context, Server  # noqa: E402
from mcpkit.stores.kv import DEFAULT_MAX_POOL_BYTES, entry_size  # noqa: E402

WARM = 200  # callers made before measuring


def make_server(store: str) -> Server:
    server = Server("state-memory", store=store)

    @server.tool()
    async def remember(note: str, ctx: Context) -> None:
        """Keep one note for this caller."""
        await ctx.set_state("notes", [note])

    @server.tool()
    def echo(text: str) -> str:
        """Keep nothing."""
        return text

    return server


async def call_each(client: Client, tool: str, callers: int) -> None:
    for _ in range(callers):
        meta = {"io.mcpkit/stateKey": secrets.token_urlsafe(32)}
        arguments = {"note": "milk"} if tool == "remember" else {"text": "milk"}
        result = await client.call_tool(tool, arguments, meta=meta)
        if result.is_error:
            raise SystemExit(f"{tool} failed: {result.content}")


def heap() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def in_memory(callers: int) -> dict[str, float]:
    server = make_server("memory://")
    tracemalloc.start()
    async with Client(server, protocol="2026-07-28") as client:
        await call_each(client, "remember", WARM)
        await call_each(client, "echo", WARM)
        before = heap()
        await call_each(client, "echo", callers)
        after_echo = heap()
        await call_each(client, "remember", callers)
        after_state = heap()
    tracemalloc.stop()
    return {
        "echo_bytes_per_call": (after_echo - before) / callers,
        "state_bytes_per_caller": (after_state - after_echo) / callers,
    }


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def in_sqlite(callers: int, folder: Path) -> dict[str, float]:
    path = folder / "state.db"
    server = make_server(f"sqlite:///{path}")
    async with Client(server, protocol="2026-07-28") as client:
        await call_each(client, "remember", WARM)
        before = file_bytes(path)
        await call_each(client, "remember", callers)
        after = file_bytes(path)
    return {"file_bytes_per_caller": (after - before) / callers}


async def in_redis(callers: int, url: str) -> dict[str, float]:
    server = make_server(url)
    probe = redis.Redis.from_url(url)
    async with Client(server, protocol="2026-07-28") as client:
        await call_each(client, "remember", WARM)
        used, keys = probe.info("memory")["used_memory"], probe.dbsize()
        await call_each(client, "remember", callers)
        used_after, keys_after = probe.info("memory")["used_memory"], probe.dbsize()
    probe.close()
    return {
        "used_memory_per_caller": (used_after - used) / callers,
        "keys_per_caller": (keys_after - keys) / callers,
    }


def flood_figures(results: dict[str, Any]) -> str:
    """What the default pool admits of such callers, as the store counts them, and what
    they take in each store by the figures measured."""
    # A caller's one entry: "state:<64 hex digits>:notes" holding ["milk"] (caller.py).
    counted = entry_size(f"state:{'0' * 64}:notes", b'["milk"]')
    held = DEFAULT_MAX_POOL_BYTES // counted
    taken = [
        results["memory"]["state_bytes_per_caller"],
        results["sqlite"]["file_bytes_per_caller"],
        results["redis"]["used_memory_per_caller"],
    ]
    memory, sqlite, red = (held * per / 1e6 for per in taken)
    return (
        f"Each counts {counted} B against the pool (entry_size): the default pool "
        f"({DEFAULT_MAX_POOL_BYTES // 2**20} MiB) holds {held:,} such callers, "
        f"{memory:,.0f} MB of heap, {sqlite:,.0f} MB of SQLite file, {red:,.0f} MB of Redis."
    )


def report(results: dict[str, Any], callers: int) -> str:
    memory, sqlite, red = results["memory"], results["sqlite"], results["redis"]
    return "\n".join(
        [
            f"{callers:,} callers, one small value each (2026-07-28, a state key each):",
            "",
            "| store | per caller | |",
            "| --- | ---: | --- |",
            f"| memory | {memory['state_bytes_per_caller']:,.0f} B | Python heap kept |",
            f"| sqlite | {sqlite['file_bytes_per_caller']:,.0f} B | database file and WAL |",
            f"| redis | {red['used_memory_per_caller']:,.0f} B | `used_memory`, "
            f"{red['keys_per_caller']:.2f} keys |",
            "",
            flood_figures(results),
            "",
            f"A 2026-07-28 `echo` call that keeps nothing: {memory['echo_bytes_per_call']:,.1f} B "
            "of heap kept per call.",
        ]
    )


async def run(callers: int) -> dict[str, Any]:
    results: dict[str, Any] = {"memory": await in_memory(callers)}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await in_sqlite(callers, Path(folder))
        with redis_server_running(Path(folder)) as server:
            results["redis"] = await in_redis(callers, server.url)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--callers", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.callers))
    print(json.dumps(results, indent=2) if args.json else report(results, args.callers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
