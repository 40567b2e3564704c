"""The server side of one warm `tools/call` over Streamable HTTP, traced: which mcpkit modules it
passes and how often it switches package, for a 2025-11-25 session and a 2026-07-28 request;
and the import cycles inside each mcpkit package (issue 40's structural targets).

    .venv/bin/python bench/trace_request.py [--answers sse|json] [--http httptools|h11] [--calls]

What runs: bench/servers/mcpkit_server_async.py's `server.http_app()` on uvicorn, with the
protocol `mcpkit run` serves it with (`app.uvicorn_protocol`, writes joined, guards on), on
127.0.0.1 in this process and this event loop (plain asyncio). A raw-socket client in the same
loop (bench/http_loadgen.py's, no MCP library) opens a session (2025) or sends each call with
its terms in `_meta` (2026), makes `--warmup` untimed calls of `echo`, then `--repeat` more,
each under `sys.setprofile` on its own, from just before its bytes are written until the
answer is read and every task the request started (uvicorn's per-request task) has finished;
the trace with the median number of calls is shown.

What is counted: only `call` events (a function entered, or a coroutine or generator resumed)
of code whose module is under `mcpkit`; everything else (uvicorn, asyncio, the client) is not
seen. "Modules" is the number of distinct mcpkit modules entered. A "package switch" is a pair
of consecutive counted calls whose modules sit in different packages of mcpkit's top level
(mcpkit.server, mcpkit.transports, mcpkit.protocol, mcpkit.runtime, mcpkit.stores, ...; a
subpackage such as mcpkit.transports.http or mcpkit.server.handlers counts as its package, so
that grouping server/ into rooms by job is no switch). The finer count, by each module's own
`__package__`, is printed beside it. Re-entering the same package after a call into asyncio or
uvicorn is no switch: what is measured is how often the path crosses mcpkit's own boundaries.

The review behind issue 40 counted 41 modules / 38 switches (2025 session) and 37 / 25 (2026
request); the targets are 25 / 16 and 20 / 12. On the tree this was written against (the
default SSE answers, httptools) it counts 40 / 40 and 36 / 25: one module fewer each and two
switches more in the 2025 session, near enough to take the definitions as the review's (the
code has changed since it counted); by `__package__`
they would be 44 and 29 (server <-> server.handlers counted too). JSON answers pass fewer
modules in a 2025 session (37 / 32: no SSE stream, no event log); the uvicorn protocol
(httptools or h11) changes nothing. Counts are not timings: the machine's load does not move
them. The import cycles are those of tests/test_package.py's graph with nothing exempted:
every import, deferred and `if TYPE_CHECKING:` ones included, between modules of src/mcpkit
(target: none inside a package).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib
import itertools
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

BENCH = Path(__file__).resolve().parent
SRC = BENCH.parent / "src" / "mcpkit"
sys.path[:0] = [str(BENCH), str(BENCH / "servers")]

from http_loadgen import (  # noqa: E402  (bench/ is put on the path just above)
    ECHO_BODY,
    MODERN_ECHO_BODY,
    MODERN_VERSION,
    Connection,
    connect,
    last_message,
    open_session,
    post,
)

__all__ = ["Trace", "import_cycles", "main", "trace_call"]

ERAS = ("2025-11-25", MODERN_VERSION)
# Issue 40: (modules, package switches) measured before the refactor, and its targets.
BEFORE = {"2025-11-25": (41, 38), MODERN_VERSION: (37, 25)}
TARGETS = {"2025-11-25": (25, 16), MODERN_VERSION: (20, 12)}


# ------------------------------------------------------------------------------ the trace


@dataclass
class Trace:
    """The mcpkit calls of one request, in order: (module, package, function), `function` its
    qualified name; `depths` says, for each, how many mcpkit calls it was made within (0: from
    uvicorn or the event loop), so the calls read as a tree; `timed`, whether a timer that
    fired inside the trace's window made it (`call_later`'s callback, or a call within one:
    the server's housekeeping, which a loaded machine's slower call sees more often)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    timed: list[bool] = field(default_factory=list)
    unfinished: int = 0  # tasks of the request still running when the trace stopped

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        name = frame.f_globals.get("__name__", "")
        if name == "mcpkit" or name.startswith("mcpkit."):
            package = frame.f_globals.get("__package__") or name
            self.calls.append((name, package, frame.f_code.co_qualname))
            depth, timed = _callers(frame.f_back)
            self.depths.append(depth)
            self.timed.append(timed)

    def modules(self) -> list[str]:
        """Distinct modules, in order of first entry."""
        return list(dict.fromkeys(module for module, _, _ in self.calls))

    def switches(self, fine: bool = False) -> int:
        """Consecutive calls in different top-level packages (`fine`: different
        `__package__`s, subpackages apart)."""
        units = [p if fine else layer(p) for _, p, _ in self.calls]
        return sum(1 for a, b in itertools.pairwise(units) if a != b)


