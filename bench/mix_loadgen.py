"""Load generator of the one-CPU benchmark (bench/one_cpu.py starts it, pinned to its own CPU):
`--users` virtual users over Streamable HTTP, each on one keep-alive connection (the
connection and the parsing are http_loadgen.py's), calling the mix of tools for `--warmup`
seconds untimed and `--duration` seconds timed.

    python bench/mix_loadgen.py --port 8000 --pid 1234 [--users 50] [--shape k6|session]

Shapes (docs/performance.md, "One CPU, 50 users"):

- `k6`, the public benchmark's iteration: for each tool of the mix, a session of its own
  (initialize, notifications/initialized, tools/call, DELETE), then one more for tools/list,
  then a pause of `THINK_S`. With `--era 2026-07-28` there is no session to open or close:
  each call and the list are one request each.
- `session`: one session per user, opened once, then the mix's calls one after another with
  no pause (`--era 2026-07-28`: the calls alone).

Every HTTP request is timed (requests/s and latency percentiles count them all, as k6's
`http_reqs` and `http_req_duration` do); every answer is checked (status, JSON-RPC id and
error, `isError`, the tool's own result), and a failed one counts as an error, ends the user's
iteration and, when the connection is gone, opens a new one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

from http_loadgen import (
    MODERN_META,
    MODERN_VERSION,
    PROTOCOL_VERSION,
    Connection,
    HttpError,
    Response,
    connect,
    last_message,
    open_session,
    post,
    tree_cpu_seconds,
    tree_rss_kib,
)

__all__ = ["MIX", "main"]

#: The pause at the end of a `k6` iteration, as the public script's `sleep(0.1)`.
THINK_S = 0.1
#: What reading an answer of the wrong shape raises.
WRONG_SHAPE = (AttributeError, LookupError, TypeError, ValueError)
#: A `k6` iteration, or one pass of the mix on a `session` user's session, that takes longer
#: fails (`--within`).
ITERATION_WITHIN_S = 30.0

Check = Callable[[dict[str, Any]], bool]
#: (tool, arguments, check of the object the tool answered): the public benchmark's calls.
MIX: list[tuple[str, dict[str, Any], Check]] = [
    ("calculate_fibonacci", {"n": 10}, lambda r: r.get("result") == 55),
    (
        "fetch_external_data",
        {"endpoint": "http://127.0.0.1/api"},
        lambda r: r.get("status_code") == 200,
    ),
    (
        "process_json_data",
        {"data": {"name": "benchmark", "count": 42, "nested": {"key": "value"}}},
        lambda r: r.get("transformed_data", {}).get("name") == "BENCHMARK",
    ),
    (
        "simulate_database_query",
        {"query": "SELECT * FROM benchmarks", "delay_ms": 10},
        lambda r: r.get("delay_ms") == 10,
    ),
]


class Load:
    """What the users share: the timed window and what was counted inside it."""

    def __init__(self) -> None:
        self.start_ns = 1 << 62  # nothing is counted before the window opens
        self.stop = False
        self.latencies: list[int] = []
        self.calls = 0
        self.errors = 0
        self.first_error = ""
        self.ids = 1

    def counting(self, sent_ns: int) -> bool:
        return sent_ns >= self.start_ns and not self.stop


class TimedConnection(Connection):
    """A connection that times each request from its write to its last byte, for `load`."""

    def __init__(self, load: Load) -> None:
        super().__init__()
        self.load = load
        self.sent_ns = 0

    def request(self, data: bytes) -> asyncio.Future[Response]:
        self.sent_ns = time.perf_counter_ns()
        return super().request(data)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        waiter = self.waiter
        if waiter is not None and waiter.done() and self.sent_ns:
            if self.load.counting(self.sent_ns):
                self.load.latencies.append(time.perf_counter_ns() - self.sent_ns)
            self.sent_ns = 0


class User:
    """One virtual user: its connection, and the requests of the mix over it."""

    def __init__(self, port: int, era: str, load: Load, within: float) -> None:
        self.port, self.era, self.load, self.within = port, era, load, within
        self.conn: TimedConnection | None = None
        # The `session` shape's one session, opened on first use and after a failure (which
        # also takes a fresh connection); a 2026-07-28 user has none to open.
        self.session: bytes | None = None
        self.opened = False

    async def reconnect(self) -> None:
        self.shut()
        conn = await connect(self.port, lambda: TimedConnection(self.load))
        self.conn = cast(TimedConnection, conn)

    async def rpc(self, method: str, params: dict[str, Any], session: bytes | None) -> Any:
        """One JSON-RPC request: its result, checked for the id and the absence of an error."""
        assert self.conn is not None
        rid = self.load.ids
        self.load.ids += 1
        name = params.get("name")
        if self.era == MODERN_VERSION:
            params = {**params, "_meta": MODERN_META}
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        data = post(
            self.port,
            body.encode(),
            session,
            self.era,
            method.encode(),
            name.encode() if name else None,
        )
        reply = json.loads(last_message(await self.conn.request(data)))
        if reply.get("id") != rid or "error" in reply:
            raise HttpError(f"{method} failed: {str(reply)[:300]}")
        return reply["result"]

    async def call(self, session: bytes | None, tool: str, args: dict[str, Any], ok: Check) -> None:
        sent = time.perf_counter_ns()
        result = await self.rpc("tools/call", {"name": tool, "arguments": args}, session)
        content = result.get("content") or [{}]
        answer = json.loads(content[0].get("text", "null"))
        if result.get("isError") or not isinstance(answer, dict) or not ok(answer):
            raise HttpError(f"{tool} answered {str(result)[:300]}")
        if self.load.counting(sent):
            self.load.calls += 1

    async def open(self) -> bytes | None:
        """A new session (2025-11-25), or none (2026-07-28)."""
        assert self.conn is not None
        return None if self.era == MODERN_VERSION else await open_session(self.conn, self.port)

    async def close(self, session: bytes | None) -> None:
        if session is None:
            return
        assert self.conn is not None
        head = b"DELETE /mcp HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n" % self.port
        head += b"mcp-protocol-version: %s\r\n" % self.era.encode()
        response = await self.conn.request(head + b"mcp-session-id: " + session + b"\r\n\r\n")
        if response.status not in (200, 202, 204):
            raise HttpError(f"DELETE got {response.status}: {response.body[:300]!r}")

    async def k6_iteration(self) -> None:
        for tool, args, ok in MIX:
            session = await self.open()
            await self.call(session, tool, args, ok)
            await self.close(session)
        session = await self.open()
        listed = await self.rpc("tools/list", {}, session)
        if len(listed.get("tools", ())) != len(MIX):
            raise HttpError(f"tools/list answered {str(listed)[:300]}")
        await self.close(session)
        await asyncio.sleep(THINK_S)

    async def session_pass(self) -> None:
        """One pass of the mix's calls on the user's session. The deadline bounds a pass, not
        the session: a session outlives any deadline while its calls keep being answered."""
        if not self.opened:
            self.session, self.opened = await self.open(), True
        for tool, args, ok in MIX:
            await self.call(self.session, tool, args, ok)

    async def run(self, shape: str) -> None:
        """Iterate until the load stops; a failure is counted and the user starts over."""
        while not self.load.stop:
            try:
                async with asyncio.timeout(self.within):
                    if self.conn is None or self.conn.lost is not None:
                        await self.reconnect()
                        self.opened = False
                    await (self.k6_iteration() if shape == "k6" else self.session_pass())
            except (HttpError, OSError, TimeoutError, *WRONG_SHAPE) as exc:
                if self.load.stop:
                    return
                if self.load.counting(time.perf_counter_ns()):
                    self.load.errors += 1
                    self.load.first_error = self.load.first_error or repr(exc)[:300]
                if self.conn is not None:
                    # A fresh connection: a late or half-parsed answer must not be taken for
                    # the next request's.
                    self.conn.lost = exc

    def shut(self) -> None:
        if self.conn is not None and self.conn.transport is not None:
            self.conn.transport.close()


# ---------------------------------------------------------------------------------- the run


@dataclass
class MixResult:
    users: int
    shape: str
    era: str
    seconds: float
    requests: int
    requests_per_s: float
    calls_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    first_error: str
    server_cpu_percent: float  # of one CPU: 100 is the whole pinned core
    # What the server did per second of its own CPU: the steadier figure where the pinned
    # core is shared with other work (server_cpu_percent well under 100).
    requests_per_cpu_s: float
    server_rss_mib: float
    loadgen_cpu_percent: float  # the generator's own, to show it is not the limit


def percentile(ordered: list[int], share: float) -> float:
    """The value at `share` of a sorted list of nanoseconds, in milliseconds."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1e6


