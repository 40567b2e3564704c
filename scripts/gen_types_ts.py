"""Read a revision's schema.ts for what schema.json lost: where a TypeScript `number` became
JSON Schema `integer`.

schema.json is generated from schema.ts by typescript-json-schema with
`--defaultNumberType integer` (the 2026-07-28 changelog, "Other schema changes"), so every
`number` without a `@TJS-type number` tag reads as `integer` there: `ElicitResult.content`
refuses 1.5 in schema.json, while schema.ts, the source, and the official SDKs take any number.
schema.ts is the authority: `integer_disagreements` finds each such node (by its path in
schema.json, looked up in schema.ts) and `widen` makes it a `number` before the model is built,
except the few that KEPT_INTEGER and KEPT_KEYWORDS list with the normative text that wants an
integer.

The TypeScript read is deliberately small: interfaces (with `extends`), type aliases, object
literal types, index signatures, arrays, unions and intersections; an integer node whose
declaration it cannot find stops the generator with its path, so a new construct in a future
schema.ts is noticed rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KEPT_INTEGER",
    "KEPT_KEYWORDS",
    "Disagreement",
    "TsSource",
    "integer_disagreements",
    "widen",
]

Schema = dict[str, Any]
_DECL = re.compile(r"^export (interface|type) (\w+)\b", re.M)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_UTILITIES = frozenset({"Omit", "Pick", "Partial", "Required", "Readonly", "Record"})
_JSONRPC = "JSON-RPC 2.0 (which basic/index makes the wire format)"
# Where schema.json's `integer` stays: a normative text the spec builds on asks for an integer.
KEPT_INTEGER = {
    "Error.code": f"{_JSONRPC} §5.1: the code MUST be an integer",
    "JSONRPCError.error.code": f"{_JSONRPC} §5.1: the code MUST be an integer",
    "RequestId": f"{_JSONRPC} §4: an id's number SHOULD NOT have a fraction; both SDKs take whole"
    " numbers",
    "ProgressToken": "a token is echoed like a request id (JSON-RPC 2.0 §4); both SDKs take"
    " whole numbers",
}
# Keywords of the JSON Schema an elicitation form is written in: kept integer wherever they are.
KEPT_KEYWORDS = {
    keyword: f"JSON Schema 2020-12 Validation §{section}: `{keyword}` MUST be a non-negative"
    " integer"
    for keyword, section in [
        ("maxLength", "6.3.1"),
        ("minLength", "6.3.2"),
        ("maxItems", "6.4.1"),
        ("minItems", "6.4.2"),
    ]
}


@dataclass(frozen=True)
class Disagreement:
    """A node schema.json types `integer` where schema.ts declares `number`."""

    path: str  # Def.property.sub (schema.json's structure, `properties` left out)
    ts_type: str  # the declaration in schema.ts, whitespace collapsed

    @property
    def kept(self) -> str | None:
        """Why mcpkit keeps `integer` here, or None: it follows schema.ts (`number`)."""
        return KEPT_INTEGER.get(self.path) or KEPT_KEYWORDS.get(self.path.rsplit(".", 1)[-1])


def _closing(text: str, start: int) -> int:
    """The index just past the bracket that closes the one at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += (text[i] in "{(<[") - (text[i] in "})>]")
        if depth == 0:
            return i + 1
    raise SystemExit(f"schema.ts: unbalanced bracket at offset {start}")


def _split(text: str, seps: str) -> list[str]:
    """`text` split at the separators outside brackets."""
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "{(<[") - (ch in "})>]")
        if depth == 0 and ch in seps:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


def _members(body: str) -> dict[str, str]:
    """Property name (or `[]` for an index signature) -> its type text, of `{ ... }`'s body."""
    out: dict[str, str] = {}
    for member in _split(body, ";,"):
        if m := re.match(r"^\[\s*\w+\s*:\s*string\s*\]\s*:\s*(.+)$", member, re.S):
            out["[]"] = m.group(1)
        elif m := re.match(r"^(?:readonly\s+)?([\w$]+)\??\s*:\s*(.+)$", member, re.S):
            out[m.group(1)] = m.group(2)
    return out


