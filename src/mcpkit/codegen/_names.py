"""Python identifiers for what a server names freely (tools, properties, schema definitions):
valid, ASCII, never a keyword or a name the generated code itself uses, and distinct within
their scope however many server names fold onto one."""

from __future__ import annotations

import builtins
import keyword
import re

__all__ = ["RESERVED", "Scope", "class_name", "is_identifier", "snake_name"]

#: Names no generated identifier takes: keywords, builtins (an attribute or parameter named
#: `int` would hide the type in the annotations around it) and what generated modules import.
RESERVED: frozenset[str] = frozenset(
    {
        *keyword.kwlist,
        *keyword.softkwlist,
        *dir(builtins),
        *("annotations", "self", "cls", "typing", "enum", "json", "sys", "asyncio", "argparse"),
        *("Any", "Literal", "NotRequired", "TypeAlias", "TypedDict", "cast", "Mapping"),
        *("Client", "ToolError", "ToolResult", "Omitted", "OMITTED", "mcpkit", "main"),
    }
)


def is_identifier(text: str) -> bool:
    """Whether `text` may name something in generated source: an ASCII identifier, not a
    keyword or soft keyword, and not a dunder (`__init__`, `__class__`: Python's own)."""
    return (
        text.isascii()
        and text.isidentifier()
        and not keyword.iskeyword(text)
        and not keyword.issoftkeyword(text)
        and not (text.startswith("__") and text.endswith("__"))
    )


_NOT_WORD = re.compile(r"[^0-9A-Za-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_name(text: str, fallback: str) -> str:
    """`text` as a lower_snake identifier (`maxResults` -> `max_results`, `a-b c` -> `a_b_c`);
    `fallback` when nothing of it is ASCII letters or digits."""
    words = [w for w in _NOT_WORD.split(_CAMEL.sub("_", text)) if w]
    name = "_".join(words).lower() or fallback
    return f"{fallback}_{name}" if name[0].isdigit() else name


def class_name(text: str, fallback: str) -> str:
    """`text` as a CapWords identifier (`sign_up` -> `SignUp`); `fallback` when empty."""
    words = [w for w in _NOT_WORD.split(_CAMEL.sub("_", text)) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or fallback
    return f"{fallback}{name}" if name[0].isdigit() else name


class Scope:
    """The names taken in one scope (a module, a class, a parameter list): `take` returns a
    name no one else in it has, adding `_2`, `_3`... to a name already taken or reserved."""

    def __init__(self, reserved: frozenset[str] = RESERVED, *, identifiers: bool = True) -> None:
        self._reserved = reserved
        self._identifiers = identifiers  # False: names only ever written as string literals
        self._taken: set[str] = set()

    def take(self, wanted: str) -> str:
        # a reserved word gets PEP 8's trailing underscore (`class_`); a clash, a number
        name = wanted + "_" if wanted in self._reserved else wanted
        base, n = name, 1
        while name in self._taken or name in self._reserved:
            n += 1
            name = f"{base}_{n}"
        if self._identifiers and not is_identifier(name):
            raise ValueError(f"{name!r} (from {wanted!r}) cannot be a generated identifier")
        self._taken.add(name)
        return name

    def __contains__(self, name: str) -> bool:
        return name in self._taken or name in self._reserved
