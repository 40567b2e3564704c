"""An annotation with no JSON Schema, said as its author fixes it: which function, which
parameter (or the return annotation), the annotation as written, and the types that work."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, Final

from mcpkit.errors import UnsupportedAnnotation
from mcpkit.server.schemas._hints import schema_components

__all__ = ["TYPES_THAT_WORK", "unsupported"]

#: Named in every such error, so that its author reads what to write, not only what failed.
TYPES_THAT_WORK: Final = (
    "str, int, float, bool, None, list[T], dict[str, T], tuple[...], T | None, Literal[...], "
    "an Enum, a dataclass, a TypedDict, a msgspec.Struct, a pydantic model, or the datetime, "
    "uuid, decimal, pathlib and ipaddress types"
)
# The hook's own list of what works (`schema_components`): said once, by TYPES_THAT_WORK.
_ITS_LIST = re.compile(r": use builtins, .*$")
# msgspec's words (and the schema hook's) for a type it has no schema for.
_NO_SCHEMA = re.compile(r"^no JSON Schema for |^Type '.*' is not supported")
# Dotted prefixes (modules, an enclosing function's `<locals>`), cut from a repr so that the
# annotation reads as its author wrote it.
_QUALIFIERS = re.compile(r"(?:[A-Za-z_<][\w<>]*\.)+(?=[A-Za-z_])")
_PLAIN_CLASS = re.compile(r"no JSON Schema for <class '(?:[\w.<>]+\.)?(\w+)'>")


def unsupported(
    function: str, exc: TypeError, written: Mapping[str, Any], tested: Mapping[str, Any] = {}
) -> TypeError:
    """The UnsupportedAnnotation for `exc`, raised while `function`'s parameters became a
    schema (`tested`: the hint of each, by parameter name, as the schema reads it) or, with
    no `tested`, while its return annotation did; `written`: its annotations as written.
    A TypeError of `exc`'s text led by the function's name where that is no missing schema
    but a refusal naming its own fix, or where no one annotation fails alone (two types of
    one name)."""
    if not tested:
        return _error(function, None, written.get("return"), exc)
    # Each parameter's hint alone: the arguments' TypedDict fails as a whole, and the error
    # must name the one parameter to fix.
    for name, hint in tested.items():
        try:
            schema_components([hint])
        except TypeError as alone:
            return _error(function, name, written.get(name, hint), alone)
    return TypeError(f"{function}: {exc}")


def _error(function: str, parameter: str | None, annotation: Any, exc: TypeError) -> TypeError:
    """The error for the one annotation that failed (`parameter` None: the return one): where
    it is, as written, what is wrong with it, and the types that work."""
    if not _NO_SCHEMA.search(str(exc)):  # a refusal that names its own fix (a Field, an alias)
        return TypeError(f"{function}: {exc}")
    written = _written(annotation)
    if parameter is None:
        where = f"{function}() -> {written}: the return annotation"
    else:
        where = f"{function}({parameter}: {written}): the annotation of parameter {parameter!r}"
    detail = _arity(annotation) or _ITS_LIST.sub("", str(exc))
    detail = _PLAIN_CLASS.sub(
        r"\1 is a plain class: make it a dataclass, a TypedDict or a msgspec.Struct", detail
    )
    message = (
        f"{where} has no JSON Schema ({detail}); annotate it with a type that has one: "
        f"{TYPES_THAT_WORK}"
    )
    return UnsupportedAnnotation(
        message, function=function, parameter=parameter, annotation=annotation
    )


#: Generics that take one type, and what to write instead of several.
_ONE_TYPE: Final[dict[type, str]] = {list: "list", set: "set", frozenset: "frozenset"}


def _arity(annotation: Any) -> str | None:
    """What is wrong with a generic given the wrong number of types (`list[int, str]`,
    `dict[str]`), anywhere inside `annotation`; None when none is."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    name = _ONE_TYPE.get(origin) if isinstance(origin, type) else None
    if name is not None and len(args) != 1:
        return f"{name} takes one type: {name}[int], or {name}[int | str] for items of either"
    if origin is dict and len(args) != 2:
        return "dict takes a key type and a value type: dict[str, int]"
    return next((found for arg in args if (found := _arity(arg)) is not None), None)


def _written(annotation: Any) -> str:
    """The annotation as its author wrote it: `Point`, `list[int, str]`, `Point | None`
    (the modules and enclosing functions of its names left out)."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return _QUALIFIERS.sub("", repr(annotation))