_HANDLE_RUN = asyncio.Handle._run.__code__  # (a TimerHandle runs its callback through it too)


def _callers(frame: FrameType | None) -> tuple[int, bool]:
    """How many mcpkit frames there are from `frame` down, and whether a timer's callback
    is among them (an `asyncio.TimerHandle` running)."""
    count = 0
    timed = False
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        count += name == "mcpkit" or name.startswith("mcpkit.")
        if frame.f_code is _HANDLE_RUN:
            timed = isinstance(frame.f_locals.get("self"), asyncio.TimerHandle)
        frame = frame.f_back
    return count, timed


def layer(package: str) -> str:
    """mcpkit.transports.http -> mcpkit.transports; mcpkit -> mcpkit."""
    return ".".join(package.split(".")[:2])


async def call_once(conn: Connection, port: int, session: bytes | None, era: str, rid: int) -> None:
    body = (MODERN_ECHO_BODY if era == MODERN_VERSION else ECHO_BODY) % rid
    answer = last_message(await conn.request(post(port, body, session, era)))
    if b'"result"' not in answer or b'"hello"' not in answer:
        raise RuntimeError(f"echo failed: {answer[:300]!r}")


async def trace_call(app: Any, era: str, warmup: int, http: str, repeat: int) -> list[Trace]:
    """Serve `app` on an ephemeral port, warm it with `warmup` calls in `era`, then trace
    `repeat` more, each on its own."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        http=app.uvicorn_protocol(http),
        loop="asyncio",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if serving.done():
                    serving.result()  # raises why it stopped
                await asyncio.sleep(0.01)  # uvicorn says it started only through this flag
        port = server.servers[0].sockets[0].getsockname()[1]
        conn = await connect(port)
        session = None if era == MODERN_VERSION else await open_session(conn, port)
        for rid in range(1, warmup + 1):
            await call_once(conn, port, session, era, rid)
        rid = warmup + 1
        return [await _traced(conn, port, session, era, rid + n) for n in range(repeat)]
    finally:
        server.should_exit = True
        async with asyncio.timeout(30):
            await serving


async def _traced(conn: Connection, port: int, session: bytes | None, era: str, rid: int) -> Trace:
    trace = Trace()
    before = asyncio.all_tasks()
    sys.setprofile(trace.profile)
    try:
        await call_once(conn, port, session, era, rid)
        # The server may still be finishing the request (closing its stream, saving the
        # session) after the answer left: wait for the tasks it started, within a bound.
        started = asyncio.all_tasks() - before - {asyncio.current_task()}
        if started:
            _, pending = await asyncio.wait(started, timeout=5)
            trace.unfinished = len(pending)
    finally:
        sys.setprofile(None)
    return trace


# ------------------------------------------------------------------------ import cycles


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(name: str, is_package: bool, tree: ast.AST) -> Iterator[str]:
    """Every module named by an import anywhere in the module (TYPE_CHECKING, deferred and
    all), relative to `mcpkit`; `from p import x` names both p and p.x."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.removeprefix("mcpkit.") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                keep = package[: len(package) - node.level + 1]
                base = ".".join(keep + ([node.module] if node.module else []))
            else:
                base = (node.module or "").removeprefix("mcpkit").removeprefix(".")
            yield base
            yield from (f"{base}.{a.name}".lstrip(".") for a in node.names)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = _imports(name, path.name == "__init__.py", ast.parse(path.read_text()))
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Components of more than one module (Tarjan's algorithm, recursive: the graph is a few
    hundred modules deep at most)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            at = stack.index(node)
            component = set(stack[at:])
            del stack[at:]
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for root in sorted(graph):
        if root not in index:
            visit(root)
    return found


