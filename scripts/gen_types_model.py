"""Turn one MCP revision's JSON Schema `$defs` into the Python shapes gen_types.py writes.

The choices are told to readers of the output in gen_types_render.MODULE_DOC; in short: objects
are structs (tagged by a required `type`, `method` or `mode` const), open objects are dicts,
unions msgspec cannot tell apart are merged into one struct, and a field holding an untagged
union of named structs decodes through a private merged "wire" struct.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANY",
    "Alias",
    "Field",
    "Model",
    "NONE",
    "NUMBER",
    "OPEN",
    "Struct",
    "T",
    "Wire",
    "prim",
    "snake",
    "union",
]

Schema = dict[str, Any]
Kind = tuple[Any, ...]  # what msgspec sees: ("struct", tag, name), ("dict",), ("array",), ...
Shapes = list[tuple[dict[str, tuple[Any, ...]], list[str]]]

# Properties holding a whole JSON Schema document: dicts, so that no keyword is lost.
SCHEMA_DOCUMENTS = frozenset({"inputSchema", "outputSchema", "requestedSchema"})
# $defs whose values are arbitrary results (tasks/result returns the original request's result).
OPEN_DEFS = frozenset({"GetTaskPayloadResult"})
# Properties of these $defs types are open: a response's `result` depends on its request.
OPEN_REFS = frozenset({"Result"})
# Required string consts that make a msgspec tag, in order of preference.
TAG_FIELDS = ("type", "method", "mode")
PRIMS = {"string": "str", "integer": "int", "boolean": "bool", "null": "None"}


@dataclass(frozen=True)
class T:
    """A Python type: kind is prim, lit, ref, wire, list, dict or union."""

    kind: str
    arg: Any = None

    def render(self) -> str:
        if self.kind in ("prim", "ref", "wire"):
            return str(self.arg)
        if self.kind == "lit":
            return "Literal[" + ", ".join(_literal(v) for v in self.arg) + "]"
        if self.kind == "list":
            return f"list[{self.arg.render()}]"
        if self.kind == "dict":
            return f"dict[str, {self.arg.render()}]"
        return " | ".join(m.render() for m in self.arg)

    def deps(self) -> set[str]:
        if self.kind in ("ref", "wire"):
            return {self.arg}
        if self.kind in ("list", "dict"):
            deps: set[str] = self.arg.deps()
            return deps
        members: tuple[T, ...] = self.arg if self.kind == "union" else ()
        return {d for m in members for d in m.deps()}


ANY = T("prim", "Any")
NONE = T("prim", "None")
OPEN = T("dict", ANY)
# 2026-07-28's JSON values, defined in terms of each other (a value is an object, an array of
# values or a scalar): any JSON, as msgspec decodes it. schema.json also lists the scalars as
# `integer` where schema.ts says `number` and leaves out `null`; schema.ts is the authority.
JSON_DEFS = {"JSONValue": ANY, "JSONObject": OPEN, "JSONArray": T("list", ANY)}
# A JSON number is `int | float`: a whole number stays an int (`3` is sent back as `3`, not
# `3.0`), a fraction is a float; `float` alone would turn every `3` into `3.0`.
NUMBER = T("union", (T("prim", "int"), T("prim", "float")))


def prim(kind: str) -> T:
    """The Python type of a JSON Schema primitive type name."""
    return NUMBER if kind == "number" else T("prim", PRIMS[kind])


def _literal(value: Any) -> str:
    return (
        '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, str)
        else repr(value)
    )


def union(members: list[T]) -> T:
    """A flat union: literals merged, literals absorbed by their primitive, Any absorbing all."""
    flat: list[T] = []
    for m in members:
        flat.extend(m.arg if m.kind == "union" else [m])
    if ANY in flat:
        return ANY
    prims = {m.arg for m in flat if m.kind == "prim"}
    lits = [v for m in flat if m.kind == "lit" for v in m.arg if type(v).__name__ not in prims]
    out: list[T] = []
    for m in flat:
        if m.kind == "lit" and lits:
            out.append(T("lit", tuple(dict.fromkeys(lits))))
            lits = []
        elif m.kind != "lit" and m not in out:
            out.append(m)
    return out[0] if len(out) == 1 else T("union", tuple(out))


@dataclass
class Field:
    py: str
    wire: str
    type: T
    required: bool
    default: Any = None


@dataclass
class Struct:
    name: str
    doc: str
    fields: list[Field]
    tag: tuple[str, str] | None = None
    check: tuple[str, Shapes] | None = None  # message and shapes of a merged union
    narrow: list[Field] = field(default_factory=list["Field"])  # fields holding a Wire


@dataclass
class Alias:
    name: str
    type: T
    doc: str = ""


@dataclass
class Wire:
    """An untagged union of named structs, decoded through the merged struct `<name>Wire`."""

    name: str
    members: list[str]


def snake(name: str) -> str:
    # A prefixed `_meta` key (`io.modelcontextprotocol/logLevel`, 2026-07-28) is named by its
    # last segment; the wire name keeps the prefix.
    name = name.rsplit("/", 1)[-1].lstrip("_$")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return name + "_" if keyword.iskeyword(name) else name


def pascal(name: str) -> str:
    name = name.lstrip("_$").replace("/", "_")
    return name[:1].upper() + name[1:]


def first_paragraph(text: str) -> str:
    return text.strip().split("\n\n")[0].strip()


def strip_docs(schema: Any) -> Any:
    """A schema without its descriptions, to tell whether two schemas mean the same."""
    if isinstance(schema, dict):
        return {k: strip_docs(v) for k, v in schema.items() if k != "description"}
    return [strip_docs(v) for v in schema] if isinstance(schema, list) else schema


def tag_of(schema: Schema) -> tuple[str, str] | None:
    props, required = schema.get("properties", {}), schema.get("required", [])
    for name in TAG_FIELDS:
        const = props.get(name, {}).get("const")
        if name in required and isinstance(const, str):
            return name, const
    return None


def is_open(schema: Schema, inline: bool = True) -> bool:
    """No declared properties (inline, also: only `_meta` and open additional properties)."""
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    return not props or (inline and set(props) == {"_meta"} and extra in ({}, True))


def declares_object(schema: Any) -> bool:
    """Whether a schema declares, inline, an object with properties (a struct of its own)."""
    if not isinstance(schema, dict):
        return isinstance(schema, list) and any(map(declares_object, schema))
    if schema.get("properties") and not is_open(schema):
        return True
    keys = ("items", "anyOf", "oneOf", "allOf", "additionalProperties")
    return any(declares_object(schema.get(k)) for k in keys)


def alternatives_of(schema: Schema) -> list[Schema]:
    alts: list[Schema] = schema.get("anyOf") or schema.get("oneOf") or []
    return alts


class Model:
    """The Python shapes of one revision's `$defs`, in the order they are defined."""

    def __init__(self, revision: str, defs: dict[str, Schema]) -> None:
        self.revision = revision
        self.defs = defs
        self.items: dict[str, Struct | Alias] = {}
        self.wires: dict[str, Wire] = {}
        self._kinds: dict[str, list[Kind]] = {}
        for name, schema in defs.items():
            self.add_def(name, schema)

    # -- what msgspec can decode

    def deref(self, schema: Schema) -> tuple[str | None, Schema]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return name, self.defs[name]
        return None, schema

    def kinds(self, schema: Schema) -> list[Kind]:
        name, target = self.deref(schema)
        if name is None:
            return self._kinds_of(None, target)
        if name not in self._kinds:
            self._kinds[name] = self._kinds_of(name, target)
        return self._kinds[name]

    def _kinds_of(self, name: str | None, s: Schema) -> list[Kind]:
        if alternatives_of(s):
            inner = [k for a in alternatives_of(s) for k in self.kinds(a)]
            return inner if self.decodable(inner) else [("struct", None, name)]
        if "allOf" in s:
            return [("struct", None, name)]
        if name in OPEN_DEFS or (s.get("type") == "object" and is_open(s, name is None)):
            return [("dict",)]
        if s.get("type") == "object":
            return [("struct", tag_of(s), name)]
        kind = s.get("type", "any")
        return [(k,) for k in (kind if isinstance(kind, list) else [kind])]

    @staticmethod
    def decodable(kinds: list[Kind]) -> bool:
        """msgspec's rule: one object-like type, or structs all tagged by one field."""
        objects = [k for k in kinds if k[0] in ("struct", "dict")]
        if sum(k[0] == "array" for k in kinds) > 1:
            return False
        if len(objects) <= 1:
            return True
        tags = [k[1] for k in objects if k[0] == "struct"]
        return (
            len(tags) == len(objects)
            and None not in tags
            and len({t[0] for t in tags}) == 1
            and len({t[1] for t in tags}) == len(tags)
        )

    # -- definitions

    def add_def(self, name: str, schema: Schema) -> None:
        doc = first_paragraph(schema.get("description", ""))
        alts = alternatives_of(schema)
        if name in OPEN_DEFS:
            self.items[name] = Alias(name, OPEN, doc)
        elif name in JSON_DEFS:
            self.items[name] = Alias(name, JSON_DEFS[name], doc)
        elif alts and not self.decodable([k for a in alts for k in self.kinds(a)]):
            if all(self.is_object(a) for a in self._flat(alts)):
                self.add_merged(name, alts, doc)
            else:  # objects and arrays (2025-03-26 JSON-RPC batches)
                self.items[name] = Alias(name, self.resolve_union(alts, name), doc)
        elif (schema.get("type") == "object" and not is_open(schema, False)) or "allOf" in schema:
            self.add_struct(name, schema)
        else:
            self.items[name] = Alias(name, self.resolve(schema, name), doc)

    def add_struct(self, name: str, schema: Schema) -> str:
        if "allOf" in schema:
            schema = self.merge_all(schema)
        tag = tag_of(schema)
        required = set(schema.get("required", []))
        fields = [
            Field(snake(wire), wire, self.prop_type(wire, prop, name), wire in required)
            for wire, prop in schema.get("properties", {}).items()
            if not tag or wire != tag[0]
        ]
        self.finish(Struct(name, first_paragraph(schema.get("description", "")), fields, tag))
        return name

    def finish(self, struct: Struct) -> None:
        if len({f.py for f in struct.fields}) != len(struct.fields):
            raise SystemExit(f"{self.revision}: field names collide in {struct.name}")
        if struct.name in self.items:
            raise SystemExit(f"{self.revision}: two shapes named {struct.name}")
        struct.narrow = [f for f in struct.fields if f.type.deps() & set(self.wires)]
        self.items[struct.name] = struct

    def prop_type(self, wire: str, prop: Schema, owner: str) -> T:
        if wire == "_meta" or wire in SCHEMA_DOCUMENTS or self.deref(prop)[0] in OPEN_REFS:
            return OPEN
        return self.resolve(prop, owner + pascal(wire))

    def merge_all(self, schema: Schema) -> Schema:
        """One object with the properties and requirements of every `allOf` part."""
        props: Schema = {}
        required: set[str] = set()
        for ref in schema["allOf"]:
            part = self.deref(ref)[1]
            part = self.merge_all(part) if "allOf" in part else part
            props.update(part.get("properties", {}))  # a later part narrows (code: -32042)
            required.update(part.get("required", []))
        desc = schema.get("description", "")
        return {"properties": props, "required": sorted(required), "description": desc}

    # -- unions

    def alternatives(self, alts: list[Schema]) -> list[tuple[str, Schema]]:
        """(def name or "", object schema) of each alternative, nested unions flattened."""
        out: list[tuple[str, Schema]] = []
        for alt in alts:
            name, target = self.deref(alt)
            if alternatives_of(target):
                out += self.alternatives(alternatives_of(target))
            else:
                out.append((name or "", self.merge_all(target) if "allOf" in target else target))
        return out

    @staticmethod
    def merged_props(parts: list[tuple[str, Schema]]) -> dict[str, list[Schema]]:
        """Each property of any alternative, with its distinct schemas."""
        props: dict[str, list[Schema]] = {}
        for _, part in parts:
            for wire, prop in part.get("properties", {}).items():
                if strip_docs(prop) not in map(strip_docs, props.setdefault(wire, [])):
                    props[wire].append(prop)
        return props

    def conflicts(self, parts: list[tuple[str, Schema]]) -> bool:
        """Whether merged fields could differ in type from the alternatives' own fields."""
        props = self.merged_props(parts)
        return any(len(schemas) > 1 for schemas in props.values()) or any(
            declares_object(schemas[0])
            for wire, schemas in props.items()
            if wire != "_meta" and wire not in SCHEMA_DOCUMENTS
        )

    def add_merged(self, name: str, alts: list[Schema], doc: str) -> str:
        parts = self.alternatives(alts)
        props = self.merged_props(parts)
        required = set.intersection(*(set(p.get("required", [])) for _, p in parts))
        fields: list[Field] = []
        for wire in sorted(props):
            prop = props[wire][0] if len(props[wire]) == 1 else {"anyOf": props[wire]}
            ftype = self.prop_type(wire, prop, name)
            fields.append(Field(snake(wire), wire, ftype, wire in required))
        _default_consts(fields, parts)
        names = " | ".join(n for n, _ in parts if n)
        doc = (doc + (f"\n\nMerged from {names}." if names else "")).strip()
        self.finish(Struct(name, doc, fields, None, _shapes(name, parts, required)))
        return name

    def resolve_union(self, alts: list[Schema], ctx: str) -> T:
        alts = self._one_array(self._flat(alts))
        kinds = [k for a in alts for k in self.kinds(a)]
        if kinds and all(k == ("dict",) for k in kinds):
            return OPEN
        if self.decodable(kinds):
            several = sum("$ref" not in a and self.kinds(a)[0][0] == "struct" for a in alts) > 1
            return union([self._member(a, ctx, several) for a in alts])
        objects = [a for a in alts if self.is_object(a)]
        others = [a for a in alts if a not in objects]
        open_objects = any(self.kinds(a) == [("dict",)] for a in objects)
        rest = [k for a in others for k in self.kinds(a)]
        if not objects or open_objects or not self.decodable([("struct", None, None), *rest]):
            return ANY  # no one struct can stand for the objects here
        names = [self.deref(a)[0] for a in objects]
        pairs = zip(names, objects, strict=True)
        named = all(n and self.kinds(a) == [("struct", None, n)] for n, a in pairs)
        if named and not others and not self.conflicts(self.alternatives(objects)):
            return self.add_wire([n for n in names if n])
        merged = self.add_merged(ctx + ("Object" if others else ""), objects, "")
        return union([T("ref", merged), *(self.resolve(a, ctx) for a in others)])

    def is_object(self, schema: Schema) -> bool:
        target = self.deref(schema)[1]
        return target.get("type") == "object" or "allOf" in target

    def _flat(self, alts: list[Schema]) -> list[Schema]:
        """Inline unions inside a union are its own alternatives."""
        return [
            m
            for a in alts
            for m in (
                self._flat(alternatives_of(a)) if "$ref" not in a and alternatives_of(a) else [a]
            )
        ]

    def _one_array(self, alts: list[Schema]) -> list[Schema]:
        """msgspec takes one list type in a union: make it a list of any of the items."""
        arrays = [a for a in alts if self.deref(a)[1].get("type") == "array"]
        if len(arrays) < 2:
            return alts
        items = {"anyOf": [self.deref(a)[1].get("items", {}) for a in arrays]}
        return [a for a in alts if a not in arrays] + [{"type": "array", "items": items}]

    def _member(self, alt: Schema, ctx: str, several: bool) -> T:
        tag = tag_of(self.deref(alt)[1])
        return self.resolve(alt, ctx + (pascal(tag[1]) if several and tag else ""))

    def add_wire(self, members: list[str]) -> T:
        name = "_" + "Or".join(members)
        if name not in self.wires:
            self.add_merged(name + "Wire", [{"$ref": f"#/$defs/{m}"} for m in members], "")
            self.items[name + "Wire"].doc = "Decodes " + " | ".join(members) + "."
            self.wires[name] = Wire(name, members)
        return T("wire", name)

    # -- types

    def resolve(self, s: Schema, ctx: str) -> T:
        """The Python type of a schema; `ctx` names a struct it declares inline."""
        if "$ref" in s:
            return T("ref", self.deref(s)[0])
        if "allOf" in s:
            return T("ref", self.add_struct(ctx, s))
        if alternatives_of(s):
            return self.resolve_union(alternatives_of(s), ctx)
        if "const" in s or "enum" in s:
            return T("lit", (s["const"],) if "const" in s else tuple(s["enum"]))
        kind = s.get("type")
        if isinstance(kind, list):
            return union([prim(k) for k in kind])
        if kind == "object" and is_open(s):
            extra = s.get("additionalProperties")
            return T("dict", self.resolve(extra, ctx) if isinstance(extra, dict) else ANY)
        if kind == "object":
            return T("ref", self.add_struct(ctx, s))
        if kind == "array":
            return T("list", self.resolve(s["items"], ctx + "Item") if "items" in s else ANY)
        return prim(kind) if kind else ANY


