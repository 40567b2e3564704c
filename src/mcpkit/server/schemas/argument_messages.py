"""How arguments that do not fit a function's parameters are said: `ArgumentError`, and
msgspec's errors reworded for the model that sent the arguments (SEP-1303: the argument's
name, the JSON path of the bad value, what was expected, the allowed values of an enum).
Apart from `signature`, which decodes and checks arguments, because these run only when a
check fails, never on a call whose arguments fit.
"""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.errors import McpkitError

__all__ = ["ArgumentError", "argument_error", "json_kind", "with_choices"]


class ArgumentError(McpkitError):
    """Arguments that do not fit a function's parameters.

    The message is written for the model that sent them (SEP-1303): it names the argument,
    the JSON path of the bad value, and what was expected. `argument` is the parameter's
    name and `path` the JSONPath (`$.a.b[0]`) when one is known.
    """

    def __init__(
        self, message: str, *, argument: str | None = None, path: str | None = None
    ) -> None:
        """`argument` and `path` are kept apart from the message for callers that act on
        them: `signature` adds an enum's values only where `path` is the argument itself."""
        super().__init__(message)
        self.argument = argument
        self.path = path


def json_kind(value: object) -> str:
    """How a message names a JSON value's kind ("an array", "a string", ...)."""
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, str):
        return "a string"
    # Before the numbers: a bool is an int to Python, but `true` is no number in JSON.
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


def argument_error(message: str) -> ArgumentError:
    """Reword msgspec's `<what> - at `$.a.b`` so it leads with the argument's name."""
    detail, _, path = message.partition(" - at `")
    path = path.rstrip("`")
    missing = detail.startswith("Object missing required field `")
    # A missing field has no path of its own (the object lacks it): its name is in the text.
    if not path and missing:
        name = detail.split("`")[1]
        return ArgumentError(f"missing required argument `{name}`", argument=name, path=f"$.{name}")
    if not path:
        return ArgumentError(f"invalid arguments: {detail}")
    # The argument is the first step of the path: `$.items[2].id` is in `items`.
    name = path[2:].split(".", 1)[0].split("[", 1)[0]
    detail = detail[:1].lower() + detail[1:]
    return ArgumentError(
        f"argument `{name}` is invalid: {detail} (at `{path}`)", argument=name, path=path
    )


def with_choices(error: ArgumentError, schema: dict[str, Any]) -> ArgumentError:
    """Name the allowed values when a top-level argument is not one of its enum's: the
    model that picked a wrong one can pick again from the message alone (SEP-1303)."""
    prop = schema["properties"].get(error.argument, {})
    choices: list[Any] = []
    # An optional enum is an `anyOf` beside null, so its values are looked for in each branch.
    for branch in prop.get("anyOf", [prop]):
        ref = branch.get("$ref")
        if isinstance(ref, str):
            branch = schema.get("$defs", {}).get(ref.rsplit("/", 1)[1], {})
        choices += branch.get("enum", [])
    if not choices:
        return error
    # As JSON, so that "1" and 1, or "null" and null, read as the different values they are.
    allowed = ", ".join(msgspec.json.encode(c).decode() for c in choices)
    return ArgumentError(
        f"{error}; expected one of: {allowed}", argument=error.argument, path=error.path
    )
