"""Type-hint plumbing for the schema builders: msgspec schema components with one shared
`$defs` (enum values in their declared order), and pydantic models when the user has loaded
pydantic (the annotations themselves are resolved by `_annotations`).

msgspec makes the schemas and does the validation; pydantic models and dataclasses are
handed to pydantic through msgspec's hooks (`dec_hook`, `enc_hook`, the schema hook), so
one hint may mix both. pydantic is never imported here: a model in a hint means the user
loaded it. Two different types of one name in one schema are refused (TypeError), since
`$defs` are keyed by name and one would silently stand for the other.
"""

from __future__ import annotations

import contextlib
import enum
import sys
import typing
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, Final, Literal, cast

import msgspec
import msgspec.inspect
import msgspec.structs

from mcpkit.server.schemas._stdtypes import add_formats, decode_std, encode_std, std_schema

__all__ = [
    "REF_TEMPLATE",
    "SchemaMode",
    "dec_hook",
    "enc_hook",
    "is_pydantic_model",
    "pydantic_parts",
    "pydantic_stand_in",
    "schema_components",
]

#: Where references point: `$defs`, 2020-12's place for them, the dialect a schema without
#: `$schema` is read in (SEP-1613).
REF_TEMPLATE: Final = "#/$defs/{name}"
#: pydantic's two schemas of a model: what it accepts (input) or what it dumps (output).
SchemaMode = Literal["validation", "serialization"]
# A placeholder schema for `object` (msgspec refuses an empty one from a hook), taken out
# again by `_tidy`, leaving `{}`: any JSON value.
_ANY: Final = "x-mcpkit-any"
# The JSON type of an enum's values, by the Python types they hold (`bool` apart from
# `int`, which it subclasses): a mix of others gets no `type`.
_ENUM_TYPES: Final[dict[frozenset[type], str]] = {
    frozenset({str}): "string",
    frozenset({int}): "integer",
    frozenset({int, float}): "number",
    frozenset({float}): "number",
    frozenset({bool}): "boolean",
}


# ------------------------------------------------------------------ pydantic, if loaded


def is_pydantic_model(tp: object) -> bool:
    """Whether `tp` is a pydantic model class (False while pydantic is not loaded)."""
    # Never imported here: a model class in a hint means the user already loaded pydantic.
    module = sys.modules.get("pydantic")
    base = getattr(module, "BaseModel", None)
    return base is not None and isinstance(tp, type) and issubclass(tp, base)


class _StandsIn(type):
    """Instances of the dataclass a stand-in stands for count as its own (msgspec checks
    what `dec_hook` returns against the type it was asked for)."""

    target: type

    def __instancecheck__(cls, instance: object) -> bool:
        # What pydantic validated is an instance of the user's dataclass, not the stand-in.
        return isinstance(instance, cls.target)


class _ByPydantic(metaclass=_StandsIn):
    """The base of stand-ins for pydantic dataclasses in hints given to msgspec, which
    would otherwise read them as plain dataclasses and skip their constraints and
    validators: a stand-in is a type msgspec does not know, so the hooks below hand its
    values and schema to pydantic's TypeAdapter of the dataclass."""

    target: ClassVar[type]  # the user's pydantic dataclass
    adapter: ClassVar[Any]  # pydantic's TypeAdapter of it, which validates and describes it


# One stand-in per dataclass, so msgspec sees one type (one `$defs` entry) however many
# hints name it; weak, so a dataclass that goes away takes its stand-in with it.
_STAND_INS: Final[weakref.WeakKeyDictionary[type, type[_ByPydantic]]] = weakref.WeakKeyDictionary()


def pydantic_stand_in(cls: type) -> type | None:
    """The stand-in for `cls` if it is a pydantic dataclass, else None.

    Made once per dataclass, with its TypeAdapter: building an adapter reads the whole
    class, which no call should pay for again.
    """
    found = getattr(sys.modules.get("pydantic.dataclasses"), "is_pydantic_dataclass", None)
    if found is None or not found(cls):
        return None
    stand_in = _STAND_INS.get(cls)
    if stand_in is None:
        adapter = sys.modules["pydantic"].TypeAdapter(cls)
        names = {"target": cls, "adapter": adapter, "__module__": cls.__module__}
        stand_in = cast("type[_ByPydantic]", type(cls.__name__, (_ByPydantic,), names))
        # Named as the dataclass, so the schema's title and `$defs` key are the user's.
        stand_in.__qualname__ = cls.__qualname__  # msgspec names clashing $defs by it
        _STAND_INS[cls] = stand_in
    return stand_in


def _is_stand_in(tp: object) -> bool:
    """Whether `tp` is a stand-in made by `pydantic_stand_in`."""
    return isinstance(tp, type) and issubclass(tp, _ByPydantic)


