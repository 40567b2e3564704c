"""Form-mode elicitation schemas: built from flat typed classes, checked, and read back.

Spec: client/elicitation ("Requested Schema"): a flat object of primitive properties only;
SEP-1330 for the enum shapes and SEP-1034 for defaults. A field of a dataclass, TypedDict
or msgspec.Struct becomes one property:

- `str`, `int`, `float`, `bool`, `datetime.date` and `datetime.datetime` (string formats
  `date` and `date-time`), with `msgspec.Meta` for title, description, bounds, lengths,
  pattern, and `extra_json_schema={"format": "email"}` (or `"uri"`);
- a `Literal` of strings or a string-valued `Enum`: untitled single-select (`enum`);
  with `Annotated[..., EnumTitles({...})]`, titled single-select (`oneOf` const/title);
- `list[...]` of those: multi-select (`items.enum`, or with titles `items.anyOf`);
- `X | None`: X, left out of `required`; a field default becomes `default`.

pydantic's `Field` and annotated_types constraints in the fields are read as for tool
parameters (`_class_fields`): in the schema, and checked when the answer is read back.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Final, TypeVar, cast, overload

import msgspec

from mcpkit.server.schemas._fields import read_parameter

__all__ = [
    "EnumTitles",
    "check_requested_schema",
    "property_schema",
    "requested_schema",
    "validate_content",
]

T = TypeVar("T")

_PRIMITIVES: Final = (str, int, float, bool, datetime.date, datetime.datetime)
_FORMATS: Final = frozenset({"email", "uri", "date", "date-time"})
_COMMON: Final = frozenset({"type", "title", "description", "default"})
_KEYS: Final = {
    "string": _COMMON | {"minLength", "maxLength", "pattern", "format"},
    "enum": _COMMON | {"enum", "enumNames"},
    "oneOf": _COMMON | {"oneOf"},
    "number": _COMMON | {"minimum", "maximum"},
    "boolean": _COMMON,
    "array": _COMMON | {"items", "minItems", "maxItems"},
}
_ROOT_KEYS: Final = frozenset({"$schema", "type", "properties", "required", "title", "description"})
_WHERE: Final = "client/elicitation, Requested Schema"


class EnumTitles:
    """Display titles for an enum field's values (SEP-1330), given as `Annotated` metadata:
    `Annotated[Color, EnumTitles({"#f00": "Red", ...})]`, or on a `list[...]` field.

    Every value needs a title; the field becomes a titled single- or multi-select.
    """

    __slots__ = ("titles",)

    def __init__(self, titles: Mapping[str, str]) -> None:
        self.titles = dict(titles)

    def __repr__(self) -> str:
        return f"EnumTitles({self.titles!r})"


# ------------------------------------------------------------------ building


def _unwrap(hint: Any) -> tuple[Any, list[Any], EnumTitles | None, bool]:
    """The bare type under Annotated and `| None`, its msgspec.Meta list, any EnumTitles,
    and whether None was allowed."""
    metas: list[Any] = []
    titles: EnumTitles | None = None
    optional = False
    while True:
        origin = typing.get_origin(hint)
        if origin in (typing.Required, typing.NotRequired):  # TypedDict keys; required is known
            hint = typing.get_args(hint)[0]
            continue
        if origin is Annotated:
            hint, *extras = typing.get_args(hint)
            metas += [e for e in extras if isinstance(e, msgspec.Meta)]
            titles = next((e for e in extras if isinstance(e, EnumTitles)), titles)
            continue
        args = typing.get_args(hint)
        if type(None) in args and (origin is typing.Union or type(hint).__name__ == "UnionType"):
            rest = [a for a in args if a is not type(None)]
            if len(rest) == 1:
                hint, optional = rest[0], True
                continue
        return hint, metas, titles, optional


def _choices(name: str, tp: Any) -> list[str] | None:
    if typing.get_origin(tp) is typing.Literal:
        values = list(typing.get_args(tp))
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [member.value for member in tp]
    else:
        return None
    if not all(isinstance(v, str) for v in values):
        raise TypeError(
            f"field {name!r}: enum values must be strings in form elicitation, got {values!r}"
        )
    return values


def _titled(name: str, values: list[str], titles: EnumTitles) -> list[dict[str, str]]:
    missing = [v for v in values if v not in titles.titles]
    if missing:
        raise TypeError(f"field {name!r}: EnumTitles has no title for {missing!r}")
    return [{"const": v, "title": titles.titles[v]} for v in values]


def _schema(tp: Any, metas: list[Any]) -> dict[str, Any]:
    return msgspec.json.schema(Annotated[(tp, *metas)] if metas else tp)


def property_schema(name: str, hint: Any) -> dict[str, Any]:
    """The schema of one form property for a field's hint; TypeError if forms cannot ask it."""
    base, metas, titles, _ = _unwrap(hint)
    if typing.get_origin(base) is list:
        item, _, item_titles, _ = _unwrap(typing.get_args(base)[0])
        values = _choices(name, item)
        if values is None:
            raise TypeError(
                f"field {name!r}: a list is allowed only of Literal or Enum values (a multi-select)"
            )
        prop = _schema(list[str], metas)
        titles = item_titles or titles
        prop["items"] = (
            {"anyOf": _titled(name, values, titles)}
            if titles
            else {"type": "string", "enum": values}
        )
        return prop
    values = _choices(name, base)
    if values is not None:
        prop = _schema(str, metas)
        if titles:
            prop["oneOf"] = _titled(name, values, titles)
        else:
            prop["enum"] = values
        return prop
    if base not in _PRIMITIVES:
        raise TypeError(
            f"field {name!r} has type {getattr(base, '__name__', base)!r}: form "
            "elicitation takes only flat fields of str, int, float, bool, date, "
            f"datetime, Literal or Enum, and lists of those enums ({_WHERE})"
        )
    prop = _schema(base, metas)
    if base is datetime.datetime:
        prop["format"] = "date-time"  # msgspec leaves it out since naive times are allowed
    return prop


