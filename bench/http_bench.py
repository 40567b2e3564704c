"""The Streamable HTTP benchmark: which servers run, how each one is started and measured.

`bench/run --only http` runs it in rounds; `bench/http_profile.py` profiles one server.

(The module is not called `http.py`: bench/ is first on the path of `bench/run`, and a module
named `http` would shadow the standard library's package.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

__all__ = [
    "ANSWERS",
    "CORE_IDLE",
    "CORE_VARIANTS",
    "IDLE_VARIANTS",
    "MCP_VERSION",
    "VARIANTS",
    "TS_PACKAGES",
    "StepFailed",
    "Variant",
    "clean_env",
    "ensure_http_venv",
    "ensure_pinned_venv",
    "http_steps",
    "main",
]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SERVERS = BENCH / "servers"
INTEROP = REPO / "tests" / "interop"
# Pinned so that runs compare like with like; uvicorn comes with mcpkit's [http] extra.
HTTP_PACKAGES = ("httptools==0.9.0", "granian==2.8.7", "uvloop==0.23.0")
ANSWERS = ("sse", "json")
MCP_VERSION = "2.3.0"  # the official SDK; the version tests/interop/requirements.txt resolves to
# Settings of this shell that would make the figures unrepresentative of a user's machine.
_UNSET = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDEVMODE",
    "PYTHONTRACEMALLOC",
    "PYTHONASYNCIODEBUG",
    "PYTHONMALLOC",
    "PYTHONUNBUFFERED",
)


def clean_env() -> dict[str, str]:
    """This process's environment without the settings in `_UNSET`, for the measured children."""
    env = dict(os.environ)
    for name in _UNSET:
        env.pop(name, None)
    return env


class StepFailed(Exception):
    """A benchmark step could not produce its figures (the message says why)."""


@dataclass(frozen=True)
class Variant:
    """One server under test: `python` is a key of the interpreters ("http", "official")."""

    key: str
    label: str
    python: str
    app: str  # an app of servers/http_serve.py, or "ts" (SDK v1), "ts2" (SDK v2) or "raw"
    server: str = "uvicorn-h11"
    loop: str = "uvloop"
    floor: bool = False  # no MCP: no handshake, no id checks, JSON only
    #: The revision the load generator speaks: 2025-11-25 opens sessions; 2026-07-28 sends
    #: each call with its terms in `_meta` and no session (`http_loadgen.py --era`).
    era: str = "2025-11-25"

    @property
    def runs_mcpkit(self) -> bool:
        """Whether the server imports mcpkit (its figures depend on the checkout measured)."""
        return self.app.startswith("mcpkit")


