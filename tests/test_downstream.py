"""scripts/downstream's comparison (scripts/downstream_compare.py): a framework's run that lost
a check that worked fails, naming it; a check that newly works or is new is reported, not a
failure. No framework is installed here; .ci/run runs the script itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from downstream_compare import RANK, compare, flatten, verdicts  # noqa: E402  (scripts/ above)


def answer(**checks: tuple[str, str]) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """A probes' answer for one server over stdio: check name -> (verdict, detail)."""
    found = {name.replace("_", " "): {"verdict": v, "detail": d} for name, (v, d) in checks.items()}
    return {"stdio": {"everything": found}}


WORKING = answer(
    connect=("works", "add, divide"),
    convert_add=("works", '{"type": "object"}'),
    call_add=("works", "ok: 5"),
    call_divide=("flag kept", "flagged: b must not be zero"),
)


def test_the_same_verdicts_pass() -> None:
    got = flatten(WORKING)
    assert compare(verdicts(got), got) == ([], [])


def test_a_conversion_that_stopped_working_fails_and_says_what_it_got() -> None:
    expected = verdicts(flatten(WORKING))
    broken = answer(
        connect=("works", "add, divide"),
        convert_add=("fails", "making it raises RecursionError"),
        call_add=("works", "ok: 5"),
        call_divide=("flag kept", "flagged: b must not be zero"),
    )
    lost, gained = compare(expected, flatten(broken))
    assert lost == [
        "stdio everything convert add: was works, now fails (making it raises RecursionError)"
    ]
    assert gained == []


def test_a_dropped_error_flag_is_a_loss() -> None:
    expected = verdicts(flatten(WORKING))
    dropped = json.loads(json.dumps(WORKING))
    dropped["stdio"]["everything"]["call divide"] = {"verdict": "flag dropped", "detail": "ok: b"}
    lost, _ = compare(expected, flatten(dropped))
    assert lost == ["stdio everything call divide: was flag kept, now flag dropped (ok: b)"]


def test_a_failed_connection_names_its_error_for_every_check_it_cost() -> None:
    expected = verdicts(flatten(WORKING))
    lost, _ = compare(expected, flatten(answer(connect=("fails", "RecursionError: deep"))))
    assert "stdio everything connect: was works, now fails (RecursionError: deep)" in lost
    assert (
        "stdio everything call add: was works, now not run, the connection failed: "
        "RecursionError: deep" in lost
    )
    assert len(lost) == 4


def test_what_newly_works_is_reported_not_failed() -> None:
    expected = verdicts(flatten(answer(connect=("fails", "RecursionError"))))
    lost, gained = compare(expected, flatten(WORKING))
    assert lost == []
    assert "stdio everything connect: was fails, now works" in gained
    assert "stdio everything call divide: new, flag kept" in gained
    assert len(gained) == 4


def test_every_verdict_the_probes_give_has_a_rank() -> None:
    assert set(RANK) == {"works", "fails", "flag kept", "flag dropped"}
    assert RANK["fails"] < RANK["flag dropped"] < RANK["flag kept"] == RANK["works"]


def test_the_expected_file_holds_only_known_verdicts_for_every_locked_framework() -> None:
    expected = json.loads((REPO / "scripts" / "downstream_expected.json").read_text())
    locked = {path.stem for path in (REPO / "scripts" / "downstream_locks").glob("*.txt")}
    assert set(expected) == locked
    for checks in expected.values():
        assert checks and set(checks.values()) <= set(RANK)


def test_a_failed_install_is_one_failing_line(capsys: pytest.CaptureFixture[str]) -> None:
    from downstream import report

    failed = {
        "failed": "install failed: openai-agents's lock: pip exited 1: No matching distribution"
    }
    assert report("openai-agents", failed, {"stdio everything connect": "works"}) is False
    assert capsys.readouterr().out == (
        "FAIL openai-agents: install failed: openai-agents's lock: pip exited 1: "
        "No matching distribution\n"
    )


def test_a_run_with_only_new_checks_passes_and_says_how_to_record_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from downstream import report

    assert report("pydantic-ai", {"checks": flatten(WORKING)}, {}) is True
    out = capsys.readouterr().out
    assert "NEW  pydantic-ai: stdio everything call add: new, works" in out
    assert "scripts/downstream --only pydantic-ai --update records it" in out
