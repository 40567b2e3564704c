"""Tool arguments that break a constraint of the input schema, worded for the model that sent
them (SEP-1303): `order.items[1].quantity: must be greater than 0 (got 0)`.

The schema the tool shows is what the model read, so the message speaks of it: the value's
JSON path, the rule it breaks in the schema's own terms (`exclusiveMinimum: 0` is "greater
than 0", though msgspec checks it as `>= 1`), and the value sent. Both ways a tool's
arguments are checked end here: msgspec's conversion (whose message names the check it ran,
and for a pydantic model only the outer argument) and a schema of the tool's own
(jsonschema-rs, whose messages read "0 is less than or equal to the minimum of 0"). Worked
out only for arguments already refused, by jsonschema-rs against the tool's input schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final, cast

import msgspec

from mcpkit.server.schemas.argument_messages import ArgumentError

__all__ = ["constraint_error", "dotted_path", "worded_errors"]

# A key written bare in a path (`order.items`); any other is quoted (`["a b"]`).
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_SHOWN: Final = 60  # characters of the value sent, at most, in a message
# Enough for the model to fix several mistakes in one retry, few enough to keep the
# message short when a large argument is wrong throughout.
_MAX_ERRORS: Final = 5

# (schema root id) -> (the root, its validator): built on a tool's first refused arguments.
_validators: dict[int, tuple[dict[str, Any], Any]] = {}
# Past it the memo starts afresh: a server whose tools are replaced over a long run must
# not grow it without bound.
_MAX_VALIDATORS: Final = 1024


def dotted_path(parts: Sequence[str | int]) -> str:
    """`order.items[1].quantity` for ["order", "items", 1, "quantity"]; `(arguments)` for []."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{msgspec.json.encode(part).decode()}]"
    return out or "(arguments)"


def _json(value: Any) -> str:
    """A value as the model sent it (JSON), cut to `_SHOWN` characters: a long string in
    the message would bury the rule it breaks."""
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


#: How each constraint keyword reads: the sentence, with its limit (as JSON, or counted in
#: the unit given).
_RULES: Final[dict[str, tuple[str, str]]] = {
    "exclusiveMinimum": ("must be greater than {}", ""),
    "minimum": ("must be greater than or equal to {}", ""),
    "exclusiveMaximum": ("must be less than {}", ""),
    "maximum": ("must be less than or equal to {}", ""),
    "multipleOf": ("must be a multiple of {}", ""),
    "minLength": ("must be at least {} long", "character"),
    "maxLength": ("must be at most {} long", "character"),
    "pattern": ("must match the pattern {}", ""),
    "minItems": ("must have at least {}", "item"),
    "maxItems": ("must have at most {}", "item"),
    "minProperties": ("must have at least {}", "property"),
    "maxProperties": ("must have at most {}", "property"),
    "uniqueItems": ("must not repeat an item", ""),
    "const": ("must be {}", ""),
}


def _rule(keyword: str, limit: Any) -> str:
    """What a value must be to meet `keyword: limit`."""
    if keyword == "enum":
        return "must be one of " + ", ".join(_json(option) for option in limit)
    sentence, unit = _RULES[keyword]
    if not unit:
        return sentence.format(_json(limit))
    # "1 item", "2 items", "2 properties": the English plural of the three units there are.
    units = unit if limit == 1 else (unit[:-1] + "ies" if unit.endswith("y") else unit + "s")
    return sentence.format(f"{limit} {units}")


def constraint_error(parts: Sequence[str | int], keyword: str, limit: Any, got: Any) -> str:
    """`quantity: must be greater than 0 (got 0)`: where, the rule in the schema's terms,
    and the value sent, so the model can correct exactly that value. `parts` is the JSON
    path from the arguments' root, `limit` the keyword's value in the schema."""
    return f"{dotted_path(parts)}: {_rule(keyword, limit)} (got {_json(got)})"


def _validator(schema: dict[str, Any]) -> Any:
    """The validator of a tool's input schema, kept (by the schema's identity)."""
    found = _validators.get(id(schema))
    # The schema is kept beside its validator: an id may be reused once a schema is freed,
    # and the identity check tells the new one from the old.
    if found is not None and found[0] is schema:
        return found[1]
    if len(_validators) >= _MAX_VALIDATORS:
        _validators.clear()
    validator = _compiled(schema)
    _validators[id(schema)] = (schema, validator)
    return validator


