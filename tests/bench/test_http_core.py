"""`bench/run --only core` measures issue 65's `def` tool target as it measures the `async def`
one: mcpkit's server with `def` tools, in a worker thread and on the loop, in both eras on
uvicorn httptools, each era against a parsing floor fed its own body; and the report names
each kind's multiple of that floor against its bound. Nothing is timed here: the variants,
the steps, the servers' setting and the report are checked on made-up figures."""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from mcpkit import Client, Server

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
SERVERS = BENCH / "servers"

KINDS = ("mcpkit_async", "mcpkit", "mcpkit_on_loop")
ERAS = {"": "2025-11-25", "-2026": "2026-07-28"}
FLOORS = {"2025-11-25": "floor-json/httptools", "2026-07-28": "floor-json/httptools-2026"}


def _bench(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # the bench modules import each other by name
    monkeypatch.syspath_prepend(str(SERVERS))
    return importlib.import_module(name)


# ------------------------------------------------------------------------ the variants, the steps


def test_each_tool_kind_is_in_the_core_run_in_both_eras_on_httptools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _bench(monkeypatch, "http_bench")
    for app in KINDS:
        for suffix, era in ERAS.items():
            key = f"{app}/httptools{suffix}"
            assert key in bench.CORE_VARIANTS, key
            variant = bench.BY_KEY[key]
            assert (variant.app, variant.era, variant.python) == (app, era, "http")
            assert (variant.server, variant.loop) == ("uvicorn-httptools", "uvloop")
            assert variant.runs_mcpkit and not variant.floor
    for era, key in FLOORS.items():
        assert key in bench.CORE_VARIANTS
        floor = bench.BY_KEY[key]
        assert (floor.app, floor.era, floor.floor) == ("floor_json", era, True)
        assert (floor.server, floor.loop) == ("uvicorn-httptools", "uvloop")


def test_the_core_steps_answer_both_ways_and_the_floors_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _bench(monkeypatch, "http_bench")
    pythons = {"http": "python-http", "official": "python-official", "node": "node"}
    args = argparse.Namespace(http_sessions=16, duration=1.0, http_warmup=1.0, idle_sessions=10)
    keys = [key for key, _ in bench.http_steps(pythons, {}, args, core=True)]

    assert len(keys) == len(set(keys))
    for app in KINDS:
        for suffix in ERAS:
            for answers in ("sse", "json"):
                assert f"http:{app}/httptools{suffix}:{answers}" in keys
    for key in FLOORS.values():
        assert f"http:{key}:json" in keys and f"http:{key}:sse" not in keys
    # Nothing outside the core run: no h11, granian or asyncio rows.
    assert not any("/h11" in k or "granian" in k or "asyncio" in k for k in keys[:-1])


def test_the_on_loop_server_is_served_as_the_other_mcpkit_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _bench(monkeypatch, "http_bench")
    pythons = {"http": "python-http"}
    on_loop = bench.BY_KEY["mcpkit_on_loop/httptools-2026"]
    threaded = bench.BY_KEY["mcpkit/httptools-2026"]
    a = bench.server_command(on_loop, "json", 9000, pythons, None)
    b = bench.server_command(threaded, "json", 9000, pythons, None)
    assert a[a.index("--app") + 1] == "mcpkit_on_loop"
    # The same command otherwise: the same server, loop and answers.
    assert [x for x in a if x != "mcpkit_on_loop"] == [x for x in b if x != "mcpkit"]


# ------------------------------------------------------------------------------ the servers


@pytest.fixture
def http_serve(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/servers/http_serve.py, with the bench servers it imports forgotten afterwards
    (each is one module-level `Server`, and `build_app` changes the `def` one's setting)."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # build_app puts servers/ on it
    for name in ("mcpkit_server", "mcpkit_server_async"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return _bench(monkeypatch, "http_serve")


def test_the_on_loop_app_is_the_def_server_with_its_tools_on_the_loop(
    http_serve: ModuleType,
) -> None:
    http_serve.build_app("mcpkit", "json")
    server = sys.modules["mcpkit_server"].server
    assert server.sync_in_thread is True  # the `def` server as it is: its tools in a thread

    http_serve.build_app("mcpkit_on_loop", "json")
    assert sys.modules["mcpkit_server"].server is server  # the same server, not a copy
    assert server.sync_in_thread is False


async def test_on_loop_runs_a_def_tool_in_the_loops_thread(http_serve: ModuleType) -> None:
    server = Server("where")

    @server.tool()
    def where() -> str:
        return threading.current_thread().name

    async with Client(server) as client:
        assert (await client.call_tool("where")).text.startswith("mcpkit-worker")
    http_serve.on_loop(server)
    async with Client(server) as client:
        assert (await client.call_tool("where")).text == threading.current_thread().name


def test_on_loop_refuses_a_server_without_the_option(http_serve: ModuleType) -> None:
    # `bench/run --against` an older tree: it would measure the thread under the loop's name.
    with pytest.raises(SystemExit, match="sync_in_thread"):
        http_serve.on_loop(object())


# ------------------------------------------------------------------------------ the report

# Server CPU per call (us) of each core variant, JSON and SSE alike; every other figure 1,000.
CPU = {
    "floor-json/httptools": 50.0,
    "floor-json/httptools-2026": 40.0,
    "mcpkit_async/httptools": 60.0,  # 1.20x, no bound in 2025
    "mcpkit_async/httptools-2026": 44.0,  # 1.10x, <= 1.5 met
    "mcpkit/httptools": 70.0,  # 1.40x NOT met
    "mcpkit/httptools-2026": 58.8,  # 1.47x NOT met
    "mcpkit_on_loop/httptools": 62.5,  # 1.25x met (the bound is inclusive)
    "mcpkit_on_loop/httptools-2026": 46.0,  # 1.15x met
}


Samples = dict[str, dict[str, list[float]]]


def _samples(monkeypatch: pytest.MonkeyPatch, leave_out: tuple[str, ...] = ()) -> Samples:
    bench = _bench(monkeypatch, "http_bench")
    samples: Samples = {}
    for key in bench.CORE_VARIANTS:
        if key in leave_out:
            continue
        for answers in ("sse", "json"):
            figures = {"http_rps": [1000.0], "http_p50_us": [300.0], "http_p99_us": [900.0]}
            samples[f"http:{key}:{answers}"] = {
                **figures,
                "http_cpu_us": [CPU.get(key, 30.0)],
                "http_loadgen_cpu_us": [10.0],
            }
    samples["http:mcpkit_async/h11:idle"] = {"idle_kib": [3.5], "idle_rss_before_kib": [1e5]}
    return samples


def test_the_bounds_of_each_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _bench(monkeypatch, "http_report")
    for app in ("mcpkit", "mcpkit_on_loop"):
        assert report.kind_bound(app, "2025-11-25") == report.kind_bound(app, "2026-07-28") == 1.25
    assert report.kind_bound("mcpkit_async", "2026-07-28") == 1.5
    assert report.kind_bound("mcpkit_async", "2025-11-25") is None


def test_the_kinds_table_names_what_is_met(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _bench(monkeypatch, "http_report")
    rows = report.kinds_table(_samples(monkeypatch)).splitlines()

    assert rows[0] == (
        "| era | answers | parsing floor, CPU per call (us) | `async def` "
        "| `def`, in a worker thread | `def`, `sync_in_thread=False` |"
    )
    assert rows[2:] == [
        "| 2025-11-25 session | sse | 50.0 | 60.0: 1.20x | 70.0: 1.40x (<= 1.25: NOT met) "
        "| 62.5: 1.25x (<= 1.25: met) |",
        "| 2025-11-25 session | json | 50.0 | 60.0: 1.20x | 70.0: 1.40x (<= 1.25: NOT met) "
        "| 62.5: 1.25x (<= 1.25: met) |",
        "| 2026-07-28, no session | sse | 40.0 | 44.0: 1.10x (<= 1.5: met) "
        "| 58.8: 1.47x (<= 1.25: NOT met) | 46.0: 1.15x (<= 1.25: met) |",
        "| 2026-07-28, no session | json | 40.0 | 44.0: 1.10x (<= 1.5: met) "
        "| 58.8: 1.47x (<= 1.25: NOT met) | 46.0: 1.15x (<= 1.25: met) |",
    ]


def test_a_kind_not_measured_leaves_its_cells_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _bench(monkeypatch, "http_report")
    gone = ("mcpkit_on_loop/httptools", "mcpkit_on_loop/httptools-2026", "floor-json/httptools")
    rows = report.kinds_table(_samples(monkeypatch, gone)).splitlines()
    # No 2025 floor: each 2025 figure without its multiple; no on-loop server: empty cells.
    assert rows[2] == "| 2025-11-25 session | sse |  | 60.0 | 70.0 |  |"
    assert rows[4].endswith("| 58.8: 1.47x (<= 1.25: NOT met) |  |")
    assert report.kinds_table({}).count("\n") == 1  # the heading alone


def test_the_core_report_keeps_its_lines_and_adds_the_kinds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _bench(monkeypatch, "http_report")
    text = report.core_report(_samples(monkeypatch), "# head", 16)

    assert "- json: mcpkit's server CPU per 2026-07-28 call / the parsing floor's: 1.10 " in text
    assert "(<= 1.5: met)" in text and "| json | 2025-11-25 sessions |" in text
    assert "an idle 2025-11-25 session" in text
    kinds = text.index("Each kind of tool against the parsing floor of its era")
    assert text.index("- the parsing floor (") < kinds < text.index("The rows they are read from")
    assert "| mcpkit `def`, `sync_in_thread=False`, uvicorn httptools, 2026-07-28 client |" in text
    # Nothing measured for the kinds: no heading without its table.
    empty = report.core_report({}, "# head", 16)
    assert "Each kind of tool" not in empty and "The rows they are read from" in empty


def test_the_core_figures_hold_each_kind_once(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _bench(monkeypatch, "http_report")
    figures = dict(report.core_figures(_samples(monkeypatch)))

    assert len(figures) == len(report.core_figures({}))  # every label is distinct
    thread = "`def`, in a worker thread"
    assert figures[f"json, 2025-11-25 session, {thread}: server CPU per call (us)"] == 70.0
    multiple = figures[f"sse, 2026-07-28, no session, {thread}: CPU per call / the parsing floor's"]
    assert multiple == pytest.approx(1.47)
    on_loop = "`def`, `sync_in_thread=False`"
    label = f"json, 2025-11-25 session, {on_loop}: CPU per call / the parsing floor's"
    assert figures[label] == pytest.approx(1.25)
    assert figures["json: CPU per 2026 call / the parsing floor's"] == pytest.approx(1.10)
    # The async 2026 multiple is the line it always was, not a second one.
    assert not any("`async def`" in k and "2026-07-28" in k for k in figures)


def test_against_a_tree_without_the_option_the_on_loop_figures_are_blank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _bench(monkeypatch, "http_report")
    ours = _samples(monkeypatch)
    theirs = _samples(monkeypatch, ("mcpkit_on_loop/httptools", "mcpkit_on_loop/httptools-2026"))
    rows = report.compare_report(ours, theirs, "old").splitlines()

    [row] = [r for r in rows if "json, 2025-11-25 session, `def`, `sync_in_thread=False`: CPU" in r]
    assert row.endswith("| 1.25 |  |  |")
    [row] = [r for r in rows if "json, 2025-11-25 session, `def`, in a worker thread: CPU" in r]
    assert row.endswith("| 1.40 | 1.40 | +0.0%, within 5% |")
