"""bench/one_cpu.py's harness works: mcpkit's mix server, pinned with taskset, answers a short
load of both shapes with every answer checked, and the table renders. Nothing here is a speed
claim: the figures need only exist."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"

pytestmark = pytest.mark.skipif(
    shutil.which("taskset") is None, reason="one_cpu pins with taskset (util-linux)"
)


def _one_cpu(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # one_cpu imports its neighbours by name
    return importlib.import_module("one_cpu")


def test_a_short_run_of_both_shapes_counts_requests_and_no_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one_cpu = _one_cpu(monkeypatch)
    # The servers and the load generator run with this interpreter and this checkout's source
    # (no bench venvs to create); h11 and asyncio need nothing beyond mcpkit[http].
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    cpus = sorted(os.sched_getaffinity(0))
    pins = ["--server-cpu", str(cpus[0]), "--loadgen-cpu", str(cpus[-1])]
    load = ["--only", "mcpkit/h11", "--users", "5", "--duration", "2.5", "--warmup", "0.5", *pins]
    # Each shape with its own deadline. A k6 iteration (20 requests in turn and a pause,
    # through a server given a slice of one core) needs no short one, and on a loaded machine
    # took over 1.5 s: it keeps the harness's default, a bound on a hang. The session shape's
    # must stay inside its 3 s window, so that a session outliving it shows that it is not
    # counted as an error: as late in the window as that allows.
    results: dict[str, list[dict[str, Any]]] = {}
    for shape, deadline in (("k6", []), ("session", ["--within", "2.5"])):
        shaped = one_cpu.parse_args([*load, "--shapes", shape, *deadline])
        results |= one_cpu.run({"http": sys.executable}, shaped)
    args = one_cpu.parse_args([*load, "--shapes", "k6", "session"])  # the table's rows

    assert set(results) == {"k6:mcpkit/h11", "session:mcpkit/h11"}
    for key, [result] in results.items():
        assert result["requests_per_s"] > 0, key
        assert result["calls_per_s"] > 0 and result["requests_per_cpu_s"] > 0, key
        assert result["errors"] == 0, (key, result["first_error"])
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"], key
    # The k6 shape: per tool call, initialize, initialized, the call and DELETE, then a
    # tools/list session: 20 requests for 4 calls (a window cuts iterations at its edges); one
    # session per user: the calls, and the handshakes that fell in the window.
    k6, session = results["k6:mcpkit/h11"][0], results["session:mcpkit/h11"][0]
    assert 3 < k6["requests_per_s"] / k6["calls_per_s"] < 8
    assert session["calls_per_s"] <= session["requests_per_s"] < 2 * session["calls_per_s"]
    rows = one_cpu.table(results, args).splitlines()
    assert len(rows) == 4 and all("mcpkit, uvicorn h11 + asyncio" in row for row in rows[2:])
    assert "x |" in rows[2] and "(other shape)" in rows[3]
