"""Instructions per `tools/call`, counted by valgrind's callgrind, in each protocol era.

Wall-clock CPU figures on a shared machine move by 15-25% between rounds, more than a change
of a few per cent; instruction counts move by well under 1%. So the figures that decide
whether a 2026-07-28 call costs the server more than a 2025-11-25 session's are these.

    bench/instructions.py [--only http|stdio] [--calls 1000] [--warmup 300] [--json]

Each configuration starts its server under `valgrind --tool=callgrind` (PYTHONHASHSEED=0),
makes `--warmup` calls of `echo` uncounted, has the server collect its garbage (all
generations), zeroes the counters (callgrind_control), makes `--calls` calls one at a time,
and dumps the counters: the server's instructions per call, read from the dump's `summary:`.

Two things made the same code's figure move by up to ~16,000 between runs, both fixed here:
- The dump's `totals:` line is not the counted part after a zeroing: it also sums costs of
  the calls in progress when the counters were zeroed (an in-process dump of no call at all
  read 250,390 there, and 3,154 in `summary:`; of one call, 6.5 million against 270,473).
  How much it adds depends on where the server was when zeroed.
- Python's full garbage collection (generation 2) walks every object the process holds
  (~16 million instructions in this server) once enough objects have outlived the younger
  collections; whether one fell among the counted calls depended on the warmup's history.
  The server collects all generations before the count (SIGUSR1, `_PRELUDE`), so that the
  counted calls pay only the young collections their own allocations cause.
What still moves on a loaded machine: how many young collections fall among the counted
calls (none to 9 per 1,000 calls of the same code, up to ~4,000 instructions per call), and
on asyncio more: two runs of 68c379f counted 505,953 and 488,307 per 2026-07-28 JSON call
(as many asyncio tasks in both; `call_soon` alone cost 1,900 more per call in the first),
where uvloop's moved by 2,000 (410,948 and 409,007). Judge a change of a few thousand by
uvloop's figures, by several runs, or by the app alone (bench/app_instructions.py: the ASGI
app called in process, no socket, the same count in every run).

- stdio: `servers/mcpkit_server_async.py`, a session opened with `initialize`, or a
  2026-07-28 client after `server/discover`.
- http: the same server's app on uvicorn with httptools, as `servers/http_serve.py` serves it
  (`mcpkit run`'s joined writes), one keep-alive connection, JSON and SSE answers. The app
  waits 10 ms for a call's first message before it chooses its answer's form, and watches a
  2026 call for its client leaving once it has run 10 ms; both are scaled by valgrind's
  slowdown, so each call takes the path it takes at full speed.

Both loops (asyncio, uvloop). Needs valgrind; the HTTP figures need bench/.venv-http, which
`bench/run --only http` makes. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from http_bench import Served, free_port
from http_loadgen import (
    ECHO_BODY,
    MODERN_ECHO_BODY,
    MODERN_VERSION,
    connect,
    last_message,
    open_session,
    post,
)
from loadgen import ECHO_TEMPLATE, MODERN_ECHO_TEMPLATE, Session, StdioTransport

BENCH = Path(__file__).resolve().parent
SERVERS = BENCH / "servers"
RESULTS = BENCH / "results"
ERAS = ("2025-11-25", MODERN_VERSION)
LOOPS = ("asyncio", "uvloop")
#: How much slower a program runs under callgrind, roughly: the app's short waits are
#: stretched by this much (see the module's docstring).
SLOWDOWN = 60
#: Set by the server once it has collected its garbage (SIGUSR1): a file it writes.
_SETTLED_ENV = "MCPKIT_BENCH_SETTLED"
#: Run before the server's own script: on SIGUSR1, collect every generation of garbage and
#: say so, so that no full collection falls among the counted calls by chance.
_PRELUDE = (
    "import gc, os, runpy, signal, sys\n"
    "def _settle(signum, frame):\n"
    "    gc.collect()\n"
    f"    open(os.environ[{_SETTLED_ENV!r}], 'w').close()\n"
    "signal.signal(signal.SIGUSR1, _settle)\n"
)
#: The HTTP server's prelude also stretches the app's 10 ms waits.
_STRETCH = _PRELUDE + (
    "import mcpkit.transports.http.own_calls as own, mcpkit.transports.http.post as post\n"
    f"own.WATCH_AFTER *= {SLOWDOWN}\n"
    f"post.FIRST_WAIT *= {SLOWDOWN}\n"
)
_RUN = "sys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"


def callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]


def env_for(loop: str, settled: Path) -> dict[str, str]:
    # The interpreter's settings go (they move the count), not PYTHONPATH: a worktree's
    # src measured with bench/.venv-http is put first on the path with it.
    env = {k: v for k, v in os.environ.items() if k == "PYTHONPATH" or not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    env["MCPKIT_UVLOOP"] = "1" if loop == "uvloop" else "0"
    env[_SETTLED_ENV] = str(settled)
    return env


def settle(pid: int, settled: Path, call: Callable[[int], None]) -> None:
    """Have the server `pid` collect its garbage before the count: SIGUSR1, then uncounted
    calls (`call(n)`) until it says it has (its handler runs at its next Python code)."""
    settled.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for n in range(600):
        if settled.exists():
            return
        call(n)
        time.sleep(0.05)
    raise SystemExit(f"instructions: the server {pid} did not collect its garbage when asked")


def zero(pid: int) -> None:
    subprocess.run(["callgrind_control", "--zero", str(pid)], check=True, capture_output=True)


def dumped_total(pid: int, out: Path) -> int:
    """Dump the counters of `pid` and read the total from the dump it writes."""
    before = set(out.parent.glob(out.name + "*"))
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
    for _ in range(600):  # the dump is written by the server at its next instruction block
        new = set(out.parent.glob(out.name + "*")) - before
        for path in new:
            # `summary:`, not `totals:` (see the module's docstring).
            found = re.search(r"^summary:\s+(\d+)", path.read_text(errors="replace"), re.M)
            if found:
                return int(found.group(1))
        time.sleep(0.1)
    raise SystemExit(f"instructions: no callgrind dump from {pid}")


def stdio_figure(python: str, era: str, loop: str, warmup: int, calls: int, tmp: Path) -> float:
    out = tmp / f"stdio-{era}-{loop}"
    settled = tmp / f"settled-{era}-{loop}"
    cmd = [*callgrind(out), python, "-c", _PRELUDE + _RUN, str(SERVERS / "mcpkit_server_async.py")]
    transport = StdioTransport(cmd, env=env_for(loop, settled))
    stateless = era == MODERN_VERSION
    template = MODERN_ECHO_TEMPLATE if stateless else ECHO_TEMPLATE
    try:
        session = Session(transport, timeout=120, stateless=stateless)
        session.initialize()
        if not stateless:
            session.notify("notifications/initialized")

        def run(first: int, count: int) -> None:
            for n in range(first, first + count):
                transport.send([template % n])
                reply = transport.receive(120)
                if b'"result"' not in reply[-1]:
                    raise SystemExit(f"instructions: {reply[-1][:300]!r}")

        run(1000, warmup)
        assert transport.pid is not None
        settle(transport.pid, settled, lambda n: run(500 + n, 1))
        zero(transport.pid)
        run(1000 + warmup, calls)
        return dumped_total(transport.pid, out) / calls
    finally:
        transport.close()


async def _http_calls(port: int, era: str, first: int, count: int, session: bytes | None) -> None:
    conn = await connect(port)
    body = MODERN_ECHO_BODY if era == MODERN_VERSION else ECHO_BODY
    try:
        for n in range(first, first + count):
            reply = last_message(await conn.request(post(port, body % n, session, era)))
            if b'"result"' not in reply:
                raise SystemExit(f"instructions: {reply[:300]!r}")
    finally:
        conn.transport.close()


async def _http_session(port: int) -> bytes:
    conn = await connect(port)
    try:
        return await open_session(conn, port)
    finally:
        conn.transport.close()


async def _http_load(
    port: int, era: str, first: int, count: int, sessions: list[bytes | None]
) -> None:
    """`count` calls spread over one connection per session, all at once (each connection
    one call at a time, as bench/run's HTTP load makes them)."""
    share = count // len(sessions)
    await asyncio.gather(
        *(
            _http_calls(port, era, first + i * share, share, session)
            for i, session in enumerate(sessions)
        )
    )


def http_figure(
    python: str,
    era: str,
    loop: str,
    answers: str,
    warmup: int,
    calls: int,
    tmp: Path,
    connections: int = 1,
) -> float:
    out = tmp / f"http-{era}-{loop}-{answers}"
    port = free_port()
    serve = [str(SERVERS / "http_serve.py"), "--app", "mcpkit_async", "--answers", answers]
    serve += ["--server", "uvicorn-httptools", "--loop", loop, "--port", str(port)]
    settled = tmp / f"settled-{era}-{loop}-{answers}"
    served = Served(
        [*callgrind(out), python, "-c", _STRETCH + _RUN, *serve], env_for(loop, settled)
    )
    try:
        sessions: list[bytes | None] = [
            None if era == MODERN_VERSION else asyncio.run(_http_session(port))
            for _ in range(connections)
        ]
        asyncio.run(_http_load(port, era, 1000, warmup, sessions))
        settle(
            served.proc.pid,
            settled,
            lambda n: asyncio.run(_http_calls(port, era, 500 + n, 1, sessions[0])),
        )
        zero(served.proc.pid)
        counted = calls - calls % connections
        asyncio.run(_http_load(port, era, 1000 + warmup, counted, sessions))
        return dumped_total(served.proc.pid, out) / counted
    except BaseException:
        print(served.tail(), file=sys.stderr)
        raise
    finally:
        served.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("http", "stdio"))
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--connections",
        type=int,
        default=1,
        help="HTTP: calls spread over this many connections at once (bench/run uses 16)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("instructions: needs valgrind (apt-get install valgrind)")
    http_python = BENCH / ".venv-http" / "bin" / "python"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        shapes: list[tuple[str, str | None]] = []
        if args.only in (None, "stdio"):
            shapes.append(("stdio", None))
        if args.only in (None, "http"):
            if not http_python.exists():
                raise SystemExit("instructions: no bench/.venv-http; run bench/run --only http")
            shapes += [("http", "json"), ("http", "sse")]
        for transport, answers in shapes:
            for loop in LOOPS:
                figures: dict[str, float] = {}
                for era in ERAS:
                    if transport == "stdio":
                        figures[era] = stdio_figure(
                            sys.executable, era, loop, args.warmup, args.calls, tmp
                        )
                    else:
                        figures[era] = http_figure(
                            str(http_python),
                            era,
                            loop,
                            answers or "json",
                            args.warmup,
                            args.calls,
                            tmp,
                            args.connections,
                        )
                label = transport + (f", {answers} answers" if answers else "")
                old, new = figures[ERAS[0]], figures[ERAS[1]]
                rows.append(
                    {"shape": label, "loop": loop, ERAS[0]: old, ERAS[1]: new, "ratio": new / old}
                )
                print(
                    f"{label:22} {loop:8} 2025-11-25 {old:10,.0f}  2026-07-28 {new:10,.0f}  "
                    f"2026 / 2025 {new / old:.2f}",
                    flush=True,
                )
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"instructions-{stamp}.json").write_text(json.dumps(rows, indent=2) + "\n")
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
