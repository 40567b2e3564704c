"""Tool transforms: a `ToolSpec` derived from another, with its own name, description and
arguments, that calls the original through an `Invoke` (docs/compose.md, "Tool transforms").

The derived tool validates its arguments against its own input schema, fills the defaults it
gives, maps each argument back to the original's name, adds the hidden ones, and hands them
to the original, whose result (an error too) is its own. A wrapper sits in between when given:
it gets the derived arguments and a `Forward` that calls the original with them
(`transform_wrap`).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, TypedDict, cast

import msgspec

from mcpkit.errors import ToolError
from mcpkit.server.catalog.calling.injection import with_dependencies
from mcpkit.server.catalog.calling.invoke import Injected, context_parameter
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name, make_tool
from mcpkit.server.catalog.transform_wrap import read_wrapper, run_wrapper
from mcpkit.server.catalog.visibility.tags import (
    TAGS_META_KEY,
    VERSION_META_KEY,
    tag_set,
    with_labels,
)
from mcpkit.server.schemas._hints import enc_hook
from mcpkit.types import CallToolResult, Tool, ToolAnnotations

__all__ = [
    "Arg",
    "Invoke",
    "ToolTransform",
    "ToolTransformOptions",
    "ToolTransforms",
    "derive_tool",
]


class _Missing:
    """No value given (None is a value an argument may take)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: The one `_Missing`, compared by identity.
MISSING: Final = _Missing()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Arg:
    """What becomes of one argument of the original tool in the derived one.

    `name`: its new name; `description`: its new description; `default`: the value used when
    the caller leaves it out (shown in the schema; it makes the argument optional);
    `required`: make it required, or optional (an argument the original requires needs a
    `default` for that). `hide=True` takes it out of the derived tool's schema; the original
    then gets `value`, or what `compute` returns (a function, sync or async, that may take
    the request's `Context` and other dependencies, docs/server.md), or, with neither, its
    own default."""

    name: str | None = None
    description: str | None = None
    default: Any = MISSING
    required: bool | None = None
    hide: bool = False
    value: Any = MISSING
    compute: Callable[..., Any] | None = None


class ToolTransformOptions(TypedDict, total=False):
    """What `ToolTransform` and `server.transform_tool()` take (their one list)."""

    name: str | None
    title: str | None
    description: str | None
    annotations: ToolAnnotations | None
    meta: dict[str, Any] | None
    tags: Iterable[str] | None
    arguments: Mapping[str, Arg] | None
    wrap: Callable[..., Any] | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ToolTransform:
    """A derived tool's differences from its original: `name`, `title`, `description`,
    `annotations`, `meta` and `tags` replace the original's (None keeps them; the version
    is the original's); `arguments` maps an
    argument of the original to its `Arg`; `wrap` is a function (sync or async) that gets
    the derived arguments by name and a parameter annotated `Forward`, and returns the
    result (a return hint with an output schema replaces the original's)."""

    name: str | None = None
    title: str | None = None
    description: str | None = None
    annotations: ToolAnnotations | None = None
    meta: dict[str, Any] | None = None
    tags: Iterable[str] | None = None
    arguments: Mapping[str, Arg] | None = None
    wrap: Callable[..., Any] | None = None


#: `mount(transforms=)`: a transform per tool (by its name in the mounted server), or a
#: function that gives one (or None) for each tool, given its wire `Tool`.
ToolTransforms = Mapping[str, ToolTransform] | Callable[[Tool], ToolTransform | None]

#: Runs the original tool with arguments by its own names, for the request of a Context.
Invoke = Callable[[Any, dict[str, Any]], Awaitable[CallToolResult]]


