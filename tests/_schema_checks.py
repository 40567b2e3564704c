"""What every schema a server advertises must be: a JSON Schema 2020-12 document whose every
`$ref` points at a definition it holds, none of them only a reference to itself (clients
that resolve references themselves fail on anything less, or guess an empty object)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import jsonschema_rs

__all__ = ["run_in_a_fresh_interpreter", "schema_problems"]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _refs(node: object) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            mapping = cast("dict[str, Any]", item)
            ref = mapping.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(mapping.values())
        elif isinstance(item, list):
            stack.extend(cast("list[Any]", item))
    return found


def _only_references(name: str, defs: dict[str, Any]) -> bool:
    """Whether following `name`'s lone `$ref`s never reaches a real definition."""
    seen: set[str] = set()
    while name not in seen:
        seen.add(name)
        body = defs.get(name)
        if not isinstance(body, dict) or set(cast("dict[str, Any]", body)) != {"$ref"}:
            return False
        name = str(body["$ref"]).removeprefix("#/$defs/")
    return True


def schema_problems(schema: dict[str, Any]) -> list[str]:
    """What is wrong with `schema`, in words; empty when it is sound."""
    problems: list[str] = []
    try:
        jsonschema_rs.meta.validate({"$schema": DRAFT_2020_12, **schema})
    except jsonschema_rs.ValidationError as exc:
        problems.append(f"not a JSON Schema 2020-12 document: {exc}")
    defs: dict[str, Any] = schema.get("$defs", {})
    for ref in _refs(schema):
        name = ref.removeprefix("#/$defs/")
        if ref != "#" and (name == ref or name not in defs):
            problems.append(f"$ref {ref!r} points at no definition")
    problems += [f"$defs.{n} only refers to itself" for n in defs if _only_references(n, defs)]
    if not problems:
        try:
            jsonschema_rs.Draft202012Validator(schema)
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
            problems.append(f"no validator compiles from it: {exc}")
    return problems


def run_in_a_fresh_interpreter(code: str) -> None:
    """Run `code` in a new Python with only mcpkit's source on its path (nothing this test
    process imported is loaded there), and fail with its stderr unless it exits 0."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": src},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
