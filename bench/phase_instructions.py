"""Instructions per `tools/call` spent inside chosen functions of the ASGI app, each counted on
its own: where `bench/app_instructions.py`'s total goes, exactly.

    bench/.venv-http/bin/python bench/phase_instructions.py [--era 2026-07-28] [--answers json]
        [--calls 500] TARGET [TARGET ...]

A TARGET is `module:attribute.path`, a function or a method (sync or `async def`), e.g.
`mcpkit.protocol.server_session:ServerSession.read_sessionless` or
`mcpkit.transports.http.mirrored:MirrorCheck.request`. Each is measured in a valgrind run of
its own, on the calls of `app_instructions.py` (same app, same warmup, the collector off): the
counters are on only while the function runs, so its figure includes what it calls and
nothing else. An `async def` counts each of its steps (from a resume to its next suspension),
not the time it waits. The wrapper's own call of the function is in the figure: a small sync
function reads several hundred instructions above what it costs where it is called (removing
a call counted at 2,035 saved ~390 of the app's). `none` patches nothing, and counts 0:
nothing outside a target is counted.

A target counts only where it is looked up through what this patches: the attribute on its
class or module, and the same name in every module that imported it. A function an object
bound before (a handler table made at import, a bound method kept) is not seen: its figure is
0, which says so. The switch is a C extension built here with the valgrind package's
`callgrind.h` (`CALLGRIND_TOGGLE_COLLECT`), into a temporary folder, at each run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "servers")]

import app_instructions  # noqa: E402  (bench/ is put on the path just above)

__all__ = ["main"]

HEADER = Path("/usr/include/valgrind/callgrind.h")
SWITCH_C = """
#include <Python.h>
#include <valgrind/callgrind.h>
static PyObject *toggle(PyObject *self, PyObject *args) {
    CALLGRIND_TOGGLE_COLLECT;
    Py_RETURN_NONE;
}
static PyMethodDef methods[] = {{"toggle", toggle, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "callgrind_switch", NULL, -1, methods};
PyMODINIT_FUNC PyInit_callgrind_switch(void) { return PyModule_Create(&module); }
"""


def build_switch(folder: Path) -> None:
    """Compile the `callgrind_switch` extension into `folder`."""
    if not HEADER.exists() or shutil.which("gcc") is None:
        raise SystemExit("phase_instructions: needs valgrind's callgrind.h and gcc")
    source = folder / "callgrind_switch.c"
    source.write_text(SWITCH_C)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_paths()["include"]
    out = folder / f"callgrind_switch{suffix}"
    cmd = ["gcc", "-O2", "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(out)]
    subprocess.run(cmd, check=True)


class _Steps:
    """Awaits a coroutine with the counters on during each of its steps only."""

    __slots__ = ("coro", "toggle")

    def __init__(self, coro: Any, toggle: Callable[[], None]) -> None:
        self.coro = coro
        self.toggle = toggle

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, toggle = self.coro, self.toggle
        value: Any = None
        error: BaseException | None = None
        while True:
            toggle()
            try:
                step = coro.throw(error) if error is not None else coro.send(value)
            except StopIteration as stop:
                toggle()
                return stop.value
            except BaseException:
                toggle()
                raise
            toggle()
            try:
                value, error = (yield step), None
            except BaseException as exc:  # thrown in (a cancellation): passed on
                value, error = None, exc


def counted(fn: Callable[..., Any], toggle: Callable[[], None]) -> Callable[..., Any]:
    """`fn`, with the counters on while it runs."""
    if inspect.iscoroutinefunction(fn):

        async def steps(*args: Any, **kwargs: Any) -> Any:
            return await _Steps(fn(*args, **kwargs), toggle)

        return steps

    def call(*args: Any, **kwargs: Any) -> Any:
        toggle()
        try:
            return fn(*args, **kwargs)
        finally:
            toggle()

    return call


def resolve(target: str) -> tuple[Any, str, Any]:
    """(the object holding it, its name, what is held) of `module:attribute.path`."""
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *outer, name = path.split(".")
    for part in outer:
        owner = getattr(owner, part)
    return owner, name, inspect.getattr_static(owner, name)


def patch(target: str, toggle: Callable[[], None]) -> None:
    """Put the counted `target` where the app looks it up (see the module's doc)."""
    if target == "none":
        return
    owner, name, raw = resolve(target)
    wrapper: Any
    if isinstance(raw, staticmethod):
        wrapper = staticmethod(counted(raw.__func__, toggle))
    elif isinstance(raw, classmethod):
        wrapper = classmethod(counted(raw.__func__, toggle))
    else:
        wrapper = counted(raw, toggle)
    setattr(owner, name, wrapper)
    if inspect.ismodule(owner):  # and where it was imported by name
        for module in list(sys.modules.values()):
            if module is not owner and getattr(module, name, None) is raw:
                setattr(module, name, wrapper)


def _child(args: argparse.Namespace) -> None:
    sys.path.insert(0, args.switch)
    import callgrind_switch  # type: ignore[import-not-found]  # (built by the parent)

    app = app_instructions.bench_app(args.tools, args.answers)
    patch(args.targets[0], callgrind_switch.toggle)
    asyncio.run(app_instructions._serve(app, args.era, args.calls, True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--era", choices=("2025-11-25", "2026-07-28"), default="2026-07-28")
    parser.add_argument("--answers", choices=("json", "sse"), default="json")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--tools", choices=("async", "def", "def-on-loop"), default="async")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--switch", help=argparse.SUPPRESS)
    parser.add_argument("targets", nargs="+", metavar="TARGET")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("phase_instructions: needs valgrind (apt-get install valgrind)")
    for target in args.targets:  # (each named wrong is told at once, not after a run)
        if target != "none":
            try:
                resolve(target)
            except (ImportError, AttributeError, ValueError) as exc:
                raise SystemExit(f"phase_instructions: no {target} ({exc!r})") from None
    env = app_instructions.child_env()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        build_switch(folder)
        for target in args.targets:
            out = folder / "counts"
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]
            cmd += ["--collect-atstart=no", "--zero-before=sched_yield", "--dump-before=getppid"]
            cmd += [sys.executable, __file__, "--child", "--switch", name, "--era", args.era]
            cmd += ["--answers", args.answers, "--calls", str(args.calls)]
            cmd += ["--tools", args.tools, target]
            run = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            dump = Path(f"{out}.1")
            found = (
                re.search(r"^summary:\s+(\d+)", dump.read_text(), re.M) if dump.exists() else None
            )
            if run.returncode or found is None:
                print(f"{'failed':>10}  {target}: {run.stderr.decode()[-800:]}")
            else:
                print(f"{int(found.group(1)) / args.calls:>10,.0f}  {target}", flush=True)
            for left in folder.glob("counts*"):
                left.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