def _by_pydantic(tp: object) -> bool:
    """Whether pydantic, not msgspec, validates and describes `tp`."""
    return is_pydantic_model(tp) or _is_stand_in(tp)


def _validator(tp: Any) -> Callable[[Any], Any] | None:
    """pydantic's validation of `tp` from decoded JSON, or None if pydantic has no part."""
    if is_pydantic_model(tp):
        return cast("Callable[[Any], Any]", tp.model_validate)
    if _is_stand_in(tp):
        return cast("Callable[[Any], Any]", tp.adapter.validate_python)
    return None


def dec_hook(tp: Any, obj: Any) -> Any:
    """msgspec's hook for the types it does not know: the standard types `_stdtypes`
    reads, then pydantic's. NotImplementedError for the rest, which msgspec reports."""
    if tp is object:  # any JSON value, as it is
        return obj
    std = decode_std(tp, obj)
    if std is not NotImplemented:
        return std
    validate = _validator(tp)
    # msgspec's way to hear "not a type this hook knows": it then reports the type.
    if validate is None:
        raise NotImplementedError
    try:
        return validate(obj)
    except ValueError as exc:  # pydantic.ValidationError: one line per error, no URLs
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise
        found = cast("list[dict[str, Any]]", errors())
        lines = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in found]
        raise ValueError("; ".join(lines)) from None


def enc_hook(obj: Any) -> Any:
    """msgspec's hook for encoding the types it does not know. A pydantic model is dumped
    by its aliases, in JSON mode: the form its own serialization schema describes."""
    std = encode_std(obj)
    if std is not NotImplemented:
        return std
    if is_pydantic_model(obj.__class__):
        return obj.model_dump(mode="json", by_alias=True)
    # TypeError, msgspec's word for a value it cannot encode: the callers turn it into their
    # own error (an OutputError, a default left out of the schema).
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


# ------------------------------------------------------------------ schemas


def schema_components(
    types: list[Any], *, mode: SchemaMode = "validation"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """msgspec's schemas for `types` and their shared `$defs`, pydantic models hoisted in
    (their schema as pydantic gives it for `mode`: what they take, or what they dump)."""
    hoisted: dict[str, Any] = {}

    # msgspec calls this for each type it has no schema of: `object`, the standard types
    # `_stdtypes` describes, and pydantic's; anything else is refused by name.
    def hook(tp: Any) -> dict[str, Any]:
        if tp is object:  # `dict[str, object]`, `list[object]`: any JSON value, as `Any`
            return {_ANY: True}  # msgspec refuses an empty schema from a hook; _tidy drops it
        std = std_schema(tp)
        if std is not None:
            return std
        if not (is_pydantic_model(tp) or _is_stand_in(tp)):
            raise TypeError(
                f"no JSON Schema for {tp!r}: use builtins, dataclasses, TypedDict, "
                "msgspec.Struct, enums, Literal, or the datetime, uuid, decimal, pathlib "
                "and ipaddress types"
            )
        return _hoist(tp, hoisted, mode)

    # (Two classes of one qualified name, as a factory makes them, get a definition each:
    # msgspec names the second `module.Name_2`.)
    schemas, components = msgspec.json.schema_components(
        types, schema_hook=hook, ref_template=REF_TEMPLATE
    )
    # A pydantic definition and a msgspec one may share a name; equal, they are one type.
    for name in hoisted.keys() & components.keys():
        if hoisted[name] != components[name]:
            raise TypeError(_CLASH.format(name=name))
    defs = {**hoisted, **components}
    # Formats the standard types carry that msgspec's schema leaves out (`_stdtypes`).
    for schema, info in zip(schemas, msgspec.inspect.multi_type_info(types), strict=True):
        add_formats(schema, info, defs)
    declared = _in_declared_order(types)
    _tidy(defs, declared)
    _tidy(schemas, declared)
    return list(schemas), defs


_CLASH: Final = (
    "two different types are named {name!r} in one schema; rename one of them, since a "
    "schema's definitions are named by their types' names"
)


def _hoist(model: Any, hoisted: dict[str, Any], mode: SchemaMode) -> dict[str, Any]:
    """A reference to a pydantic model's (or dataclass's) schema, its definitions added
    to `hoisted`."""
    # pydantic's template names its placeholder `model`; the refs land in the same `$defs`.
    template = REF_TEMPLATE.replace("{name}", "{model}")
    if _is_stand_in(model):
        schema = model.adapter.json_schema(ref_template=template, mode=mode)
    else:
        schema = model.model_json_schema(ref_template=template, mode=mode)
    # The model's own definitions join the shared `$defs`, so a model used by two tools'
    # parameters is defined once.
    defs: dict[str, Any] = schema.pop("$defs", {})
    ref = schema.get("$ref")
    if isinstance(ref, str) and len(schema) == 1:
        name = ref.rsplit("/", 1)[1]  # a recursive model: pydantic defines it in its $defs
    else:
        name = model.__name__
        defs[name] = schema
    # Two models of one name with different schemas: one `$ref` cannot mean both.
    for key, body in defs.items():
        if hoisted.setdefault(key, body) != body:
            raise TypeError(_CLASH.format(name=key))
    return {"$ref": REF_TEMPLATE.format(name=name)}


def pydantic_parts(tp: Any) -> list[type]:
    """The types msgspec hands to pydantic in `tp`: models, and the pydantic dataclasses
    that stand-ins stand for."""
    parts: list[type] = []
    seen: set[int] = set()
    # A walk of msgspec's type tree with a `seen` set: a recursive type's tree loops.
    pending: list[object] = [msgspec.inspect.type_info(tp)]
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.CustomType) and _by_pydantic(info.cls):
            cls: type = info.cls
            parts.append(cast("type[_ByPydantic]", cls).target if _is_stand_in(cls) else cls)
        elif isinstance(info, (msgspec.inspect.Type, msgspec.inspect.Field)):
            pending.extend(getattr(info, f.name) for f in msgspec.structs.fields(info))
        elif isinstance(info, tuple):
            pending.extend(cast("tuple[object, ...]", info))
    return parts


