"""Standard-library types in schemas and values: the JSON Schema formats msgspec leaves out
(naive `datetime` and `time`), `Decimal` also as a number (as msgspec decodes it), and the
types msgspec does not know (`pathlib` paths, `ipaddress` addresses) as strings."""

from __future__ import annotations

import ipaddress
import pathlib
from typing import Any, Final, cast

from msgspec import inspect as mi

__all__ = ["add_formats", "decode_std", "encode_std", "std_schema"]

# JSON Schema 2020-12 section 7.3: the formats of the standard string types.
_STRING_TYPES: Final[dict[type, dict[str, Any]]] = {
    ipaddress.IPv4Address: {"type": "string", "format": "ipv4"},
    ipaddress.IPv6Address: {"type": "string", "format": "ipv6"},
    # Networks and interfaces have no format of their own in 2020-12: plain strings.
    ipaddress.IPv4Network: {"type": "string"},
    ipaddress.IPv6Network: {"type": "string"},
    ipaddress.IPv4Interface: {"type": "string"},
    ipaddress.IPv6Interface: {"type": "string"},
}
#: The msgspec types whose schema holds others' schemas, walked to reach the scalars inside.
_CONTAINERS: Final = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)
_CLASSES: Final = (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)


def _std_type(tp: object) -> type | None:
    """`tp` when it is one of the types this module writes as a string (a `pathlib` path,
    an `ipaddress` type); None for any other, which is msgspec's to handle."""
    if not isinstance(tp, type):
        return None
    if issubclass(tp, pathlib.PurePath) or tp in _STRING_TYPES:
        return cast("type[object]", tp)
    return None


def std_schema(tp: object) -> dict[str, Any] | None:
    """The schema of a type msgspec does not know but we do, else None."""
    std = _std_type(tp)
    if std is None:
        return None
    # A copy: the schema is completed and tidied in place later, and the table must not be.
    return dict(_STRING_TYPES.get(std, {"type": "string"}))


def decode_std(tp: object, obj: object) -> Any:
    """`obj` (from JSON) as `tp`; NotImplemented where `tp` is not ours to decode."""
    std = _std_type(tp)
    if std is None:
        return NotImplemented
    # Worded as msgspec words a mismatch, so `argument_messages` rewords it like any other.
    if not isinstance(obj, str):
        raise TypeError(f"Expected `str`, got `{type(obj).__name__}`")
    return std(obj)  # ValueError for a malformed address, which msgspec words


def encode_std(obj: object) -> Any:
    """`obj` as a JSON string, or NotImplemented."""
    if _std_type(type(obj)) is None:
        return NotImplemented
    return str(obj)


# ------------------------------------------------------------------ formats


def add_formats(schema: dict[str, Any], info: mi.Type, defs: dict[str, Any]) -> None:
    """Complete msgspec's `schema` of the type `info` describes, in place (through `defs`)."""
    _walk(schema, info, defs, set())