def import_cycles() -> dict[str, list[set[str]]]:
    """Top-level package (or "a+b" for a cycle across packages) -> its cycles."""
    graph = import_graph()
    by_package: dict[str, list[set[str]]] = {}
    for component in strongly_connected(graph):
        key = "+".join(sorted({m.split(".")[0] for m in component}))
        by_package.setdefault(key, []).append(component)
    return by_package


def package_sizes() -> Counter[str]:
    return Counter(_module_name(p).split(".")[0] for p in SRC.rglob("*.py"))


# ------------------------------------------------------------------------------ the report


def typical(traces: list[Trace]) -> Trace:
    """The trace with the median number of calls: a housekeeping timer of the server (the
    sweep of 2026 calls in flight, for one) now and then fires inside a trace's window."""
    return sorted(traces, key=lambda t: len(t.calls))[len(traces) // 2]


def print_trace(era: str, traces: list[Trace], show_calls: bool) -> None:
    trace = typical(traces)
    modules = trace.modules()
    counts = sorted(len(t.calls) for t in traces)
    (was_m, was_s), (want_m, want_s) = BEFORE[era], TARGETS[era]
    kind = "session" if era == "2025-11-25" else "request, no session"
    print(
        f"\n== {era} {kind}: {len(trace.calls)} mcpkit calls (the median of {len(traces)} "
        f"traced calls: {counts[0]}-{counts[-1]})"
    )
    print(f"   modules          {len(modules):3d}   (issue 40: {was_m} before, target <= {want_m})")
    print(
        f"   package switches {trace.switches():3d}   "
        f"(issue 40: {was_s} before, target <= {want_s})"
    )
    print(
        f"   by __package__   {trace.switches(fine=True):3d}   "
        "(subpackages apart: server.handlers ...)"
    )
    if trace.unfinished:
        print(f"   ({trace.unfinished} task(s) of the request still ran when the trace stopped)")
    print("   modules in order of first entry (calls):")
    per_module = Counter(module for module, _, _ in trace.calls)
    for module in modules:
        print(f"     {per_module[module]:4d}  {module}")
    if show_calls:
        print(
            "   calls (indented by how many mcpkit calls each was made within; (timer): made by"
            " a timer that fired meanwhile, not the request's path):"
        )
        for (module, _, function), depth, timed in zip(
            trace.calls, trace.depths, trace.timed, strict=True
        ):
            print(f"     {'  ' * depth}{module}:{function}{'  (timer)' if timed else ''}")


def print_cycles() -> None:
    cycles, sizes = import_cycles(), package_sizes()
    count = sum(len(found) for found in cycles.values())
    print(f"\n== import cycles, TYPE_CHECKING and deferred imports counted: {count} (target 0)")
    for package, found in sorted(cycles.items()):
        for component in found:
            total = sizes.get(package, 0)
            of = f" of its {total} modules" if total else " (across packages)"
            print(f"   {package}: {len(component)} modules{of}")
            print("     " + ", ".join(sorted(component)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--answers", choices=["sse", "json"], default="sse")
    parser.add_argument("--http", choices=["httptools", "h11"], default="httptools")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls before the trace")
    parser.add_argument("--repeat", type=int, default=5, help="calls traced, one at a time")
    parser.add_argument("--era", choices=[*ERAS, "both"], default="both")
    parser.add_argument(
        "--calls",
        action="store_true",
        help="also list every traced call, module:qualified name, as a tree of who calls whom",
    )
    args = parser.parse_args(argv)
    os.environ["MCPKIT_UVLOOP"] = "0"  # the same loop as the client's; no effect on the counts
    server = importlib.import_module("mcpkit_server_async").server  # bench/servers/

    print(
        f"one warm tools/call of echo, server side, {args.answers} answers, uvicorn "
        f"{args.http}, after {args.warmup} calls"
    )
    for era in ERAS if args.era == "both" else (args.era,):
        # A fresh app for each era: a session's state must not be what the 2026 request reuses.
        app = server.http_app(json_response=args.answers == "json")
        traces = asyncio.run(trace_call(app, era, args.warmup, args.http, args.repeat))
        print_trace(era, traces, args.calls)
    print_cycles()
    return 0


if __name__ == "__main__":
    sys.exit(main())
