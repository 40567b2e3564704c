"""A function's parameters read as a tool's arguments: the hint of each argument (by its
wire name), the defaults the schema advertises and those the framework must fill, and the
parameters the framework injects instead."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import msgspec.inspect

from mcpkit.server.schemas._annotations import type_name
from mcpkit.server.schemas._fields import read_parameter

__all__ = ["Arguments", "Fill", "read_arguments"]

#: A parameter whose default the framework gives when its argument is omitted: its name,
#: the default, and the factory that makes a fresh one (None: the default itself).
Fill = tuple[str, Any, Callable[[], Any] | None]


class Arguments:
    """`fields`: wire name to `Required[hint]` or `NotRequired[hint]`; `python_names`:
    wire name to parameter name; `defaults`: by wire name, as the schema shows them;
    `rebuilds`: parameter name and hint of the values to build back from mirrors; `fills`:
    the defaults the framework gives (`Fill`); `injected`: the parameters that are no
    arguments; `accepts_extra`: the function takes `**kwargs`."""

    __slots__ = (
        "accepts_extra",
        "defaults",
        "fields",
        "fills",
        "injected",
        "python_names",
        "rebuilds",
    )

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.python_names: dict[str, str] = {}
        self.defaults: dict[str, Any] = {}
        self.fills: list[Fill] = []
        self.injected: list[str] = []
        self.rebuilds: list[tuple[str, Any]] = []
        self.accepts_extra = False

    def add(self, p: inspect.Parameter, hint: Any, doc: str | None, *, coerce: bool) -> None:
        """Take parameter `p` as an argument, `doc` its docstring's text. TypeError for
        what no schema can say (`read_parameter`), or a wire name taken twice."""
        spec = read_parameter(p.name, hint, p.default, coerce=coerce)
        if spec.rebuild:
            msgspec.inspect.type_info(hint)  # its classes resolve now, not at the first call
            self.rebuilds.append((p.name, hint))
        hint = spec.hint if doc is None else _described(spec.hint, doc)
        wire = spec.wire_name
        # An alias equal to another parameter's name would have one argument fill both.
        if wire in self.fields:
            raise TypeError(f"two parameters take the argument {wire!r}")
        self.python_names[wire] = p.name
        if spec.required:
            self.fields[wire] = typing.Required[hint]
            return
        self.fields[wire] = typing.NotRequired[hint]
        # Shown in the schema, so a model knows what leaving the argument out means.
        if spec.default is not p.empty:
            self.defaults[wire] = spec.default
        # Filled by the framework where the function cannot: a pydantic Field's default,
        # where the function's own default is the FieldInfo itself.
        if spec.filled:
            self.fills.append((p.name, spec.default, spec.factory))


def read_arguments(
    fn: Callable[..., Any],
    target: Any,
    hints: dict[str, Any],
    docs: dict[str, str],
    *,
    skip: Callable[[Any], bool],
    coerce: bool,
) -> Arguments:
    """`fn`'s parameters (hints and docs read from `target`, the function behind it)."""
    arguments = Arguments()
    for p in inspect.signature(fn).parameters.values():
        hint = hints.get(p.name, Any)  # unannotated: any JSON value, all that is known
        # `**kwargs` takes the arguments no parameter names; the schema then allows them.
        if p.kind is p.VAR_KEYWORD:
            arguments.accepts_extra = True
        elif p.kind is p.VAR_POSITIONAL:
            continue  # nothing in a JSON object can fill *args
        elif _is_skipped(hint, skip):
            arguments.injected.append(p.name)
        # A string `resolve_hints` could not resolve (a type imported only under
        # TYPE_CHECKING): refused at registration rather than taken as any value, which would
        # drop its checks without a word.
        elif isinstance(hint, str):
            raise TypeError(
                f"{type_name(target)}: cannot resolve the annotation {hint!r} of parameter "
                f"{p.name!r}; import the types it uses at module level"
            )
        # Arguments arrive as a JSON object, by name: nothing could fill it.
        elif p.kind is p.POSITIONAL_ONLY:
            raise TypeError(
                f"{type_name(target)}: positional-only parameter {p.name!r} "
                "cannot be filled from named arguments"
            )
        else:
            try:
                arguments.add(p, hint, docs.get(p.name), coerce=coerce)
            except TypeError as exc:
                raise TypeError(f"{type_name(target)}: {exc}") from exc
    return arguments


def _is_skipped(hint: object, skip: Callable[[Any], bool]) -> bool:
    """Whether `skip` picks `hint` as injected, looking inside Annotated and unions: a
    `Context | None` parameter is injected as surely as a `Context` one."""
    if skip(hint):
        return True
    origin = typing.get_origin(hint)
    if origin is Annotated:
        return _is_skipped(typing.get_args(hint)[0], skip)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        return any(_is_skipped(a, skip) for a in typing.get_args(hint))
    return False


def _described(hint: Any, text: str) -> Any:
    """`hint` with a description put before its own metadata, so that a description in
    the hint itself (a later Meta, or a Field's) wins over the docstring's."""
    doc = msgspec.Meta(description=text)
    if typing.get_origin(hint) is Annotated:
        base, *extras = typing.get_args(hint)
        return Annotated[(base, doc, *extras)]
    return Annotated[hint, doc]
