"""What scripts/downstream compares: each framework's verdicts against the ones committed in
scripts/downstream_expected.json. Pure functions, so tests/test_downstream.py checks them
without installing any framework."""

from __future__ import annotations

from typing import Any

#: A verdict's rank: a check whose rank falls has stopped working; one whose rank rises is new.
RANK = {"fails": 0, "flag dropped": 1, "flag kept": 2, "works": 2}


def flatten(answer: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The probes' answer ({transport: {server: {check: {verdict, detail}}}}) as one check a
    key: "stdio everything call add"."""
    return {
        f"{transport} {server} {check}": found
        for transport, servers in answer.items()
        for server, checks in servers.items()
        for check, found in checks.items()
    }


def why_missing(key: str, got: dict[str, dict[str, str]]) -> str:
    """Why a check has no verdict: its server's connection failed (what it raised), or it was
    not run."""
    transport, server, _ = key.split(" ", 2)
    connect = got.get(f"{transport} {server} connect")
    if connect and connect["verdict"] == "fails":
        return f"not run, the connection failed: {connect['detail']}"
    return "not run"


def compare(
    expected: dict[str, str], got: dict[str, dict[str, str]]
) -> tuple[list[str], list[str]]:
    """(what stopped working, what newly works or is new): one line each, naming the check, the
    verdict expected and the verdict got, with the detail."""
    lost: list[str] = []
    gained: list[str] = []
    for key, want in expected.items():
        found = got.get(key)
        if found is None:
            lost.append(f"{key}: was {want}, now {why_missing(key, got)}")
        elif RANK[found["verdict"]] < RANK[want]:
            lost.append(f"{key}: was {want}, now {found['verdict']} ({found['detail']})")
        elif RANK[found["verdict"]] > RANK[want]:
            gained.append(f"{key}: was {want}, now {found['verdict']}")
    for key, found in got.items():
        if key not in expected:
            gained.append(f"{key}: new, {found['verdict']}")
    return lost, gained


def verdicts(got: dict[str, dict[str, str]]) -> dict[str, str]:
    """The verdicts alone, as the expected-results file keeps them."""
    return {key: found["verdict"] for key, found in sorted(got.items())}