def _enum_key(values: list[object]) -> frozenset[tuple[type, object]]:
    """An enum's values as a set, to find the declared order of the values msgspec sorted."""
    return frozenset((type(v), v) for v in values)  # by type too: True is 1 to a set


def _in_declared_order(types: list[Any]) -> Callable[[list[object]], list[Any]]:
    """A function putting enum values found in a schema of `types` in declared order."""
    orders: dict[frozenset[tuple[type, object]], list[Any]] = {}

    # An enum's values back in declared order; values nothing declared stay as they are.
    def declared(values: list[object]) -> list[Any]:
        if not orders:  # the hints are read again only when a schema has an enum
            orders.update(_declared_orders(types))
        return orders.get(_enum_key(values), values)

    return declared


def _declared_orders(types: list[Any]) -> dict[frozenset[tuple[type, object]], list[Any]]:
    """The values of every Enum and Literal reachable from `types`, in declaration order,
    by their set: msgspec sorts them, but a model and a form show them as written."""
    orders: dict[frozenset[tuple[type, object]], list[Any]] = {}
    seen: set[type] = set()
    pending = list(types)
    while pending:
        tp = pending.pop()
        values = _declared_values(tp)
        if values is not None:
            orders.setdefault(_enum_key(values), values)
            if None in values:  # msgspec puts null in a branch of its own
                rest = [v for v in values if v is not None]
                orders.setdefault(_enum_key(rest), rest)
            continue
        pending.extend(typing.get_args(tp))
        if isinstance(tp, type) and tp not in seen and not _by_pydantic(tp):
            seen.add(tp)  # pydantic keeps the order itself
            pending.extend(_field_hints(tp))
    return orders


def _declared_values(tp: Any) -> list[Any] | None:
    """An Enum's or Literal's values as the schema holds them (members by their value),
    in the order written; None for any other hint."""
    if typing.get_origin(tp) is typing.Literal:
        return [v.value if isinstance(v, enum.Enum) else v for v in typing.get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [member.value for member in tp]
    return None


def _field_hints(cls: type) -> list[Any]:
    """The hints of `cls`'s fields, where enums may hide; none for hints that fail."""
    try:
        return list(typing.get_type_hints(cls).values())
    except (NameError, TypeError):  # msgspec resolved them, or said why it could not
        return []


def _tidy(node: object, declared: Callable[[list[object]], list[Any]]) -> None:
    """Put enum values back in declared order; add the `type` msgspec leaves out beside
    `enum` (Literal, Enum), since some model providers reject an enum without one; drop
    the marker of `object` (any value)."""
    # In place, over the whole tree: enums sit anywhere, in `$defs` and nested properties.
    if isinstance(node, dict):
        schema = cast("dict[str, Any]", node)
        schema.pop(_ANY, None)
        values: Any = schema.get("enum")
        if isinstance(values, list) and values:
            found = cast("list[object]", values)
            with contextlib.suppress(TypeError):  # an unhashable value: nothing declared it
                schema["enum"] = list(declared(found))
            kind = _ENUM_TYPES.get(frozenset(type(v) for v in found))
            if kind is not None and "type" not in schema:
                schema["type"] = kind
        for child in schema.values():
            _tidy(child, declared)
    elif isinstance(node, (list, tuple)):
        for child in cast("list[Any]", node):
            _tidy(child, declared)
