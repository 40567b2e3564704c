"""Cold start of `server.lambda_handler()`: in fresh interpreters, from the first import of the
function's module (bench/servers/lambda_app.py: `from mcpkit import Server`, one tool,
`handler = server.lambda_handler()`) to the answer of its first event (a 2026-07-28
`tools/list` in a function URL event), then the median of warm invocations (`tools/call`).

Wall time and the process's CPU time are both given: on a busy machine the CPU time is
the steadier figure. Interpreter start-up is not counted (Lambda's own Python start is the
same for any library); the number of modules loaded and whether any HTTP server or client
stack was loaded are reported. One discarded run first lets Python write its bytecode
caches, as a deployment package built with them would have.

    python bench/lambda_cold_start.py [--python .venv/bin/python] [--runs 7] [--warm 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

SERVERS = Path(__file__).resolve().parent / "servers"

_PROBE = """\
import sys, time
start = time.perf_counter()
cpu_start = time.process_time()
before = set(sys.modules)
sys.path.insert(0, {servers!r})
import lambda_app
imported = time.perf_counter()
META = {{"io.modelcontextprotocol/protocolVersion": "2026-07-28",
         "io.modelcontextprotocol/clientCapabilities": {{}}}}
def event(method, params, name=None):
    headers = {{"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json",
               "accept": "application/json, text/event-stream",
               "mcp-protocol-version": "2026-07-28", "mcp-method": method}}
    if name:
        headers["mcp-name"] = name
    body = {{"jsonrpc": "2.0", "id": 1, "method": method, "params": {{**params, "_meta": META}}}}
    return {{"version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
            "headers": headers, "isBase64Encoded": False, "body": __import__("json").dumps(body),
            "requestContext": {{"stage": "$default", "domainName": headers["host"],
                               "http": {{"method": "POST", "path": "/mcp",
                                        "sourceIp": "192.0.2.1"}}}}}}
first = lambda_app.handler(event("tools/list", {{}}), None)
answered = time.perf_counter()
cpu = time.process_time() - cpu_start
assert first["statusCode"] == 200, first
call = event("tools/call", {{"name": "add", "arguments": {{"a": 1, "b": 2}}}}, "add")
warm = []
for _ in range({warm}):
    t0 = time.perf_counter()
    assert lambda_app.handler(call, None)["statusCode"] == 200
    warm.append(time.perf_counter() - t0)
warm.sort()
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"uvicorn", "httpx", "httpcore",
    "h11", "httptools", "uvloop", "sqlite3", "redis", "starlette", "anyio"}})
lambda_app.handler.close()
print(__import__("json").dumps({{"import_ms": (imported - start) * 1e3,
    "first_ms": (answered - imported) * 1e3, "total_ms": (answered - start) * 1e3,
    "cpu_ms": cpu * 1e3,
    "warm_ms": warm[len(warm) // 2] * 1e3 if warm else None,
    "modules": len(set(sys.modules) - before), "heavy": heavy}}))
"""

# The same measure of what any mcpkit server imports, for the handler's own share.
_BASELINE = """\
import json, sys, time
start = time.perf_counter()
cpu_start = time.process_time()
from mcpkit import Server
Server("baseline")
print(json.dumps({"total_ms": (time.perf_counter() - start) * 1e3,
    "cpu_ms": (time.process_time() - cpu_start) * 1e3}))
"""

_UNSET = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONDEVMODE")


def one_run(python: str, warm: int, *, baseline: bool = False) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    code = _BASELINE if baseline else _PROBE.format(servers=str(SERVERS), warm=warm)
    done = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=120
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    one_run(args.python, 1)  # writes the bytecode caches
    runs: list[dict[str, Any]] = []
    bases: list[dict[str, Any]] = []
    for _ in range(args.runs):  # interleaved, so that both see the same load
        runs.append(one_run(args.python, args.warm))
        bases.append(one_run(args.python, 0, baseline=True))
    report = {
        key: statistics.median(r[key] for r in runs)
        for key in ("import_ms", "first_ms", "total_ms", "cpu_ms", "warm_ms", "modules")
    }
    report["server_ms"] = statistics.median(b["total_ms"] for b in bases)
    report["server_cpu_ms"] = statistics.median(b["cpu_ms"] for b in bases)
    report["heavy"] = sorted({m for r in runs for m in r["heavy"]})
    report["runs"] = args.runs
    if args.json:
        print(json.dumps(report))
        return
    print(f"cold start, median of {args.runs} fresh interpreters:")
    print(f"  import of the function's module   {report['import_ms']:8.1f} ms")
    print(f"  first event answered after it     {report['first_ms']:8.1f} ms")
    print(f"  import to first answer            {report['total_ms']:8.1f} ms")
    print(f"  CPU time of it (a busy machine)   {report['cpu_ms']:8.1f} ms")
    print(
        f"  of which any mcpkit Server's      {report['server_ms']:8.1f} ms "
        f"({report['server_cpu_ms']:.1f} ms CPU: `from mcpkit import Server`, one made)"
    )
    print(f"  warm invocation (tools/call)      {report['warm_ms']:8.3f} ms")
    print(f"  modules loaded                    {report['modules']:8.0f}")
    print(f"  HTTP server/client stacks loaded  {', '.join(report['heavy']) or 'none'}")


if __name__ == "__main__":
    main()
