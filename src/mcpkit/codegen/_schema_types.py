"""JSON Schemas as Python type expressions, and the definitions those need: a `TypedDict` per
object with properties, a `Literal` alias per enum. What Python's types cannot say (a schema
that allows anything, a cycle of plain references, a remote `$ref`, an enum of floats) becomes a
wider type (`Any`, `float`), never a narrower one that would refuse a value the schema allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from mcpkit.codegen._names import Scope, class_name
from mcpkit.codegen._source import string_literal

__all__ = ["Alias", "Field", "Record", "Types", "json_list", "json_object", "union"]

#: Deeper than this, a nested schema is typed `Any` (a recursive one goes through `$ref`).
MAX_DEPTH = 24
#: An enum of more values is typed by its values' types (`str`): a `Literal` that long helps
#: no reader, and slows type checkers.
MAX_ENUM = 256

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


@dataclass
class Field:
    """One key of a TypedDict: its JSON name, its type expression and whether it is required."""

    key: str
    type: str
    required: bool
    doc: str = ""


@dataclass
class Record:
    """A TypedDict to define."""

    name: str
    doc: str
    fields: list[Field] = field(default_factory=list[Field])


@dataclass
class Alias:
    """A `Literal[...]` type alias to define, of these values' literals (so it never refers
    to a name defined later)."""

    name: str
    values: list[str]


class Types:
    """Turns schemas into type expressions, collecting the definitions they use (in `records`
    and `aliases`); names come from `scope`, so they never clash with the module's others."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.records: list[Record] = []
        self.aliases: list[Alias] = []
        self._refs: dict[tuple[int, str], str] = {}
        self._resolving: set[tuple[int, str]] = set()

    def expression(self, schema: object, root: object, hint: str, depth: int = 0) -> str:
        """The type of values `schema` allows; `root` is the document its `$ref`s point into,
        `hint` the CapWords name a definition made for it is given."""
        found = json_object(schema)
        if depth > MAX_DEPTH or not found:
            return "Any"  # `true`, `{}` and what we cannot follow: any JSON value
        if isinstance(found.get("$ref"), str):
            return self._ref(found["$ref"], root, depth)
        if "const" in found:
            return self._enum([found["const"]], hint)
        if json_list(found.get("enum")):
            return self._enum(json_list(found["enum"]), hint)
        kinds = found.get("type")
        if kinds is None:
            return self._untyped(found, root, hint, depth)
        names = [kinds] if isinstance(kinds, str) else json_list(kinds)
        if not names:
            return "Any"
        parts = [self._of_kind(k, found, root, hint, depth) for k in names]
        if found.get("nullable") is True:  # OpenAPI 3.0's spelling of "or null"
            parts.append("None")
        return union(parts)

    def record(self, schema: Mapping[str, Any], root: object, name: str, depth: int = 0) -> Record:
        """Define the TypedDict `name` (already taken from the scope) for an object schema."""
        made = Record(name, _text(schema.get("description")) or _text(schema.get("title")))
        self.records.append(made)
        wanted = {key for key in json_list(schema.get("required")) if isinstance(key, str)}
        for key, value in json_object(schema.get("properties")).items():
            hint = name + class_name(key, "Field")
            kind = self.expression(value, root, hint, depth + 1)
            doc = _text(json_object(value).get("description"))
            made.fields.append(Field(key, kind, key in wanted, doc))
        return made

    def _untyped(self, schema: dict[str, Any], root: object, hint: str, depth: int) -> str:
        alternatives = json_list(schema.get("anyOf")) or json_list(schema.get("oneOf"))
        if alternatives:
            return union(
                [
                    self.expression(a, root, f"{hint}{i}", depth + 1)
                    for i, a in enumerate(alternatives, 1)
                ]
            )
        every = json_list(schema.get("allOf"))
        if len(every) == 1:
            return self.expression(every[0], root, hint, depth + 1)
        if json_object(schema.get("properties")):
            return self._object(schema, root, hint, depth)
        return "Any"  # several allOf parts, `not`, `if`: constraints Python's types cannot say

    def _of_kind(
        self, kind: object, schema: dict[str, Any], root: object, hint: str, depth: int
    ) -> str:
        if isinstance(kind, str) and kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            inner = self.expression(items, root, hint + "Item", depth + 1) if items else "Any"
            return f"list[{inner}]"
        if kind == "object":
            return self._object(schema, root, hint, depth)
        return "Any"

    def _object(self, schema: dict[str, Any], root: object, hint: str, depth: int) -> str:
        if json_object(schema.get("properties")):
            return self.record(schema, root, self.scope.take(hint), depth).name
        extra = json_object(schema.get("additionalProperties"))
        if extra:
            return f"dict[str, {self.expression(extra, root, hint + 'Value', depth + 1)}]"
        return "dict[str, Any]"

    def _enum(self, values: list[Any], hint: str) -> str:
        nullable = any(v is None for v in values)
        rest = [v for v in values if v is not None]
        literal = all(isinstance(v, str | int) for v in rest)  # bool is an int
        if rest and literal and len(rest) <= MAX_ENUM:
            seen: dict[tuple[str, object], str] = {}
            for v in rest:
                shown = string_literal(v) if isinstance(v, str) else repr(v)
                seen.setdefault((type(v).__name__, v), shown)
            name = self.scope.take(hint)
            self.aliases.append(Alias(name, list(seen.values())))
            parts = [name]
        else:  # too many, or values Literal cannot hold (floats, objects): their JSON types
            parts = [_json_type(v) for v in rest]
        return union([*parts, "None"] if nullable else parts)

    def _ref(self, ref: str, root: object, depth: int) -> str:
        key = (id(root), ref)
        if key in self._refs:
            return self._refs[key]
        target = _pointer(root, ref)
        if target is None or key in self._resolving:
            return "Any"  # remote, dangling, or a cycle of references with no object between
        hint = class_name(ref.rsplit("/", 1)[-1], "Definition")
        if json_object(target.get("properties")):
            name = self.scope.take(hint)
            self._refs[key] = name  # before its fields, so that they may refer to it
            self.record(target, root, name, depth)
            return name
        self._resolving.add(key)
        try:
            found = self.expression(target, root, hint, depth + 1)
        finally:
            self._resolving.discard(key)
        self._refs[key] = found
        return found


def union(parts: list[str]) -> str:
    """`a | b` of the distinct `parts`, None last; `Any` swallows the rest."""
    unique = list(dict.fromkeys(parts))
    if "Any" in unique or not unique:
        return "Any"
    if "None" in unique:
        unique = [p for p in unique if p != "None"] + ["None"]
    return " | ".join(unique)


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "list[Any]" if isinstance(value, list) else "dict[str, Any]"


def _pointer(root: object, ref: str) -> dict[str, Any] | None:
    """The schema a local `$ref` (`#/$defs/Name`, RFC 6901 escapes) points to, or None."""
    if not ref.startswith("#"):
        return None
    node: object = root
    for raw in ref[1:].split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        found, items = json_object(node), json_list(node)
        if part in found:
            node = found[part]
        elif part.isdigit() and int(part) < len(items):
            node = items[int(part)]
        else:
            return None
    return json_object(node) or None


def json_object(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def json_list(value: object) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    items: list[Any] = []
    if isinstance(value, list):  # copied: mypy finds a cast of the list redundant, pyright not
        items.extend(cast("list[object]", value))
    return items


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