VARIANTS = [
    Variant("mcpkit_async/h11", "mcpkit `async def`, uvicorn h11", "http", "mcpkit_async"),
    Variant(
        "mcpkit_async/httptools",
        "mcpkit `async def`, uvicorn httptools",
        "http",
        "mcpkit_async",
        "uvicorn-httptools",
    ),
    Variant(
        "mcpkit_async/granian", "mcpkit `async def`, granian", "http", "mcpkit_async", "granian"
    ),
    Variant(
        "mcpkit_async/httptools-2026",
        "mcpkit `async def`, uvicorn httptools, 2026-07-28 client",
        "http",
        "mcpkit_async",
        "uvicorn-httptools",
        era="2026-07-28",
    ),
    Variant(
        "mcpkit_async/httptools-asyncio",
        "mcpkit `async def`, uvicorn httptools, asyncio loop",
        "http",
        "mcpkit_async",
        "uvicorn-httptools",
        loop="asyncio",
    ),
    Variant(
        "mcpkit_async/httptools-asyncio-2026",
        "mcpkit `async def`, uvicorn httptools, asyncio loop, 2026-07-28 client",
        "http",
        "mcpkit_async",
        "uvicorn-httptools",
        loop="asyncio",
        era="2026-07-28",
    ),
    Variant("mcpkit/h11", "mcpkit `def`, uvicorn h11", "http", "mcpkit"),
    Variant(
        "mcpkit/httptools", "mcpkit `def`, uvicorn httptools", "http", "mcpkit", "uvicorn-httptools"
    ),
    Variant("mcpkit/granian", "mcpkit `def`, granian", "http", "mcpkit", "granian"),
    Variant(
        "mcpkit/httptools-2026",
        "mcpkit `def`, uvicorn httptools, 2026-07-28 client",
        "http",
        "mcpkit",
        "uvicorn-httptools",
        era="2026-07-28",
    ),
    Variant(
        "mcpkit_on_loop/httptools",
        "mcpkit `def`, `sync_in_thread=False`, uvicorn httptools",
        "http",
        "mcpkit_on_loop",
        "uvicorn-httptools",
    ),
    Variant(
        "mcpkit_on_loop/httptools-2026",
        "mcpkit `def`, `sync_in_thread=False`, uvicorn httptools, 2026-07-28 client",
        "http",
        "mcpkit_on_loop",
        "uvicorn-httptools",
        era="2026-07-28",
    ),
    Variant(
        "mcpkit_async/h11-asyncio",
        "mcpkit `async def`, uvicorn h11, asyncio loop",
        "http",
        "mcpkit_async",
        loop="asyncio",
    ),
    Variant(
        "official", "official `def`, uvicorn defaults", "official", "official", "uvicorn", "auto"
    ),
    Variant(
        "official_async",
        "official `async def`, uvicorn defaults",
        "official",
        "official_async",
        "uvicorn",
        "auto",
    ),
    Variant(
        "official-2026",
        "official `def`, uvicorn defaults, 2026-07-28 client",
        "official",
        "official",
        "uvicorn",
        "auto",
        era="2026-07-28",
    ),
    Variant(
        "official_async-2026",
        "official `async def`, uvicorn defaults, 2026-07-28 client",
        "official",
        "official_async",
        "uvicorn",
        "auto",
        era="2026-07-28",
    ),
    Variant("ts", "TypeScript SDK v1, node http", "node", "ts"),
    Variant(
        "ts2-2026",
        "TypeScript SDK v2 `createMcpHandler`, node http, 2026-07-28 client",
        "node",
        "ts2",
        era="2026-07-28",
    ),
    Variant("floor/h11", "floor ASGI app, uvicorn h11", "http", "floor", floor=True),
    Variant(
        "floor/httptools",
        "floor ASGI app, uvicorn httptools",
        "http",
        "floor",
        "uvicorn-httptools",
        floor=True,
    ),
    Variant("floor/granian", "floor ASGI app, granian", "http", "floor", "granian", floor=True),
    Variant(
        "floor-json/httptools",
        "ASGI app parsing each body (json.loads, json.dumps), uvicorn httptools, 2025-11-25 client",
        "http",
        "floor_json",
        "uvicorn-httptools",
        floor=True,
    ),
    Variant(
        "floor-json/httptools-2026",
        "ASGI app parsing each body (json.loads, json.dumps), uvicorn httptools, 2026-07-28 client",
        "http",
        "floor_json",
        "uvicorn-httptools",
        floor=True,
        era="2026-07-28",
    ),
    Variant("floor/raw", "raw asyncio server (load generator ceiling)", "http", "raw", floor=True),
]
IDLE_VARIANTS = ("mcpkit_async/h11", "official_async", "ts")
# `bench/run --only core`: what issue 40's request-core targets compare, in one short run.
CORE_VARIANTS = (
    "mcpkit_async/httptools",
    "mcpkit_async/httptools-2026",
    # Issue 65's `def` tool target: the same server's tools as plain `def`, in a worker thread
    # (the default) and on the loop (`sync_in_thread=False`), each against the parsing floor.
    "mcpkit/httptools",
    "mcpkit/httptools-2026",
    "mcpkit_on_loop/httptools",
    "mcpkit_on_loop/httptools-2026",
    "official_async",
    "official_async-2026",
    "ts",
    "ts2-2026",
    # What the same server costs with no MCP at all: how much of each target is the app's.
    "floor/httptools",
    # The same with the body parsed and an answer built from it: mcpkit's calls of each era
    # against the floor of the same era (a 2026-07-28 body carries its terms in `_meta`).
    "floor-json/httptools",
    "floor-json/httptools-2026",
)
CORE_IDLE = ("mcpkit_async/h11",)
BY_KEY = {v.key: v for v in VARIANTS}


