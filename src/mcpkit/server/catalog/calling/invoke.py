"""Reading user handlers: Context injection and the choices Literal and Enum hints give."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Injected", "argument_choices", "context_parameter", "is_context_annotation"]


class Injected:
    """The base of `mcpkit.Context`, the one type a handler parameter asks the server for by
    its annotation. Named here, below the tools, resources and prompts that look for it,
    because the Context itself knows its server, whose registries hold those handlers: an
    import of it from here would close an import cycle."""

    __slots__ = ()


def is_context_annotation(annotation: Any) -> bool:
    """Whether a parameter annotation asks for the Context (also inside Optional/Annotated)."""
    # The string too: an annotation that could not be resolved (Context imported only under
    # TYPE_CHECKING) still names it, and must not become an argument.
    if annotation == "Context" or (
        isinstance(annotation, type) and issubclass(annotation, Injected)
    ):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_context_annotation(typing.get_args(annotation)[0])
    # Any other generic: a union (`Context | None`) asks for it if any member does.
    if origin is not None:
        return any(is_context_annotation(a) for a in typing.get_args(annotation))
    return False


# What typing.get_type_hints raises for hints it cannot evaluate: a name not in scope, a
# string that is not an expression, a subscript of something that takes none.
_UNRESOLVABLE = (NameError, SyntaxError, TypeError, AttributeError)


def context_parameter(fn: Callable[..., Any]) -> str | None:
    """The name of `fn`'s Context parameter, if it has one."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except _UNRESOLVABLE:  # a forward reference to a name not in scope: the raw annotations
        hints = getattr(fn, "__annotations__", {})
    for name in inspect.signature(fn).parameters:
        if name in hints and is_context_annotation(hints[name]):
            return name
    return None


def argument_choices(
    fn: Callable[..., Any], wire_names: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Parameters whose hint is a Literal or an Enum, with their values as strings: what
    completion offers for them when no completer is registered. Keyed by the arguments'
    names, `wire_names` mapping a parameter to its argument where they differ (an alias)."""
    import enum

    try:
        hints = typing.get_type_hints(fn)
    except _UNRESOLVABLE:  # the input schema's builder already said so when it was registered
        return {}
    choices: dict[str, list[str]] = {}
    renamed = wire_names or {}
    for parameter, hint in hints.items():
        if parameter == "return":
            continue
        name = renamed.get(parameter, parameter)
        # The hint itself, then its members: an optional Literal or Enum offers its values
        # as well. Values as strings, since completion answers with strings.
        args = typing.get_args(hint) if typing.get_origin(hint) is not typing.Literal else (hint,)
        for candidate in (hint, *args):
            if typing.get_origin(candidate) is typing.Literal:
                choices[name] = [str(v) for v in typing.get_args(candidate)]
                break
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                choices[name] = [str(m.value) for m in candidate]
                break
    return choices
