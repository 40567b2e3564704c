"""docs/architecture.md's two walks of one tools/call (a 2025-11-25 session's POST, a 2026-07-28
POST) name the code as it is: every function a walk names exists, in the module it gives, and
each walk is the call bench/trace_request.py traces, function by function, in order, each
under the step it was made within.

When the request path changes, this fails with the rows the walk should have (its steps,
functions, modules and callers); paste them over the table and word the last column."""

from __future__ import annotations

import asyncio
import difflib
import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "mcpkit"
PAGE = REPO / "docs" / "architecture.md"
TRACER = REPO / "bench" / "trace_request.py"
ERAS = ("2025-11-25", "2026-07-28")

# | 12 | `Session.receive_body` | `protocol/session.py` | 11 | what it does |
ROW = re.compile(r"\| *(\d+) *\| *`([^`]+)` *\| *`([^`]+)` *\| *(\d*) *\|(.*)\|")

Step = tuple[str, str, int | None]  # (module's file under src/mcpkit, qualified name, caller)


def walk_rows(era: str) -> list[tuple[Step, str]]:
    """The rows of the table that follows `<!-- walk: era -->` on the page, with what each
    says the step does."""
    text = PAGE.read_text()
    marker = f"<!-- walk: {era} -->"
    assert marker in text, f"docs/architecture.md has no walk marked {marker}"
    rows: list[tuple[Step, str]] = []
    for line in text.split(marker, 1)[1].lstrip("\n").splitlines():
        if not line.startswith("|"):
            break
        match = ROW.fullmatch(line.strip())
        if match is None:  # the header and its rule
            continue
        step, function, module, caller, says = match.groups()
        assert int(step) == len(rows) + 1, f"{era}: step {step} out of order: {line}"
        rows.append(((module, function, int(caller) if caller else None), says.strip()))
    assert rows, f"docs/architecture.md: no rows under {marker}"
    return rows


def walk(era: str) -> list[Step]:
    return [step for step, _ in walk_rows(era)]


def qualified_names(path: Path) -> set[str]:
    """Every function's and class's qualified name in the module at `path`, nested ones too."""

    def codes(code: types.CodeType) -> Iterator[types.CodeType]:
        yield code
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from codes(const)

    return {code.co_qualname for code in codes(compile(path.read_text(), str(path), "exec"))}


@pytest.mark.parametrize("era", ERAS)
def test_every_function_a_walk_names_is_in_the_module_it_gives(era: str) -> None:
    missing = []
    for step, (module, function, caller) in enumerate(walk(era), 1):
        path = SRC / module
        if not path.is_file():
            missing.append(f"step {step}: no module {module}")
        elif function not in qualified_names(path):
            missing.append(f"step {step}: no {function} in {module}")
        if caller is not None and not 0 < caller < step:
            missing.append(f"step {step}: called from step {caller}, not an earlier step")
    assert missing == [], f"docs/architecture.md, the {era} walk: {missing}"


def _tracer() -> tuple[ModuleType, Any]:
    """bench/trace_request.py, and the bench server it serves. The tracer puts bench/ and
    bench/servers/ first on the path; they leave it once both are loaded, so that no other
    test imports a bench script (`workers`, `eras`) for a module of its own."""
    path = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("bench_trace_request", TRACER)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # (dataclasses look their module up)
        spec.loader.exec_module(module)
        return module, importlib.import_module("mcpkit_server_async").server
    finally:
        sys.path[:] = path


def traced(era: str) -> list[Step]:
    """One warm tools/call in `era`, as the tracer sees it: the calls every one of seven
    traced calls makes, in order. What only some make is timing, not the path: a timer of
    the server's that fired meanwhile, or one armed again because it had stopped between two
    calls (a loaded machine's calls are further apart)."""
    tracer, server = _tracer()
    traces = asyncio.run(tracer.trace_call(server.http_app(), era, 50, "httptools", 7))
    common = untimed(traces[0])
    for trace in traces[1:]:
        calls = untimed(trace)
        matcher = difflib.SequenceMatcher(None, common, calls, autojunk=False)
        common = [c for a, _, n in matcher.get_matching_blocks() for c in common[a : a + n]]
    return list(steps(common))


Call = tuple[str, str, int]  # (module, qualified name, depth)


def untimed(trace: Any) -> list[Call]:
    """The trace's calls but those a timer's callback made (the server's housekeeping)."""
    return [
        (module, function, depth)
        for (module, _, function), depth, timed in zip(
            trace.calls, trace.depths, trace.timed, strict=True
        )
        if not timed
    ]


def steps(calls: list[Call]) -> Iterator[Step]:
    """Each call's module file, qualified name and caller: the step it was made within, the
    last one before it a level up (None: from uvicorn or the event loop)."""
    last_at: dict[int, int] = {}  # depth -> the step last entered there
    for step, (module, function, depth) in enumerate(calls, 1):
        last_at[depth] = step
        name = module.removeprefix("mcpkit.").replace(".", "/")
        file = f"{name}/__init__.py" if (SRC / name).is_dir() else f"{name}.py"
        yield file, function, last_at.get(depth - 1) if depth else None


def table(rows: list[Step], said: list[tuple[Step, str]]) -> str:
    """`rows` as the walk's table, each saying what the page's row of the same function said
    (the first such row not yet used): only new steps are left to word."""
    words: dict[tuple[str, str], list[str]] = {}
    for (module, function, _), says in said:
        words.setdefault((module, function), []).append(says)
    lines = []
    for n, (module, function, caller) in enumerate(rows, 1):
        said_before = words.get((module, function))
        says = said_before.pop(0) if said_before else ""
        says = f"{says} " if says else ""
        within = "" if caller is None else f"{caller} "
        lines.append(f"| {n} | `{function}` | `{module}` | {within}| {says}|")
    return "\n".join(lines)


@pytest.mark.parametrize("era", ERAS)
def test_each_walk_is_the_call_the_tracer_traces(era: str) -> None:
    expected = traced(era)
    rows = walk_rows(era)
    if [step for step, _ in rows] != expected:
        pytest.fail(
            f"docs/architecture.md's {era} walk is not the traced call "
            f"(bench/trace_request.py --era {era} --calls); its rows should be:\n"
            + table(expected, rows),
            pytrace=False,
        )