class TsSource:
    """The declarations of one schema.ts: interfaces' members and type aliases' text."""

    def __init__(self, text: str) -> None:
        self.interfaces: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.aliases: dict[str, str] = {}
        code = _COMMENT.sub("", text)
        for m in _DECL.finditer(code):
            self._declare(code, m)

    def _declare(self, text: str, m: re.Match[str]) -> None:
        kind, name = m.group(1), m.group(2)
        if kind == "type":
            start = text.index("=", m.end()) + 1
            end = start
            while text[end] != ";":
                end = _closing(text, end) if text[end] in "{(<[" else end + 1
            self.aliases[name] = " ".join(text[start:end].split())
            return
        brace = m.end()
        while text[brace] != "{":
            brace = _closing(text, brace) if text[brace] in "(<[" else brace + 1
        bases = re.findall(r"\b([A-Z]\w*)\b", text[m.end() : brace])
        body = text[brace + 1 : _closing(text, brace) - 1]
        self.interfaces[name] = ([b for b in bases if b not in _UTILITIES], _members(body))

    def member(self, type_text: str, name: str) -> str | None:
        """The type of property `name` (`[]`: the index signature) of a type's text."""
        for part in reversed(_split(type_text, "&|")):  # a later part of `A & {...}` narrows
            part = part.strip("() ")
            if part.startswith("{"):
                found = _members(part[1 : _closing(part, 0) - 1]).get(name)
            else:
                found = self.interface_member(part, name)
            if found is not None:
                return found
        return None

    def interface_member(self, interface: str, name: str) -> str | None:
        if interface in self.aliases:
            return self.member(self.aliases[interface], name)
        bases, members = self.interfaces.get(interface, ([], {}))
        if name in members:
            return members[name]
        return next((t for b in bases if (t := self.interface_member(b, name))), None)

    def declaration(self, name: str) -> str | None:
        return self.aliases.get(name) or (name if name in self.interfaces else None)


def _element(type_text: str) -> str | None:
    arrays = [p for p in _split(type_text, "|") if p.endswith("[]") or p.startswith("Array<")]
    if not arrays:
        return None
    a = arrays[0]
    return a[:-2].strip("() ") if a.endswith("[]") else a[len("Array<") : -1]


def _is_number(type_text: str) -> bool:
    return "number" in _split(type_text, "|")


def _walk(node: Any, path: list[str], ts: TsSource, ts_type: str | None, out: list[Any]) -> None:
    """Collect (path, TS type, node) of each plain `integer` node below `node`."""
    if not isinstance(node, dict):
        return
    kinds = node.get("type")
    integer = kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)
    if integer and "const" not in node and "enum" not in node:
        out.append((".".join(path), ts_type, node))
    for key, value in node.items():
        if key == "properties":
            for prop, sub in value.items():
                found = ts.member(ts_type, prop) if ts_type else None
                _walk(sub, [*path, prop], ts, found, out)
        elif key in ("additionalProperties", "items"):
            found = ts.member(ts_type, "[]") if key[0] == "a" and ts_type else None
            found = _element(ts_type) if key == "items" and ts_type else found
            _walk(value, [*path, key], ts, found, out)
        elif key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(value):
                _walk(sub, [*path, f"{key}[{i}]"], ts, ts_type, out)


def integer_disagreements(
    defs: dict[str, Schema], ts: TsSource
) -> list[tuple[Disagreement, Schema]]:
    """Each plain `integer` node of schema.json that schema.ts declares `number`, with the node.

    Raises SystemExit naming the node when schema.ts has no declaration for it.
    """
    found: list[tuple[str, str | None, Schema]] = []
    for name, schema in defs.items():
        _walk(schema, [name], ts, ts.declaration(name), found)
    out: list[tuple[Disagreement, Schema]] = []
    for path, ts_type, node in found:
        if ts_type is None:
            raise SystemExit(f"schema.ts has no declaration for schema.json's {path}")
        ts_type = " ".join(ts_type.split()).removeprefix("| ")  # a union may open with `|`
        if _is_number(ts_type):
            out.append((Disagreement(path, ts_type), node))
        elif not re.fullmatch(r"-?\d+|typeof \w+", ts_type):
            raise SystemExit(f"schema.json's {path} is integer, schema.ts says {ts_type!r}")
    return out


def widen(node: Schema) -> None:
    """Make an `integer` node a `number` node, as schema.ts declares it."""
    kinds = node["type"]
    node["type"] = (
        "number" if kinds == "integer" else [("number" if k == "integer" else k) for k in kinds]
    )
