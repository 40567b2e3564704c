"""A tool transform's `wrap=` (docs/compose.md, "Tool transforms"): the function that sits
between the derived tool and its original, read once when the transform is made, and called
with the derived arguments and a `Forward` that calls the original with them.

A wrapper of the wrong shape is refused when read, naming the tool: not `async def`, no
parameter annotated `Forward`, or arguments that differ from the derived tool's. An error the
original answers reaches the wrapper as `OriginalToolError`; one it lets pass is the derived
tool's result as it is.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, cast

from mcpkit.errors import ToolError
from mcpkit.server.catalog.calling.injection import with_dependencies
from mcpkit.server.catalog.calling.invoke import context_parameter, is_context_annotation
from mcpkit.server.schemas.argument_messages import ArgumentError
from mcpkit.server.schemas.signature import FunctionSignature, build_signature
from mcpkit.types import CallToolResult, TextContent

__all__ = ["Forward", "OriginalToolError", "Wrapper", "read_wrapper", "run_wrapper"]


class Forward(Protocol):
    """The original tool, as a wrapper gets it (a parameter annotated `Forward`): call it
    with the derived tool's arguments, by their derived names, to get the original's
    result. A result that is an error raises `OriginalToolError`."""

    def __call__(self, **arguments: Any) -> Awaitable[CallToolResult]: ...


class OriginalToolError(ToolError):
    """The original tool answered with an error (`result`): raised by `Forward`. A wrapper
    that lets it pass makes that result the derived tool's, as it is."""

    def __init__(self, result: CallToolResult) -> None:
        # The message is the result's text, so a wrapper that logs or re-raises the error
        # shows what the original said rather than a bare class name.
        texts = [block.text for block in result.content if isinstance(block, TextContent)]
        super().__init__(" ".join(t for t in texts if t) or "the original tool failed")
        self.result = result


def _is_forward(annotation: Any) -> bool:
    """Whether a parameter's annotation is `Forward`, as a class, as the text an unresolved
    annotation leaves, or inside `Annotated[...]`."""
    if annotation is Forward or annotation == "Forward":
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_forward(typing.get_args(annotation)[0])
    return False


@dataclasses.dataclass(frozen=True, slots=True)
class Wrapper:
    """A `wrap=` function read once: its signature (for the derived arguments) and the
    names of the parameters that get the `Forward` and the `Context`."""

    fn: Callable[..., Any]
    signature: FunctionSignature
    forward_param: str
    context_param: str | None


def read_wrapper(tool: str, fn: Callable[..., Any], schema: dict[str, Any]) -> Wrapper:
    """`fn` read as a wrapper of the derived tool whose input schema is `schema`."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"tool {tool!r}: wrap= is an async function (it awaits forward())")
    fn = with_dependencies(fn, f"tool {tool!r}, wrap=")
    signature = build_signature(fn, skip=lambda a: is_context_annotation(a) or _is_forward(a))
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        # A hint naming something local to where `fn` was written cannot be resolved; the
        # raw annotations still say "Forward", which `_is_forward` accepts.
        hints = inspect.get_annotations(fn)
    forward = [p for p in signature.injected if _is_forward(hints.get(p))]
    if not forward:
        raise TypeError(
            f"tool {tool!r}: wrap= takes a parameter annotated Forward, to call the original "
            "(a function that never calls it is a tool of its own: server.tool)"
        )
    # The wrapper gets exactly the derived tool's arguments: one it takes that the schema
    # lacks would never be given, and one it lacks could not be passed on.
    names = set(cast("dict[str, Any]", schema.get("properties") or {}))
    extra = sorted(set(signature.arguments) - names)
    if extra:
        raise TypeError(f"tool {tool!r}: wrap= takes {extra[0]!r}, which the tool does not")
    missing = sorted(names - set(signature.arguments))
    if missing and not signature.accepts_extra:
        raise TypeError(
            f"tool {tool!r}: wrap= must take every argument of the tool, or **arguments "
            f"(it lacks {missing[0]!r})"
        )
    return Wrapper(fn, signature, forward[0], context_parameter(fn))


async def run_wrapper(
    wrap: Wrapper,
    ctx: Any,
    arguments: dict[str, Any],
    call_original: Callable[[Any, Mapping[str, Any]], Awaitable[CallToolResult]],
) -> Any:
    """Call the wrapper with validated derived arguments, its `Forward` and its `Context`.

    An `OriginalToolError` the wrapper does not catch becomes the derived tool's result
    unchanged, so an error of the original reads the same through the wrapper.
    """
    try:
        kwargs = wrap.signature.validate(arguments)
    except ArgumentError as exc:
        raise ToolError(f"Invalid arguments: {exc}") from None

    async def forward(**given: Any) -> CallToolResult:
        result = await call_original(ctx, given)
        if result.is_error:
            raise OriginalToolError(result)
        return result

    kwargs[wrap.forward_param] = forward
    if wrap.context_param is not None:
        kwargs[wrap.context_param] = ctx
    try:
        return await wrap.fn(**kwargs)
    except OriginalToolError as exc:
        return exc.result  # the original's error, as it would have been