def _fields(tp: Any) -> list[tuple[str, Any, bool, Any]]:
    """(wire name, hint, required, default or NODEFAULT) for each field of `tp`."""
    info = msgspec.inspect.type_info(tp)
    if not isinstance(
        info,
        (msgspec.inspect.StructType, msgspec.inspect.DataclassType, msgspec.inspect.TypedDictType),
    ):
        raise TypeError(
            f"form elicitation needs a dataclass, TypedDict or msgspec.Struct, got {tp!r}"
        )
    hints = typing.get_type_hints(tp, include_extras=True)
    fields: list[tuple[str, Any, bool, Any]] = []
    for f in info.fields:
        default = f.default
        if default is msgspec.NODEFAULT and f.default_factory is not msgspec.NODEFAULT:
            default = f.default_factory()
        fields.append((f.encode_name, hints[f.name], f.required, default))
    return fields


def _form_type(tp: Any) -> tuple[Any, bool]:
    """`tp` as msgspec reads it, pydantic's Field and annotated_types metadata in its fields
    translated (a mirror class), and whether a value must be built back into `tp`."""
    label = f"form {getattr(tp, '__name__', tp)}"
    spec = read_parameter("form", tp, inspect.Parameter.empty, coerce=True, label=label)
    return spec.hint, spec.rebuild


