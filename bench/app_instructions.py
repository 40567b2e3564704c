"""Instructions per `tools/call` of the ASGI app alone: `bench/servers/mcpkit_server_async.py`'s
`http_app()` called in process, no socket, no uvicorn, counted by valgrind's callgrind.

    bench/.venv-http/bin/python bench/app_instructions.py [--era 2026-07-28] [--answers json]
        [--loop asyncio] [--calls 1000] [--no-gc] [--tools async]

`--tools def` serves `bench/servers/mcpkit_server.py` instead, whose tools are plain `def`
functions run in a worker thread: callgrind counts every thread of the process, so the figure
is the loop's work and the worker's together (`--tools def-on-loop` runs them on the loop).

What bench/instructions.py counts for the whole server moves between runs on a loaded machine
(its docstring says by how much); this count does not, to a few instructions: no socket, no
other process, one task. It is the app's part only (the checks, the body, the protocol, the
handler, the answer), with uvicorn's scope and messages imitated. Run under callgrind, the
script zeroes the counters after a warmup (at `os.sched_yield()`) and dumps them after the
counted calls (at `os.getppid()`); run without `--child`, it starts itself so.

The collector's young-generation runs fall in the count or not by where a change moves them
(one object more or less a call shifts them): up to ~1,500 a call either way, sometimes more.
`--no-gc` collects before the counted calls and counts them with the collector off, which
compares two small changes to a few instructions; the default is what a server runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "servers")]

from http_loadgen import (  # noqa: E402  (bench/ is put on the path just above)
    ECHO_BODY,
    INITIALIZE,
    INITIALIZED,
    MODERN_ECHO_BODY,
    MODERN_VERSION,
)
from http_serve import on_loop  # noqa: E402  (and bench/servers)

__all__ = ["main"]

WARMUP = 300


async def _post(app: Any, body: bytes, version: str, session: bytes | None) -> list[Any]:
    """One POST as uvicorn hands it to the app: its messages sent."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", version.encode()),
    ]
    if version == MODERN_VERSION:
        headers += [(b"mcp-method", b"tools/call"), (b"mcp-name", b"echo")]
    if session is not None:
        headers.append((b"mcp-session-id", session))
    headers.append((b"content-length", b"%d" % len(body)))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "headers": headers,
        "state": {},
    }
    done = asyncio.Event()
    sent: list[Any] = []
    unread = [True]

    async def receive() -> dict[str, Any]:
        if unread:
            unread.clear()
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # as uvicorn: the client is there until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    return sent


async def _serve(app: Any, era: str, calls: int, no_gc: bool = False) -> None:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    await queue.put({"type": "lifespan.startup"})
    life = asyncio.create_task(app({"type": "lifespan", "state": {}}, queue.get, lifespan_send))
    await started.wait()
    session = None
    body = MODERN_ECHO_BODY
    if era != MODERN_VERSION:
        body = ECHO_BODY
        sent = await _post(app, INITIALIZE, era, None)
        session = dict(sent[0]["headers"])[b"mcp-session-id"]
        await _post(app, INITIALIZED, era, session)
    for n in range(WARMUP):
        sent = await _post(app, body % (1000 + n), era, session)
    if b'"result"' not in b"".join(m.get("body", b"") for m in sent):
        raise SystemExit(f"app_instructions: {sent!r}")
    if no_gc:
        gc.collect()
        gc.disable()
    os.sched_yield()  # callgrind zeroes its counters here
    for n in range(calls):
        await _post(app, body % (2000 + n), era, session)
    os.getppid()  # and dumps them here
    await queue.put({"type": "lifespan.shutdown"})
    await life


TOOLS = ("async", "def", "def-on-loop")


def bench_app(tools: str, answers: str) -> Any:
    """The ASGI app of the bench server whose tools are `tools` (one of `TOOLS`)."""
    if tools == "async":
        import mcpkit_server_async as module
    else:
        import mcpkit_server as module
    if tools == "def-on-loop":
        on_loop(module.server)  # as `bench/run`'s `mcpkit_on_loop` servers run
    return module.server.http_app(json_response=answers == "json")


def _child(args: argparse.Namespace) -> None:
    app = bench_app(args.tools, args.answers)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(_serve(app, args.era, args.calls, args.no_gc))
    else:
        asyncio.run(_serve(app, args.era, args.calls, args.no_gc))


def child_env() -> dict[str, str]:
    """The environment a counted child runs in: the interpreter's settings go (they move the
    count), not PYTHONPATH (a worktree's src measured with bench/.venv-http is put first on
    the path with it); one hash seed, so dict and set layouts are the same run to run."""
    env = {k: v for k, v in os.environ.items() if k == "PYTHONPATH" or not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return env


def counted_run(tool: str, script: str, argv: list[str]) -> int:
    """The instructions `script --child *argv` runs between its `os.sched_yield()` and its
    `os.getppid()`, under callgrind (every thread of the process counted)."""
    if shutil.which("valgrind") is None:
        raise SystemExit(f"{tool}: needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as name:
        out = Path(name) / "counts"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]
        cmd += ["--zero-before=sched_yield", "--dump-before=getppid"]
        cmd += [sys.executable, script, "--child", *argv]
        subprocess.run(cmd, check=True, env=child_env(), stdout=subprocess.DEVNULL)
        dump = Path(f"{out}.1").read_text(errors="replace")
    found = re.search(r"^summary:\s+(\d+)", dump, re.M)
    if found is None:
        raise SystemExit(f"{tool}: no callgrind dump")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--era", choices=("2025-11-25", MODERN_VERSION), default=MODERN_VERSION)
    parser.add_argument("--answers", choices=("json", "sse"), default="json")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--tools", choices=TOOLS, default="async", help="the bench server's tools")
    parser.add_argument(
        "--no-gc", action="store_true", help="count with the collector off (see the docstring)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return 0
    per_call = counted_run("app_instructions", __file__, sys.argv[1:]) / args.calls
    gc_off = ", collector off" if args.no_gc else ""
    what = f"{args.era} {args.answers} {args.loop}, {args.tools} tools{gc_off}"
    print(f"{what}: {per_call:,.0f} instructions per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