# -------------------------------------------------------------------------------- environments


def _run(cmd: Sequence[str], timeout: float) -> str:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"timed out after {timeout:.0f}s: {' '.join(cmd)}") from None
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


def ensure_pinned_venv(base_python: str, package: str, version: str, venv: Path) -> str:
    """A venv of its own holding `package==version` (the official SDK, FastMCP: each pins its
    own dependencies); created or reinstalled when what it holds differs. Its python."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} ...", file=sys.stderr)
        _run([base_python, "-m", "venv", str(venv)], timeout=300)
    probe = f"import importlib.metadata as m; print(m.version({package!r}))"
    try:
        installed = _run([str(python), "-c", probe], timeout=60).strip()
    except StepFailed:
        installed = None
    if installed != version:
        print(f"installing {package}=={version} into {venv} ...", file=sys.stderr)
        _run([str(python), "-m", "pip", "install", "-q", f"{package}=={version}"], timeout=1200)
    return str(python)


def ensure_http_venv(base_python: str, venv: Path) -> str:
    """bench/.venv-http: this checkout of mcpkit (editable, [http]) with httptools, granian
    and uvloop, so that nothing is installed into the interpreter the user gave."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} ...", file=sys.stderr)
        _run([base_python, "-m", "venv", str(venv)], timeout=300)
    probe = (
        "import importlib.metadata as m, mcpkit, uvicorn; "
        "print(mcpkit.__file__, *(m.version(p) for p in ('httptools', 'granian', 'uvloop')))"
    )
    wanted = f"{REPO / 'src' / 'mcpkit' / '__init__.py'} " + " ".join(
        p.split("==")[1] for p in HTTP_PACKAGES
    )
    try:
        found = _run([str(python), "-c", probe], timeout=60).strip()
    except StepFailed:
        found = ""
    if found != wanted:
        print(
            f"installing mcpkit[http] (editable) and {' '.join(HTTP_PACKAGES)} ...", file=sys.stderr
        )
        install = [str(python), "-m", "pip", "install", "-q", "-e", f"{REPO}[http]"]
        _run([*install, *HTTP_PACKAGES], timeout=1200)
    return str(python)


# ------------------------------------------------------------------------------ one server run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(
    variant: Variant, answers: str, port: int, pythons: dict[str, str], profile: Path | None
) -> list[str]:
    if variant.app.startswith("ts"):  # ts, ts2; ts_mix, ts2_mix: bench/one_cpu.py's tools
        script = "http_ts2_server.mjs" if variant.app.startswith("ts2") else "http_ts_server.mjs"
        tools = ["mix"] if variant.app.endswith("_mix") else []
        return [pythons["node"], str(SERVERS / script), str(port), answers, *tools]
    python = pythons[variant.python]
    if variant.app == "raw":
        return [python, str(SERVERS / "http_floor_raw.py"), "--port", str(port)]
    cmd = [python, str(SERVERS / "http_serve.py"), "--app", variant.app, "--answers", answers]
    cmd += ["--server", variant.server, "--loop", variant.loop, "--port", str(port)]
    return cmd + (["--profile", str(profile)] if profile else [])


