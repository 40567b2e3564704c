"""A caller's state (`ctx.get_state()` / `set_state()`) is kept in the server's store, so the
workers sharing it (`mcpkit run --workers 2`, on one SQLite file or one Redis) see the same
values: a count bumped by calls each worker takes in turn goes up by one each time,
in both eras (a 2025-11-25 session's state, a 2026-07-28 caller's by the key it sends)."""

from __future__ import annotations

import asyncio
import secrets
import signal
from pathlib import Path

import pytest
from _redis_server import shared_store_url
from _running import mcpkit, running, stopped

from mcpkit import Client
from mcpkit.server.state.caller import STATE_KEY_META

WAIT = 30.0  # seconds: a bound on hangs, never a measurement
pytestmark = pytest.mark.mcpkit_timeout(WAIT * 6)  # two workers started on a busy machine
COUNTER = """
import os

from mcpkit import Context, Server

server = Server("counter")


@server.tool()
async def bump(ctx: Context) -> str:
    count = await ctx.get_state("count", 0) + 1
    await ctx.set_state("count", count)
    await ctx.server.kv.set("last", count)
    return f"{count} {await ctx.server.kv.get('last')} {os.getpid()}"
"""


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_workers_sharing_a_store_share_a_callers_state(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str, era: str
) -> None:
    (tmp_path / "counter.py").write_text(COUNTER)
    db = 3 if era == "2025-11-25" else 4  # a database of each test's own on the one server
    store = shared_store_url(kind, tmp_path, request, db=db, lease=10)
    argv = mcpkit("run", "counter.py", "--transport", "http", "--port", "0", "--workers", "2")
    meta = {STATE_KEY_META: secrets.token_urlsafe(32)}
    path = tmp_path / "state.db" if kind == "sqlite" else None  # (a lock a stop may hold)
    async with asyncio.timeout(WAIT * 6), running([*argv, "--store", store], tmp_path) as sup:
        url = await sup.started()
        # Each request on a connection of its own, taken by the one worker not stopped, in
        # turn (left to the kernel, one worker may take every connection).
        async with Client(url, protocol=era, headers={"Connection": "close"}) as client:
            for n in range(4):
                worker = sup.workers()[n % 2]
                async with stopped(sup.other(worker), path):
                    text = (await client.call_tool("bump", meta=meta)).text
                count, last, pid = text.split()
                assert count == last  # server.kv too: what one worker wrote, read back
                assert (int(count), int(pid)) == (n + 1, worker)  # one count across both
        assert await sup.stop(signal.SIGTERM) == 0