async def run_mix(args: argparse.Namespace) -> MixResult:
    load = Load()
    users = [User(args.port, args.era, load, args.within) for _ in range(args.users)]
    for user in users:  # connected before the load starts: a server just started may be slow
        await user.reconnect()
    tasks = [asyncio.create_task(user.run(args.shape)) for user in users]
    try:
        # The users run the whole time; these waits only mark the window's edges.
        await asyncio.wait(tasks, timeout=args.warmup)
        cpu0, own0 = tree_cpu_seconds(args.pid), time.process_time()
        load.start_ns = time.perf_counter_ns()
        await asyncio.wait(tasks, timeout=args.duration)
        load.stop = True
        end_ns = time.perf_counter_ns()
        cpu1, own1 = tree_cpu_seconds(args.pid), time.process_time()
        rss = tree_rss_kib(args.pid)
        async with asyncio.timeout(args.within + THINK_S + 5):
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for user in users:
            user.shut()
    if not load.latencies:
        raise HttpError(f"no request completed in the timed window ({load.first_error})")
    seconds = (end_ns - load.start_ns) / 1e9
    lat = sorted(load.latencies)
    return MixResult(
        users=args.users,
        shape=args.shape,
        era=args.era,
        seconds=seconds,
        requests=len(lat),
        requests_per_s=len(lat) / seconds,
        calls_per_s=load.calls / seconds,
        p50_ms=percentile(lat, 0.50),
        p95_ms=percentile(lat, 0.95),
        p99_ms=percentile(lat, 0.99),
        errors=load.errors,
        first_error=load.first_error,
        server_cpu_percent=(cpu1 - cpu0) / seconds * 100,
        requests_per_cpu_s=len(lat) / max(cpu1 - cpu0, 1e-9),
        server_rss_mib=rss / 1024,
        loadgen_cpu_percent=(own1 - own0) / seconds * 100,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server process to sample")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--shape", choices=["k6", "session"], default="k6")
    parser.add_argument("--duration", type=float, default=30.0, help="timed seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds first")
    parser.add_argument(
        "--era", choices=[PROTOCOL_VERSION, MODERN_VERSION], default=PROTOCOL_VERSION
    )
    parser.add_argument(
        "--within",
        type=float,
        default=ITERATION_WITHIN_S,
        help="seconds a k6 iteration or a session pass may take before it counts as an error",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(run_mix(args))
    except (HttpError, OSError, TimeoutError) as exc:
        print(f"mix_loadgen: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(result)) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
