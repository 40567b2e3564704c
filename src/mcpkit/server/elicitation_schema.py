"""Form-mode elicitation schemas: built from flat typed classes, and read back (checked by
`mcpkit.server.elicitation_checks`, whose `check_requested_schema` is re-exported here).

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
from typing import Annotated, Any, Final, TypeVar, overload

import msgspec

from mcpkit.server.elicitation_checks import (
    REQUESTED_SCHEMA,
    as_mapping,
    check_requested_schema,
)
from mcpkit.server.schemas._fields import read_parameter

__all__ = [
    "EnumTitles",
    "check_requested_schema",
    "property_schema",
    "requested_schema",
    "validate_content",
]

T = TypeVar("T")

#: The field types that become a primitive property: the spec's string, number, integer and
#: boolean, and the dates, which are strings of format `date` and `date-time`.
_PRIMITIVES: Final = (str, int, float, bool, datetime.date, datetime.datetime)


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
    """The values of a Literal or Enum, None for any other type. Strings only: every enum
    shape of "Requested Schema" is of strings, so an int-valued Enum has no form."""
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
    """The `{const, title}` options of a titled enum. A value without a title is refused:
    each option needs both, and a value left out could never be chosen."""
    missing = [v for v in values if v not in titles.titles]
    if missing:
        raise TypeError(f"field {name!r}: EnumTitles has no title for {missing!r}")
    return [{"const": v, "title": titles.titles[v]} for v in values]


def _schema(tp: Any, metas: list[Any]) -> dict[str, Any]:
    """msgspec's schema of `tp` with its Meta: title, description, bounds, lengths and
    pattern under the JSON Schema names the spec uses. What form mode lacks (a `gt` bound
    becomes `exclusiveMinimum`) is left for `check_requested_schema` to refuse."""
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
        # As list[str], so that msgspec writes the array's own keys from the field's Meta
        # (minItems, maxItems); `items` is then replaced by the enum it could not know of.
        prop = _schema(list[str], metas)
        # EnumTitles may sit on the item type or on the list field; the item's wins.
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
            f"datetime, Literal or Enum, and lists of those enums ({REQUESTED_SCHEMA})"
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
        # The schema's `default` is a value, so a factory is called once here to get one.
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
        # None is no value a form can pre-fill: an optional field defaulting to it is only
        # left out of `required`.
        if default is not msgspec.NODEFAULT and default is not None:
            prop["default"] = msgspec.to_builtins(default)
        properties[name] = prop
        if is_required:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    # Checked as a raw schema would be: msgspec may write a key form mode does not allow,
    # and a default may fall outside its choices. TypeError, since the class is at fault.
    try:
        check_requested_schema(schema)
    except ValueError as exc:
        raise TypeError(f"{getattr(tp, '__name__', tp)}: {exc}") from None
    return schema


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
    given = as_mapping(content)
    if given is None:
        raise ValueError(f"elicitation content must be an object, got {type(content).__name__}")
    schema = as_mapping(tp_or_schema)
    if schema is not None:
        return _validate_raw(schema, given)
    form, rebuild = _form_type(tp_or_schema)
    # Not strict: a number typed into a client's text field may come back as a string.
    try:
        value = msgspec.convert(dict(given), form, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says "Expected `int`, got `str` - at `$.age`": reworded to lead with the
        # field's name, which is what the user filled in.
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
    """`content` checked against a raw schema, which has no class to convert into: it is
    returned as the dict it was, and every problem found is named at once."""
    import jsonschema_rs  # compiled only when a raw schema is used

    validator = jsonschema_rs.validator_for(dict(schema))
    problems = [
        f"field `{e.instance_path[0]}`: {e.message}" if e.instance_path else e.message
        for e in validator.iter_errors(dict(content))
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return dict(content)