def requested_schema(tp: type[Any]) -> dict[str, Any]:
    """The `requestedSchema` for a flat dataclass, TypedDict or msgspec.Struct.

    Raises TypeError naming the field that form elicitation cannot express (a nested
    object, a non-string enum, a default outside its choices).
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, hint, is_required, default in _fields(_form_type(tp)[0]):
        prop = property_schema(name, hint)
        if default is not msgspec.NODEFAULT and default is not None:
            prop["default"] = msgspec.to_builtins(default)
        properties[name] = prop
        if is_required:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    try:
        check_requested_schema(schema)
    except ValueError as exc:
        raise TypeError(f"{getattr(tp, '__name__', tp)}: {exc}") from None
    return schema


# ------------------------------------------------------------------ checking


def _bad(name: str, what: str) -> ValueError:
    return ValueError(f"requestedSchema property {name!r} {what} ({_WHERE})")


def _as_list(value: object) -> list[Any] | None:
    # Through Any: pyright leaves a list's items unknown where mypy makes them Any.
    return cast(Any, value) if isinstance(value, list) else None


def _as_mapping(value: object) -> Mapping[str, Any] | None:
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else None


def _strings(name: str, value: object, key: str) -> list[str]:
    items = _as_list(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise _bad(name, f"needs `{key}` as a non-empty list of strings")
    return items


def _options(name: str, value: object, key: str) -> list[str]:
    options = [_as_mapping(o) for o in _as_list(value) or ()]
    consts: list[str] = []
    for o in options:
        if o is None or set(o) != {"const", "title"} or not isinstance(o["title"], str):
            break
        if isinstance(o["const"], str):
            consts.append(o["const"])
    if not options or len(consts) != len(options):
        raise _bad(name, f"needs `{key}` as a non-empty list of {{const, title}} strings")
    return consts


def _count(name: str, prop: Mapping[str, Any], *keys: str, number: bool = False) -> None:
    for key in keys:
        value = prop.get(key)
        kinds = (int, float) if number else (int,)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, kinds) or (not number and value < 0)
        ):
            raise _bad(
                name,
                f"has `{key}` {value!r}; it must be a "
                f"{'number' if number else 'non-negative integer'}",
            )


def _kind(name: str, prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "string":
        return "enum" if "enum" in prop else "oneOf" if "oneOf" in prop else "string"
    if kind in ("number", "integer"):
        return "number"
    if kind in ("boolean", "array"):
        return str(kind)
    raise _bad(
        name,
        f"has type {kind!r}; allowed are string, number, integer, boolean, and "
        "array for a multi-select enum",
    )


def _array_choices(name: str, prop: Mapping[str, Any]) -> list[str]:
    items = _as_mapping(prop.get("items"))
    if items is None:
        raise _bad(name, "is an array without an `items` object")
    _count(name, prop, "minItems", "maxItems")
    if "enum" in items and set(items) <= {"type", "enum"} and items.get("type") == "string":
        return _strings(name, items["enum"], "items.enum")
    for key in ("anyOf", "oneOf"):  # the schema says anyOf; SEP-1330's text says oneOf
        if set(items) == {key}:
            return _options(name, items[key], f"items.{key}")
    raise _bad(
        name,
        "is an array whose `items` is not a string enum: only multi-select enums may be arrays",
    )


def _kind_choices(name: str, prop: Mapping[str, Any], kind: str) -> list[str] | None:
    """Check the keywords of one kind of property; its choices, for the enum kinds."""
    if kind == "enum":
        choices = _strings(name, prop["enum"], "enum")
        names = prop.get("enumNames")  # legacy titles (SEP-1330), still read
        if names is not None and len(_strings(name, names, "enumNames")) != len(choices):
            raise _bad(name, "has `enumNames` of a different length than `enum`")
        return choices
    if kind == "oneOf":
        return _options(name, prop["oneOf"], "oneOf")
    if kind == "array":
        return _array_choices(name, prop)
    if kind == "string":
        _count(name, prop, "minLength", "maxLength")
        if prop.get("format", "email") not in _FORMATS:
            raise _bad(name, f"has format {prop['format']!r}; allowed are {sorted(_FORMATS)}")
    elif kind == "number":
        _count(name, prop, "minimum", "maximum", number=True)
    return None


def _check_property(name: str, value: object) -> None:
    prop = _as_mapping(value)
    if prop is None:
        raise _bad(name, "is not a JSON object")
    kind = _kind(name, prop)
    extra = set(prop) - _KEYS[kind]
    if extra:
        raise _bad(name, f"has keywords {sorted(extra)} that form elicitation does not allow")
    for key in ("title", "description", "pattern"):
        if key in prop and not isinstance(prop[key], str):
            raise _bad(name, f"has a non-string `{key}`")
    choices = _kind_choices(name, prop, kind)
    if "default" in prop:
        _check_default(name, prop, kind, choices)


def _check_default(
    name: str, prop: Mapping[str, Any], kind: str, choices: list[str] | None
) -> None:
    default = prop["default"]
    if kind == "array":
        chosen = _as_list(default)
        ok = chosen is not None and all(d in (choices or ()) for d in chosen)
    elif choices is not None:
        ok = default in choices
    elif kind == "number":
        ok = not isinstance(default, bool) and isinstance(
            default, int if prop["type"] == "integer" else (int, float)
        )
    else:
        ok = isinstance(default, bool if kind == "boolean" else str)
    if not ok:
        raise _bad(
            name, f"has default {default!r}, which does not fit its type or choices (SEP-1034)"
        )


def check_requested_schema(schema: Mapping[str, Any]) -> None:
    """Raise ValueError, naming the property, unless `schema` is within the restricted
    subset form elicitation allows (a flat object of primitive properties)."""
    root = _as_mapping(schema)
    if root is None or root.get("type") != "object":
        raise ValueError(f"requestedSchema must be an object schema with type 'object' ({_WHERE})")
    extra = set(root) - _ROOT_KEYS
    if extra:
        raise ValueError(
            f"requestedSchema has keywords {sorted(extra)} that form "
            f"elicitation does not allow ({_WHERE})"
        )
    properties = _as_mapping(root.get("properties"))
    if properties is None:
        raise ValueError(f"requestedSchema needs a `properties` object ({_WHERE})")
    for name, prop in properties.items():
        _check_property(name, prop)
    required = _as_list(root.get("required", []))
    if required is None or not all(isinstance(r, str) for r in required):
        raise ValueError("requestedSchema `required` must be a list of property names")
    unknown = [r for r in required if r not in properties]
    if unknown:
        raise ValueError(f"requestedSchema requires {unknown!r}, which are not properties")


# ------------------------------------------------------------------ reading back


@overload
def validate_content(tp_or_schema: type[T], content: Mapping[str, Any]) -> T: ...


@overload
def validate_content(
    tp_or_schema: Mapping[str, Any], content: Mapping[str, Any]
) -> dict[str, Any]: ...


def validate_content(tp_or_schema: Any, content: Mapping[str, Any]) -> Any:
    """The client's accepted `content` as the typed value (or the dict, for a raw schema).

    Raises ValueError naming the field that is missing or wrong.
    """
    given = _as_mapping(content)
    if given is None:
        raise ValueError(f"elicitation content must be an object, got {type(content).__name__}")
    schema = _as_mapping(tp_or_schema)
    if schema is not None:
        return _validate_raw(schema, given)
    form, rebuild = _form_type(tp_or_schema)
    try:
        value = msgspec.convert(dict(given), form, strict=False)
    except msgspec.ValidationError as exc:
        detail, _, path = str(exc).partition(" - at `")
        detail = detail[:1].lower() + detail[1:]
        if not path:
            raise ValueError(detail.removeprefix("object ")) from None
        field = path.rstrip("`")[2:].split(".", 1)[0].split("[", 1)[0]
        raise ValueError(f"field `{field}`: {detail} (at `{path.rstrip('`')}`)") from None
    if rebuild:  # the user's own class, from the mirror that checked the fields
        value = msgspec.convert(value, tp_or_schema, from_attributes=True)
    return value


def _validate_raw(schema: Mapping[str, Any], content: Mapping[str, Any]) -> dict[str, Any]:
    import jsonschema_rs  # compiled only when a raw schema is used

    validator = jsonschema_rs.validator_for(dict(schema))
    problems = [
        f"field `{e.instance_path[0]}`: {e.message}" if e.instance_path else e.message
        for e in validator.iter_errors(dict(content))
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return dict(content)