@dataclasses.dataclass(frozen=True, slots=True)
class _Mapping:
    """The derived arguments back to the original's: renames (derived -> original),
    defaults to fill (derived name -> value), hidden ones (original name -> Arg)."""

    renames: dict[str, str]
    defaults: dict[str, Any]
    hidden: dict[str, Arg]  # their `compute` already takes dependencies (`_with_dependencies`)

    @property
    def renamed(self) -> set[str]:
        """The original names of renamed arguments."""
        return set(self.renames.values())

    def check(self, arguments: Mapping[str, Any]) -> str | None:
        """An argument given by an original name the derived tool does not show (one that
        a schema open to more properties lets through): passed on, it would override a
        hidden value, or skip a rename."""
        for key in arguments:
            if key in self.hidden or (key not in self.renames and key in self.renamed):
                return key
        return None

    async def original_arguments(self, ctx: Any, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The original's arguments for a call with derived `arguments`: defaults filled,
        names mapped back, hidden values added (a `compute` run for this request's `ctx`).

        Every value goes through `_json`, since the original validates its arguments as if
        they came off the wire.
        """
        given = {**self.defaults, **arguments}
        mapped = {self.renames.get(k, k): _json(v) for k, v in given.items()}
        for name, arg in self.hidden.items():
            if arg.compute is not None:
                mapped[name] = _json(await _computed(arg.compute, ctx))
            elif arg.value is not MISSING:
                mapped[name] = _json(arg.value)
        return mapped


def _json(value: Any) -> Any:
    """`value` as JSON builtins, the form an argument has on the wire: a default or a hidden
    value may be a dataclass, a date or a mapping with non-text keys, which the original's
    validation would not take as they are."""
    return msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)


async def _computed(compute: Callable[..., Any], ctx: Any) -> Any:
    """What a hidden argument's `compute` gives for this request: it gets the `Context` when
    it takes one, and may be sync or async."""
    param = context_parameter(compute)
    value = compute(**({param: ctx} if param is not None else {}))
    return await value if inspect.isawaitable(value) else value


def _derived_schema(
    tool: str, schema: dict[str, Any], arguments: Mapping[str, Arg]
) -> tuple[dict[str, Any], _Mapping]:
    """The derived input schema and the way back to the original's arguments; ValueError
    for a transform that cannot be made."""
    properties = cast("dict[str, Any]", schema.get("properties") or {})
    required = set(cast("list[str]", schema.get("required") or []))
    # A transform naming an argument the original lacks is a typo or a stale transform:
    # refused here, where it is written, rather than ignored.
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        known = ", ".join(repr(p) for p in properties) or "none"
        raise ValueError(f"tool {tool!r} has no argument {unknown[0]!r} (its arguments: {known})")
    shown: dict[str, Any] = {}
    shown_required: list[str] = []
    mapping = _Mapping({}, {}, {})
    for original, prop in properties.items():
        arg = arguments.get(original, Arg())
        where = f"tool {tool!r}, argument {original!r}"
        if _hidden(where, arg, original in required):
            # Out of the derived schema; without a value or compute the original's own
            # default applies, as if the caller had left it out.
            mapping.hidden[original] = _with_dependencies(where, arg)
            continue
        new = arg.name or original
        if new in shown:
            raise ValueError(f"{where}: two arguments would be named {new!r}")
        shown[new], is_required = _shown_property(where, arg, prop, original in required)
        if is_required:
            shown_required.append(new)
        if new != original:
            mapping.renames[new] = original
        if arg.default is not MISSING:
            mapping.defaults[new] = arg.default
    # Other keywords of the original's schema (`additionalProperties`, `$defs`) stay: the
    # shown properties may refer to its definitions.
    derived = {**schema, "properties": shown, "required": shown_required}
    if not shown_required:
        del derived["required"]  # absent rather than empty, as mcpkit's own schemas are
    return derived, mapping


def _with_dependencies(where: str, arg: Arg) -> Arg:
    """`arg` with its `compute` taking dependencies as a handler does (`injection`);
    worked out once here, so a mistake in them is refused with the transform."""
    if arg.compute is None:
        return arg
    return dataclasses.replace(arg, compute=with_dependencies(arg.compute, f"{where} (compute=)"))


def _hidden(where: str, arg: Arg, required: bool) -> bool:
    """Whether `arg` hides its argument (checking it can); ValueError for a mix-up."""
    has_value = arg.value is not MISSING or arg.compute is not None
    if not arg.hide:
        # On a shown argument a value would never be used: refused, not ignored.
        if has_value:
            raise ValueError(f"{where}: value= and compute= are for a hidden one (hide=True)")
        return False
    if arg.value is not MISSING and arg.compute is not None:
        raise ValueError(f"{where}: give value= or compute=, not both")
    # Nobody sees a hidden argument, so a name, description or default for it would say
    # nothing; asking for one is a mix-up with a shown argument.
    if arg.name is not None or arg.description is not None or arg.default is not MISSING:
        raise ValueError(f"{where}: a hidden argument has no name, description or default")
    if required and not has_value:
        raise ValueError(
            f"{where}: the original requires it, so hiding it needs value= or compute="
        )
    return True


def _shown_property(where: str, arg: Arg, prop: Any, required: bool) -> tuple[dict[str, Any], bool]:
    """One shown argument's schema (a copy: the original's stays as it is) and whether the
    derived tool requires it.

    Raises ValueError where `arg` contradicts itself (required with a default) or the
    original (optional without a default, for an argument the original needs).
    """
    shown = dict(cast("dict[str, Any]", prop)) if isinstance(prop, dict) else {}
    if arg.description is not None:
        shown["description"] = arg.description
    has_default = arg.default is not MISSING
    if has_default:
        if arg.required:
            raise ValueError(f"{where}: an argument with a default is not required")
        shown["default"] = _json(arg.default)
        # A default is filled in before the original is called, so the caller may omit it.
        required = False
    if arg.required is not None:
        if not arg.required and required:
            raise ValueError(f"{where}: the original requires it: give it a default instead")
        required = arg.required
    return shown, required


# ---------------------------------------------------------------- the tool


def derive_tool(original: ToolSpec, transform: ToolTransform, invoke: Invoke) -> ToolSpec:
    """The tool `transform` makes of `original`, calling it through `invoke`.

    Everything is checked here, when the transform is made: a bad argument map raises
    ValueError and a wrapper of the wrong shape TypeError, each naming the tool and the
    argument, so no mistake waits for the first call. Scopes, task support, UI and
    version are the original's: the derived tool does what the original does.
    """
    name = transform.name or original.name
    check_tool_name(name)
    tags = original.tags if transform.tags is None else tag_set(f"tool {name!r}", transform.tags)
    schema, mapping = _derived_schema(
        original.name, original.wire.input_schema, transform.arguments or {}
    )
    wrap = None if transform.wrap is None else read_wrapper(name, transform.wrap, schema)
    # The original's output schema stays, unless the wrapper's return hint declares one:
    # then the wrapper's result is what clients see, so its schema is the tool's.
    output = None
    output_schema = original.wire.output_schema
    if wrap is not None and wrap.signature.output.output_schema is not None:
        output = wrap.signature.output
        output_schema = output.output_schema

    async def call_original(ctx: Any, arguments: Mapping[str, Any]) -> CallToolResult:
        # A TypeError here is the wrapper author's mistake (a name passed to forward()),
        # not the caller's, so it is not a ToolError.
        wrong = mapping.check(arguments)
        if wrong is not None:
            raise TypeError(f"forward() got {wrong!r}, which the derived tool does not have")
        return await invoke(ctx, await mapping.original_arguments(ctx, arguments))

    # (its Context parameter has a name no argument of a tool is likely to have: the
    # arguments arrive as **arguments beside it)
    async def tool(_mcpkit_context: Injected, **arguments: Any) -> Any:
        ctx = _mcpkit_context
        wrong = mapping.check(arguments)
        if wrong is not None:
            raise ToolError(f"Invalid arguments for tool {name!r}: it has no argument {wrong!r}")
        if wrap is None:
            return await call_original(ctx, arguments)
        # The wrapper gets the defaults the derived schema shows, not its own.
        given = {**mapping.defaults, **arguments}
        return await run_wrapper(wrap, ctx, given, call_original)

    made = make_tool(tool, name=name, input_schema=schema, output_schema=output_schema)
    # The wire form starts from the original's, so fields the transform does not name
    # (icons, and any field a later revision adds) carry over.
    wire = msgspec.structs.replace(
        original.wire,
        name=name,
        title=_pick(transform.title, original.wire.title),
        description=_pick(transform.description, original.wire.description),
        input_schema=schema,
        output_schema=output_schema,
        annotations=_pick(transform.annotations, original.wire.annotations),
        meta=_labelled(transform.meta, original.wire.meta, tags, original.version),
    )
    return dataclasses.replace(
        made,
        wire=wire,
        output=output,
        scopes=original.scopes,
        task_begins=original.task_begins,
        ui=original.ui,
        tags=tags,
        version=original.version,
    )


def _labelled(
    given: dict[str, Any] | None,
    kept: dict[str, Any] | None,
    tags: frozenset[str],
    version: str | None,
) -> dict[str, Any] | None:
    """The derived tool's `_meta`: the one given (else the original's, less its labels),
    labelled with its own tags and version."""
    if given is None and kept is not None:
        given = {k: v for k, v in kept.items() if k not in (TAGS_META_KEY, VERSION_META_KEY)}
    return with_labels(given or None, tags, version)


def _pick(given: Any, kept: Any) -> Any:
    """The transform's value, or the original's where the transform says None."""
    return kept if given is None else given
