"""The check of a form-mode elicitation schema, whoever wrote it (built from a class by
`mcpkit.server.elicitation_schema`, or given raw): a flat object of primitive properties, each
with only the keys its kind allows (spec: client/elicitation, "Requested Schema"; SEP-1330 for
the enum shapes, SEP-1034 for defaults). Apart from the building, because a raw schema is
checked without anything being built, and each error names the property and what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

__all__ = ["REQUESTED_SCHEMA", "as_mapping", "check_requested_schema"]

#: The four string formats "Requested Schema" lists. Any other is refused here rather than sent
#: to a client that was never told to expect it.
_FORMATS: Final = frozenset({"email", "uri", "date", "date-time"})
#: What every primitive kind takes (schema.ts: StringSchema, NumberSchema, BooleanSchema and the
#: enum schemas); `default` on all of them since SEP-1034.
_COMMON: Final = frozenset({"type", "title", "description", "default"})
#: The keys each kind allows, by the kind `_kind` names rather than the JSON `type`: a string
#: with `enum` or `oneOf` is an enum, and `integer` shares `number`'s keys. `pattern` follows the
#: spec text's String Schema example, though schema.ts's StringSchema leaves it out.
_KEYS: Final = {
    "string": _COMMON | {"minLength", "maxLength", "pattern", "format"},
    "enum": _COMMON | {"enum", "enumNames"},
    "oneOf": _COMMON | {"oneOf"},
    "number": _COMMON | {"minimum", "maximum"},
    "boolean": _COMMON,
    "array": _COMMON | {"items", "minItems", "maxItems"},
}
#: The root's keys: schema.ts's requestedSchema ($schema, type, properties, required), and a
#: `title` and `description`, which name and explain the form without nesting anything in it.
_ROOT_KEYS: Final = frozenset({"$schema", "type", "properties", "required", "title", "description"})
#: The spec's section every error names.
REQUESTED_SCHEMA: Final = "client/elicitation, Requested Schema"


def _bad(name: str, what: str) -> ValueError:
    """The error for property `name`. It ends with the spec's section, so the schema's author
    learns both which property to change and where the rule is written."""
    return ValueError(f"requestedSchema property {name!r} {what} ({REQUESTED_SCHEMA})")


def _as_list(value: object) -> list[Any] | None:
    # Through Any: pyright leaves a list's items unknown where mypy makes them Any.
    return cast(Any, value) if isinstance(value, list) else None


def as_mapping(value: object) -> Mapping[str, Any] | None:
    """`value` as a mapping, or None. A raw schema is JSON from anywhere, so each level is
    tested before it is indexed; `elicitation_schema` reads a client's content the same way."""
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else None


def _strings(name: str, value: object, key: str) -> list[str]:
    """The strings at `key`. An empty list is refused: an enum without values gives the user
    nothing to choose, and no answer could satisfy it."""
    items = _as_list(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise _bad(name, f"needs `{key}` as a non-empty list of strings")
    return items


def _options(name: str, value: object, key: str) -> list[str]:
    """The consts of a titled enum. Each option must be exactly `{const, title}` with string
    values (schema.ts: TitledSingleSelectEnumSchema, and the titled multi-select's items), since
    the consts returned are what a default, and later an answer, is checked against."""
    options = [as_mapping(o) for o in _as_list(value) or ()]
    consts: list[str] = []
    for o in options:
        if o is None or set(o) != {"const", "title"} or not isinstance(o["title"], str):
            break
        if isinstance(o["const"], str):
            consts.append(o["const"])
    # A malformed option stops the loop early and a non-string const is skipped; either way
    # `consts` comes up short of `options`, and the whole list is refused.
    if not options or len(consts) != len(options):
        raise _bad(name, f"needs `{key}` as a non-empty list of {{const, title}} strings")
    return consts


def _count(name: str, prop: Mapping[str, Any], *keys: str, number: bool = False) -> None:
    """Check each of `keys` present: a length or item count is a non-negative integer, a bound
    (`number`) any number. bool is refused by name, because Python counts it an int while JSON's
    `true` is no number at all."""
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
    """The kind that picks a property's allowed keys: its JSON `type`, a string split by the
    enum keyword it carries. An array is let through here only to be held to a multi-select
    enum by `_array_choices`; any other type, an object above all, is the nesting form mode
    leaves out."""
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
    """The choices of a multi-select: `items` is an untitled string enum (`{type, enum}`) or a
    titled list of options and nothing more, since an array of anything else is one of the
    "arrays of objects (beyond enums)" the spec says are not supported."""
    items = as_mapping(prop.get("items"))
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
    """Check one entry of `properties`. A key outside its kind's set is refused, not ignored:
    a client need not understand it, so a constraint the server counted on could be dropped
    without a word."""
    prop = as_mapping(value)
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
    """Check a default against its property (SEP-1034). Clients that support defaults
    pre-populate the form with them, so one that does not fit would be shown to the user and
    then refused: a multi-select's must be a list of its choices, an enum's one of them, and a
    number's an int for `integer`, never a bool."""
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
    subset form elicitation allows (a flat object of primitive properties).

    Called on every form schema before it is sent: on what `requested_schema` built from a
    class, on a one-value form (`asking.elicitation_value`), and on a raw dict a tool passed
    (`asking.client_asks`), the case with nothing else to vouch for it.
    """
    root = as_mapping(schema)
    if root is None or root.get("type") != "object":
        raise ValueError(
            f"requestedSchema must be an object schema with type 'object' ({REQUESTED_SCHEMA})"
        )
    extra = set(root) - _ROOT_KEYS
    if extra:
        raise ValueError(
            f"requestedSchema has keywords {sorted(extra)} that form "
            f"elicitation does not allow ({REQUESTED_SCHEMA})"
        )
    properties = as_mapping(root.get("properties"))
    if properties is None:
        raise ValueError(f"requestedSchema needs a `properties` object ({REQUESTED_SCHEMA})")
    for name, prop in properties.items():
        _check_property(name, prop)
    required = _as_list(root.get("required", []))
    if required is None or not all(isinstance(r, str) for r in required):
        raise ValueError("requestedSchema `required` must be a list of property names")
    # A required name with no property would ask for a field the form never shows, so no
    # answer could be accepted.
    unknown = [r for r in required if r not in properties]
    if unknown:
        raise ValueError(f"requestedSchema requires {unknown!r}, which are not properties")
