"""`key=value` words turned into tool or prompt arguments, each value read as the input schema
types it, and refused (UsageError) before anything is sent when it cannot fit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

from mcpkit.server.schemas._coercion import NUMBER_STRING, integral_floats_as_ints

__all__ = [
    "UsageError",
    "as_list",
    "as_object",
    "convert",
    "listing",
    "missing_name",
    "named",
    "prompt_arguments",
    "shown_value",
    "split_pairs",
    "tool_arguments",
]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def as_object(value: object) -> dict[str, Any]:
    """A JSON value read as an object (a schema, a property): {} if it is not one."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """A JSON value read as an array: [] if it is not one."""
    items: list[Any] = []
    if isinstance(value, list):
        items.extend(cast("list[object]", value))
    return items


class UsageError(ValueError):
    """The user's command cannot be sent as it is; the message says what to change (exit 2)."""


def named(items: Iterable[T], name: str, kind: str) -> T:
    """The item called `name` (a tool, a prompt), or a usage error that suggests the closest
    names and lists the server's, in the server's order."""
    by_name = {item.name: item for item in items}
    if name not in by_name:
        import difflib

        close = difflib.get_close_matches(name, by_name, n=3)
        guess = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UsageError(f"the server has no {kind} {name!r}{guess} ({listing(by_name, kind)})")
    return by_name[name]


def missing_name(names: Iterable[str], kind: str, usage: str) -> UsageError:
    """The error for a command that names no tool (or prompt): what to add, and the server's
    names to choose from."""
    return UsageError(f"the {kind}'s name is missing: {usage} ({listing(names, kind)})")


def listing(names: Iterable[str], kind: str) -> str:
    known = ", ".join(names)
    return f"its {kind}s: {known}" if known else f"it has no {kind}s"


def shown_value(value: object) -> str:
    """A schema's value (a default) as people type it: a string as it is, `""` for the empty
    one, anything else as JSON (`3`, `true`, `null`, `["a"]`)."""
    if isinstance(value, str) and value:
        return value
    return json.dumps(value)


def split_pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """`["n=3", "city=Oslo"]` as pairs; a word without `=` is refused."""
    pairs: list[tuple[str, str]] = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise UsageError(f"{word!r} is not key=value; write it as name=value, as in n=3")
        pairs.append((key, value))
    return pairs


def tool_arguments(
    schema: Mapping[str, Any], pairs: Sequence[tuple[str, str]], whole: str | None
) -> dict[str, Any]:
    """The arguments of a `tools/call`: `--json` text (the whole object) and then `pairs`,
    each value converted to the type its property declares; checked against `schema`."""
    arguments: dict[str, Any] = {}
    if whole is not None:
        try:
            loaded = json.loads(whole)
        except json.JSONDecodeError as exc:
            hint = "give an object, as in '{\"n\": 3}'"
            raise UsageError(f"--args is not JSON ({exc}); {hint}") from None
        whole_object = as_object(loaded)
        if not isinstance(loaded, dict):
            raise UsageError("--args must be a JSON object, as in '{\"n\": 3}'")
        arguments.update(whole_object)
    properties = as_object(schema.get("properties"))
    for key, text in pairs:
        # A key the schema does not list is most likely a typo: refused unless the schema
        # explicitly takes more (JSON Schema's default allows them; a person rarely means it).
        if key not in properties and not schema.get("additionalProperties"):
            raise UsageError(f"unknown argument {key!r}; {_known(properties)}")
        arguments[key] = convert(key, text, as_object(properties.get(key)))
    _check(schema, arguments, properties)
    return arguments


def convert(key: str, text: str, prop: Mapping[str, Any]) -> Any:
    """`text` as the JSON type `prop` declares (the first that fits of a type list)."""
    types = _types(prop)
    if not types:  # no type said (anyOf, $ref, {}): JSON if it reads as JSON, else the text
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    for kind in types:
        ok, value = _as(kind, text)
        if ok:
            return value
    hint = " or ".join(types)
    raise UsageError(f"argument {key!r} must be {hint}; {text!r} is not")


def _types(prop: Mapping[str, Any]) -> list[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in as_list(prop.get("type")) if isinstance(t, str)]
    # Optional[X] comes as anyOf [X, null]: read the value as the alternatives' types
    found: list[str] = []
    for alternative in as_list(prop.get("anyOf") or prop.get("oneOf")):
        found.extend(_types(as_object(alternative)))
    return found


def _as(kind: str, text: str) -> tuple[bool, Any]:
    if kind == "string":
        return True, text
    if kind in ("integer", "number"):
        # JSON's number grammar, and JSON Schema's rule the server keeps too: a whole number
        # is an integer however it is written (3.0, 1e3), so `a=3.0` fits an integer.
        if not re.fullmatch(NUMBER_STRING, text):
            return False, None
        number = json.loads(text)
        if kind == "number":
            return True, number
        whole = integral_floats_as_ints(number)
        return isinstance(whole, int), whole
    if kind == "boolean":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return True, lowered in _TRUE
        return False, None
    if kind == "null":
        return text == "null", None
    try:  # array, object: JSON text
        value = json.loads(text)
    except json.JSONDecodeError:
        return False, None
    expected = list if kind == "array" else dict
    return isinstance(value, expected), value


def _check(schema: Mapping[str, Any], arguments: dict[str, Any], props: Mapping[str, Any]) -> None:
    """The whole object against the schema, so a missing or wrong value is refused here,
    not sent (the server would answer the same with an error result, SEP-1303)."""
    import jsonschema_rs

    for name in as_list(schema.get("required")):
        if name not in arguments:
            raise UsageError(
                f"missing argument {name!r} ({_type_of(props.get(str(name)))}); add {name}=..."
            )
    try:
        validator = jsonschema_rs.validator_for(dict(schema))
    except (ValueError, jsonschema_rs.ValidationError):
        return  # a schema we cannot compile: the server is the judge
    for error in validator.iter_errors(arguments):
        path = list(error.instance_path)
        # the top-level name, or the JSONPath of a nested value, as the server words it
        steps = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        where = repr(path[0]) if len(path) == 1 else f"${steps}" if path else "the arguments"
        prop = props.get(path[0]) if path and isinstance(path[0], str) else None
        expected = f" (the schema says {_type_of(prop)})" if prop is not None else ""
        raise UsageError(
            f"argument {where} is refused by the tool's schema{expected}: {error.message}"
        )


def _type_of(prop: object) -> str:
    schema = as_object(prop)
    types = _types(schema)
    text = " or ".join(types) if types else "any type"
    if isinstance(schema.get("enum"), list):
        text += " (one of " + ", ".join(json.dumps(v) for v in as_list(schema["enum"])) + ")"
    return text


def _known(properties: Mapping[str, Any]) -> str:
    if not properties:
        return "this takes no arguments"
    return "it takes " + ", ".join(sorted(properties))


def prompt_arguments(
    declared: Sequence[tuple[str, bool]], pairs: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """A prompt's arguments (always strings): unknown names and missing required ones are
    refused. `declared` is (name, required) per argument the prompt lists."""
    names = {name for name, _ in declared}
    arguments: dict[str, str] = {}
    for key, value in pairs:
        if key not in names:
            known = "it takes " + ", ".join(sorted(names)) if names else "it takes no arguments"
            raise UsageError(f"unknown argument {key!r}; {known}")
        arguments[key] = value
    for name, required in declared:
        if required and name not in arguments:
            raise UsageError(f"missing argument {name!r}; add {name}=...")
    return arguments