def _default_consts(fields: list[Field], parts: list[tuple[str, Schema]]) -> None:
    """A const that one alternative leaves optional is the default (absent mode means form)."""
    for f in fields:
        optional = [
            p["properties"][f.wire]["const"]
            for _, p in parts
            if "const" in p.get("properties", {}).get(f.wire, {})
            and f.wire not in p.get("required", [])
        ]
        if not f.required and f.type.kind == "lit" and len(optional) == 1:
            f.default = optional[0]


def _shapes(
    name: str, parts: list[tuple[str, Schema]], required: set[str]
) -> tuple[str, Shapes] | None:
    """What a merged struct's `__post_init__` checks: each alternative's consts and fields."""
    shapes: Shapes = []
    wants: list[str] = []
    for label, part in parts:
        req = part.get("required", [])
        consts: dict[str, tuple[Any, ...]] = {}
        shown: list[str] = []
        for wire, prop in part.get("properties", {}).items():
            if "const" in prop or "enum" in prop:
                allowed = (prop["const"],) if "const" in prop else tuple(prop["enum"])
                consts[snake(wire)] = allowed if wire in req else (*allowed, None)
                shown.append(f"{wire}{'' if wire in req else '?'}={'|'.join(map(str, allowed))}")
        needs = [w for w in req if w not in required and snake(w) not in consts]
        if not consts and not needs:
            return None  # this alternative accepts anything the merged struct decodes
        shapes.append((consts, [snake(w) for w in needs]))
        wants.append(f"{label or 'variant'} ({', '.join(shown + needs)})")
    return f"{name} must match one of: " + "; ".join(wants), shapes