def _compiled(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator for `schema` (ValueError for one it cannot compile)."""
    import jsonschema_rs  # (a dependency, loaded on the first refused arguments)

    return jsonschema_rs.validator_for(schema)


def _resolve(root: dict[str, Any], node: Any) -> Any:
    """`node`, or the definition its `$ref` names. Only local `#/$defs/` references are
    followed, the form the schemas mcpkit makes use; any other is left as it is."""
    if not isinstance(node, dict):
        return node
    found = cast("dict[str, Any]", node)
    ref = found.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        defs: dict[str, Any] = root.get("$defs", {})
        return defs.get(ref.rsplit("/", 1)[1], found)
    return found


def _node_at(root: dict[str, Any], schema_path: Sequence[str | int]) -> Any:
    """The schema node an error's `schema_path` leads to, through its `$ref`s."""
    # The path is the validator's, which steps through `$ref` as a key of its own.
    node: Any = root
    for part in schema_path:
        node = _resolve(root, node) if part == "$ref" else node[part]
    return node


def _branch_errors(
    root: dict[str, Any], branches: list[Any], instance: Any, at: list[str | int]
) -> list[str] | None:
    """Where a value fits none of an `anyOf`'s branches: the errors of the one branch of its
    JSON type (an Optional's value against the non-null branch); None if not one such."""
    kind = _json_type(instance)
    fitting: list[dict[str, Any]] = []
    for branch in branches:
        node = _resolve(root, branch)
        if isinstance(node, dict):
            typed = cast("dict[str, Any]", node).get("type")
            # An integer also fits a "number" branch; an untyped branch fits anything.
            if typed in (None, kind) or (typed == "number" and kind == "integer"):
                fitting.append(cast("dict[str, Any]", node))
    # Several branches of the value's type: which one the model meant is a guess, so the
    # checker's own message is used instead.
    if len(fitting) != 1:
        return None
    # The branch is checked on its own, with the root's definitions so its `$ref`s resolve.
    sub = {**fitting[0], "$defs": root.get("$defs", {})}
    return _worded(sub, _compiled(sub), instance, at)


def _json_type(value: Any) -> str:
    """JSON Schema's type of a decoded JSON value; bool is tested before int, which it is."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _worded(
    root: dict[str, Any], validator: Any, instance: Any, at: list[str | int]
) -> list[str] | None:
    """The constraint errors of `instance`, worded; None if any error is of another kind."""
    words: list[str] = []
    for error in validator.iter_errors(instance):
        path = [*at, *error.instance_path]
        keyword = error.kind.name
        # An `anyOf` (an Optional, a union) fails as a whole: the branch the value's type
        # picks says what is wrong inside it.
        if keyword == "anyOf":
            inner = _branch_errors(root, _node_at(root, error.schema_path), error.instance, path)
            if inner is None:
                return None
            words += inner
        elif keyword in _RULES or keyword == "enum":
            words.append(constraint_error(path, keyword, error.kind.value, error.instance))
        else:
            # A wrong type or a missing argument: the whole message is left to the checker,
            # since half of the errors worded here would hide the rest.
            return None
        if len(words) >= _MAX_ERRORS:
            break
    return words


def worded_errors(schema: dict[str, Any], arguments: Any) -> ArgumentError | None:
    """The error of `arguments` against the input `schema` when each thing wrong with them is
    a constraint (a bound, a length, a pattern, an enum...), worded as "path: must be ...
    (got ...)"; None when they break none, or break something else too (a type, a missing
    argument: the checker's own message says it)."""
    # Arguments that are not an object fail on their type: the checker's message says so.
    if not isinstance(arguments, dict):
        return None
    try:
        words = _worded(schema, _validator(schema), arguments, [])
    except ValueError:  # (a pattern Python reads and jsonschema-rs does not, say `\Z`)
        return None
    if not words:
        return None
    # The error carries the first one's argument and JSON path, as msgspec's errors do.
    first = words[0].split(":", 1)[0]
    argument = first.split(".", 1)[0].split("[", 1)[0]
    return ArgumentError("; ".join(words), argument=argument, path=f"$.{first}")
