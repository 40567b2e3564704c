"""Check the committed mcpkit.types against the spec's own schema: what `gen_types.py --check`
adds to the byte comparison, since the test suite has no spec to read (a clone holds none).

Every method of every revision is in the method table with the right kind, direction and
result type; samples of every request, notification and result (generated from schema.json,
with each union member reached) decode with the revision's types and with mcpkit.types; each
result type is the one schema.ts files under its method; and mcpkit.types exports every
`$defs` name.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

__all__ = ["check_against_spec", "sample"]

ROLE_UNIONS = ("ClientRequest", "ServerRequest", "ClientNotification", "ServerNotification")
CHOICES = range(8)  # anyOf alternative picked by a sample; 8 covers the widest union


def sample(
    schema: dict[str, Any],
    defs: dict[str, Any],
    choice: int,
    full: bool,
    path: tuple[str, ...] = (),
) -> Any:
    """A JSON value valid for `schema`: only required members, or every one when `full`.

    `choice` picks the alternative of each anyOf, so samples over CHOICES reach every
    union member that a field allows. A definition met again inside itself (2026-07-28's
    JSONValue, an object or array of JSONValues) is a string there, which it allows.
    """
    if "$ref" in schema:
        return _sample_ref(schema["$ref"].rsplit("/", 1)[1], defs, choice, full, path)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(sample(part, defs, choice, full, path))
        return merged
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return sample(alternatives[choice % len(alternatives)], defs, choice, full, path)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][choice % len(schema["enum"])]
    kind: Any = schema.get("type")
    if isinstance(kind, list):
        kind = kind[choice % len(kind)]
    if kind == "object" or "properties" in schema:
        return _sample_object(schema, defs, choice, full, path)
    if kind == "array":
        items = schema.get("items", {})
        return [sample(items, defs, choice, full, path)] if full or schema.get("minItems") else []
    return _sample_scalar(kind, schema.get("format"))


def _sample_ref(
    name: str, defs: dict[str, Any], choice: int, full: bool, path: tuple[str, ...]
) -> Any:
    return "text" if name in path else sample(defs[name], defs, choice, full, (*path, name))


def _sample_object(
    schema: dict[str, Any], defs: dict[str, Any], choice: int, full: bool, path: tuple[str, ...]
) -> Any:
    props = schema.get("properties", {})
    required = schema.get("required", [])
    out = {
        k: sample(v, defs, choice, full, path) for k, v in props.items() if full or k in required
    }
    extra = schema.get("additionalProperties")
    if full and not props and isinstance(extra, dict) and extra:
        out["extra"] = sample(extra, defs, choice, full, path)
    elif full and extra is not False:
        out["unknownField"] = {"kept": "nowhere"}  # unknown members must be ignored
    return out


def _sample_scalar(kind: str | None, fmt: str | None) -> Any:
    if kind == "string":
        return {"uri": "https://example.com/a", "byte": "aGk=", "uri-template": "x://{id}"}.get(
            fmt or "", "text"
        )
    return {"integer": 1, "number": 0.5, "boolean": True, "null": None}.get(
        kind or "", {"any": [1, "json"]}
    )


def _decode(data: Any, tp: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=tp)


class _Revision:
    """One revision's schema.json `$defs` (widened as the generator reads them) and types."""

    def __init__(self, revision: str, defs: dict[str, Any]) -> None:
        self.revision = revision
        self.defs = defs
        self.module: ModuleType = importlib.import_module(
            "mcpkit.types._gen_" + revision.replace("-", "_")
        )
        methods = importlib.import_module("mcpkit.types.methods")
        self.table = methods.methods_for(revision)
        #: The types this revision's messages decode with: mcpkit.types for the 2025 era, its
        #: own module for a revision that changed shapes (2026-07-28).
        decoded_with = methods.DECODED_WITH[revision]
        self.decoded_with: ModuleType = (
            importlib.import_module("mcpkit.types")
            if decoded_with == methods.LATEST_REVISION
            else importlib.import_module("mcpkit.types._gen_" + decoded_with.replace("-", "_"))
        )

    def members(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(role union, definition name, definition) of every request and notification."""
        refs = [
            (role, ref["$ref"].rsplit("/", 1)[1])
            for role in ROLE_UNIONS
            for ref in self.defs.get(role, {}).get("anyOf", [])
        ]
        return [(role, name, self.defs[name]) for role, name in refs]

    def result_name(self, request: str) -> str:
        name = request.removesuffix("Request") + "Result"
        return name if name in self.defs else "EmptyResult"


def _table_problems(rev: _Revision, types: ModuleType) -> list[str]:
    members = rev.members()
    methods = {d["properties"]["method"]["const"] for _, _, d in members}
    problems = [f"{rev.revision}: method table differs from the schema's methods"] * (
        set(rev.table) != methods
    )
    for role, name, definition in members:
        info = rev.table.get(definition["properties"]["method"]["const"])
        kind = "request" if role.endswith("Request") else "notification"
        direction = "client_to_server" if role.startswith("Client") else "server_to_client"
        result = getattr(rev.decoded_with, rev.result_name(name)) if kind == "request" else None
        # (A revision's table holds only its own methods: `set(rev.table) != methods` above.)
        if (
            info is None
            or (info.kind, info.result) != (kind, result)
            or (direction not in info.direction)
        ):
            problems.append(f"{rev.revision}: {name}'s entry in the method table is wrong")
    return problems


def _decode_problems(rev: _Revision) -> list[str]:
    problems: list[str] = []
    for role, name, definition in rev.members():
        info = rev.table[definition["properties"]["method"]["const"]]
        result = rev.result_name(name) if info.result is not None else None
        for choice in CHOICES:
            for full in (False, True):
                what = f"a {'full' if full else 'minimal'} sample (union choice {choice})"
                message = sample(definition, rev.defs, choice, full)
                try:
                    decoded = _decode(message, getattr(rev.module, role))
                    _decode(message.get("params", {}), info.params)
                except msgspec.ValidationError as exc:
                    problems.append(f"{rev.revision}: {name}, {what}: {exc}")
                    continue
                if type(decoded) is not getattr(rev.module, name):
                    problems.append(f"{rev.revision}: {name}, {what}, decodes as another type")
                if result is None:
                    continue
                ref = "Result" if result == "EmptyResult" else result
                data = sample({"$ref": f"#/x/{ref}"}, rev.defs, choice, full)
                try:
                    _decode(data, info.result)
                    _decode(data, getattr(rev.module, result))
                except msgspec.ValidationError as exc:
                    problems.append(f"{rev.revision}: {result}, {what}: {exc}")
    return problems


def _category_problems(schema_dir: Path, latest: str, types: ModuleType) -> list[str]:
    """Each result type is the one schema.ts files under the method; none means EmptyResult."""
    source = (schema_dir / latest / "schema.ts").read_text(encoding="utf-8")
    pattern = r"@category `([^`]+)`\s*\*/\s*export (?:interface|type) (\w+Result)\b"
    results = {name: method for method, name in re.findall(pattern, source)}
    table = importlib.import_module("mcpkit.types.methods").METHODS
    problems: list[str] = []
    for info in table.values():
        if info.kind == "notification":
            continue
        filed = [name for name, method in results.items() if method == info.method]
        expected = "EmptyResult" if not filed else filed[0]
        if getattr(types, expected) is not info.result or len(filed) > 1:
            problems.append(f"{info.method}: schema.ts files its result as {filed or expected}")
    return problems


def check_against_spec(schema_dir: Path, defs_of: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with the committed mcpkit.types against the spec, one line each."""
    types = importlib.import_module("mcpkit.types")
    latest = importlib.import_module("mcpkit.types.methods").LATEST_REVISION
    problems: list[str] = []
    missing = sorted(set(defs_of[latest]) - set(types.__all__))
    if missing:
        problems.append(f"mcpkit.types lacks $defs names: {missing}")
    for revision, defs in defs_of.items():
        rev = _Revision(revision, json.loads(json.dumps(defs)))
        problems += _table_problems(rev, types) + _decode_problems(rev)
    return problems + _category_problems(schema_dir, latest, types)