class Served:
    """A benchmark server in its own process group; `stop()` ends the group and reaps it."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=self.log, env=env, start_new_session=True
        )

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-1500:]

    def stop(self) -> None:
        # SIGINT: uvicorn re-raises the signal it caught once it has shut down, and only
        # SIGINT then unwinds Python (KeyboardInterrupt), so a profiled server writes its stats.
        for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


def measure(
    variant: Variant,
    answers: str,
    pythons: dict[str, str],
    env: dict[str, str],
    loadgen_args: Sequence[str],
    profile: Path | None = None,
    *,
    loadgen: str = "http_loadgen.py",
    pins: tuple[Sequence[str], Sequence[str]] = ((), ()),
    timeout: float = 300,
) -> dict[str, Any]:
    """Start the server, run the load generator against it, stop the server. `pins`: command
    prefixes for the server and the load generator (`taskset -c N` in bench/one_cpu.py)."""
    port = free_port()
    served = Served([*pins[0], *server_command(variant, answers, port, pythons, profile)], env)
    try:
        cmd = [*pins[1], pythons["http"], str(BENCH / loadgen), "--json", "--port", str(port)]
        cmd += ["--pid", str(served.proc.pid), *loadgen_args]
        if variant.era != "2025-11-25":
            cmd += ["--era", variant.era]
        if variant.floor:
            cmd.append("--floor")
        try:
            out = _run(cmd, timeout=timeout)
        except StepFailed as exc:
            raise StepFailed(f"{exc}\nserver output: {served.tail()}") from None
        result: dict[str, Any] = json.loads(out)
        return result
    finally:
        served.stop()


def load_figures(
    variant: Variant,
    answers: str,
    pythons: dict[str, str],
    env: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, float]:
    loadgen = ["--sessions", str(args.http_sessions), "--duration", str(args.duration)]
    loadgen += ["--warmup", str(args.http_warmup)]
    r = measure(variant, answers, pythons, env, loadgen)
    return {
        "http_rps": r["calls_per_s"],
        "http_p50_us": r["p50_us"],
        "http_p99_us": r["p99_us"],
        "http_cpu_us": r["server_cpu_us_per_call"],
        "http_loadgen_cpu_us": r["loadgen_cpu_us_per_call"],
    }


def idle_figures(
    variant: Variant, pythons: dict[str, str], env: dict[str, str], args: argparse.Namespace
) -> dict[str, float]:
    r = measure(variant, "sse", pythons, env, ["--idle", str(args.idle_sessions)])
    return {"idle_kib": r["kib_per_session"], "idle_rss_before_kib": r["rss_before_kib"]}


Step = tuple[str, Callable[[], dict[str, Any]]]


def http_steps(
    pythons: dict[str, str], env: dict[str, str], args: argparse.Namespace, core: bool = False
) -> list[Step]:
    """(sample key, measurement) for one round: every variant with both kinds of answer, then
    the idle-session memory of mcpkit, the official SDK and the TypeScript SDK; with `core`,
    only `CORE_VARIANTS` and `CORE_IDLE`."""
    steps: list[Step] = []
    for variant in VARIANTS:
        if variant.python not in pythons or (core and variant.key not in CORE_VARIANTS):
            continue
        for answers in ("json",) if variant.floor else ANSWERS:
            run = partial(load_figures, variant, answers, pythons, env, args)
            steps.append((f"http:{variant.key}:{answers}", run))
    for key in CORE_IDLE if core else IDLE_VARIANTS:
        if BY_KEY[key].python in pythons:
            steps.append(
                (f"http:{key}:idle", partial(idle_figures, BY_KEY[key], pythons, env, args))
            )
    return steps


# The TypeScript SDK's packages the node servers load from tests/interop/node_modules: v1
# (`sdk`), and v2's server with its Node adapter (`node`).
TS_PACKAGES = ("sdk", "server", "node")


def find_node() -> str | None:
    """node, when it and the TypeScript SDK under tests/interop/node_modules are there."""
    node = shutil.which("node")
    sdk = INTEROP / "node_modules" / "@modelcontextprotocol"
    return node if node and all((sdk / p).exists() for p in TS_PACKAGES) else None


def main() -> int:
    print(
        "run the whole HTTP benchmark with `bench/run --only http`; profile a server with "
        "bench/http_profile.py",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