def _resolve(node: dict[str, Any], defs: dict[str, Any], seen: set[str]) -> dict[str, Any] | None:
    """The definition a `$ref` node points to (once: recursive types end), or the node."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    name = ref.rsplit("/", 1)[1]
    if name in seen or name not in defs:
        return None
    seen.add(name)
    return cast("dict[str, Any]", defs[name])


def _walk(ref_or_node: dict[str, Any], info: mi.Type, defs: dict[str, Any], seen: set[str]) -> None:
    """Complete `ref_or_node` for the type `info`, walking both side by side: the schema
    alone cannot tell a datetime from any string, nor the type alone where in the schema
    (behind which `$ref`, in which `anyOf` branch) it was written."""
    node = _resolve(ref_or_node, defs, seen)
    if node is None:
        return
    if isinstance(info, mi.Metadata):
        _walk(node, info.type, defs, seen)
    elif isinstance(info, (mi.DateTimeType, mi.TimeType, mi.DecimalType)):
        _complete_scalar(node, info)
    elif isinstance(info, _CONTAINERS) and isinstance(node.get("items"), dict):
        _walk(node["items"], info.item_type, defs, seen)
    elif isinstance(info, mi.TupleType):
        for item, sub in zip(info.item_types, node.get("prefixItems", []), strict=False):
            _walk(sub, item, defs, seen)
    elif isinstance(info, mi.DictType) and isinstance(node.get("additionalProperties"), dict):
        _walk(node["additionalProperties"], info.value_type, defs, seen)
    elif isinstance(info, mi.UnionType):
        _walk_union(node, info, defs, seen)
    elif isinstance(info, _CLASSES):
        _walk_fields(node, info, defs, seen)


def _complete_scalar(
    node: dict[str, Any], info: mi.DateTimeType | mi.TimeType | mi.DecimalType
) -> None:
    """Add what msgspec leaves out of a scalar's schema. A type that must be naive
    (`tz=False`) gets no format: its values never carry the offset RFC 3339 requires."""
    if isinstance(info, mi.DecimalType):
        # msgspec decodes a Decimal from a number as well as from a string.
        string = {key: node.pop(key) for key in ("type", "format") if key in node}
        node["anyOf"] = [string, {"type": "number"}]
    elif info.tz is not False:  # RFC 3339 formats; naive values are sent without an offset
        node.setdefault("format", "date-time" if isinstance(info, mi.DateTimeType) else "time")


def _walk_fields(node: dict[str, Any], info: Any, defs: dict[str, Any], seen: set[str]) -> None:
    """Complete each field's schema, found by the field's wire name (`encode_name`), which
    is how msgspec keyed the properties: a renamed field is not under its attribute name."""
    fields = cast("tuple[mi.Field, ...]", info.fields)
    properties = node.get("properties")
    if isinstance(properties, dict):
        for f in fields:
            sub = cast("dict[str, Any]", properties).get(f.encode_name)
            if isinstance(sub, dict):
                _walk(cast("dict[str, Any]", sub), f.type, defs, seen)
    else:  # array_like structs and named tuples: one prefix item per field
        for f, sub in zip(fields, node.get("prefixItems", []), strict=False):
            _walk(sub, f.type, defs, seen)


def _walk_union(
    node: dict[str, Any], info: mi.UnionType, defs: dict[str, Any], seen: set[str]
) -> None:
    """msgspec allows at most one member per JSON kind in a union (tagged structs aside,
    told apart by their titles), so each member's branch is found by its kind."""
    branches = [cast("dict[str, Any]", b) for b in node.get("anyOf", []) if isinstance(b, dict)]
    for member in info.types:
        branch = _branch_for(member, branches, defs)
        if branch is not None:
            _walk(branch, member, defs, seen)


def _kind(info: mi.Type) -> str | None:
    """The JSON type of the branch a union member wrote, for the members `_walk` completes;
    None for the rest, whose branch need not be found."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, (mi.DateTimeType, mi.TimeType, mi.DecimalType)):
        return "string"
    if isinstance(info, (*_CONTAINERS, mi.TupleType)):
        return "array"
    if isinstance(info, mi.DictType):
        return "object"
    return None


def _branch_for(
    member: mi.Type, branches: list[dict[str, Any]], defs: dict[str, Any]
) -> dict[str, Any] | None:
    """The `anyOf` branch `member` wrote: a class's by its definition's title, since
    several classes may share the object kind; any other member's by its JSON type."""
    inner = member
    while isinstance(inner, mi.Metadata):
        inner = inner.type
    if isinstance(inner, _CLASSES):
        title = inner.cls.__name__
        for branch in branches:
            ref = branch.get("$ref")
            if isinstance(ref, str) and defs.get(ref.rsplit("/", 1)[1], {}).get("title") == title:
                return branch
        return None
    kind = _kind(member)
    return next((b for b in branches if kind is not None and b.get("type") == kind), None)
