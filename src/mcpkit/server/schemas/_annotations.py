"""A function's annotations, resolved: the object whose hints describe a callable (a partial's
function, a callable object's `__call__`), its string hints read in the module and the scopes
around it, and how messages name a type. Apart from `_hints`, which makes schemas of the
resolved hints, because every reader of a function (its signature, its injected parameters,
its output) resolves them first, whether it builds a schema or not.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, Final

__all__ = ["resolve_hints", "type_name", "unwrap_callable"]

# Frames above `build_signature` whose locals are searched: enough for a decorator used a
# few calls deep, few enough that far-off callers' names stay out.
_FRAMES_SEARCHED: Final = 8


def type_name(tp: object) -> str:
    """How messages name a type or function: its `__name__`, else its repr."""
    return getattr(tp, "__name__", None) or repr(tp)


def unwrap_callable(fn: Callable[..., Any]) -> Any:
    """The object whose annotations and docstring describe `fn`."""
    # A partial's hints are its function's; the bound arguments are not read here.
    while isinstance(fn, functools.partial):
        fn = fn.func
    # A class is left as it is: its `__init__` is read by the callers that need it.
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)) and callable(fn):
        call = type(fn).__call__  # a callable object: its method has the hints
        if inspect.isfunction(call):
            return call
    return fn


def _outer_names(target: Any) -> dict[str, Any]:
    """Names local to the functions around `target`: its closure, then the frames of
    the callers of `build_signature`, innermost first. Only names the module does not
    define: a caller's local must never shadow a global."""
    module_names = getattr(target, "__globals__", {})
    namespace: dict[str, Any] = {}
    # The closure first: it holds exactly the outer names the function uses.
    code = getattr(target, "__code__", None)
    closure = getattr(target, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars if code else (), closure, strict=False):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    # Then the callers' frames, innermost first (`setdefault`: the nearest name wins).
    frame = inspect.currentframe()
    for _ in range(3):  # this function, resolve_hints, build_signature
        frame = frame.f_back if frame is not None else None
    for _ in range(_FRAMES_SEARCHED):
        if frame is None:
            break
        for name, value in frame.f_locals.items():
            if name not in module_names:
                namespace.setdefault(name, value)
        frame = frame.f_back
    del frame  # a frame held past its use keeps every local of its callers alive
    return namespace


def resolve_hints(target: Any) -> dict[str, Any]:
    """Resolve string annotations; classes local to an enclosing function are found in
    its closure or in its callers' frames (where a decorator runs), as pydantic does.

    An annotation that still names something unknown (say, imported only under
    TYPE_CHECKING) is left as its string, for the caller to judge.
    """
    # The usual case first: every name is in the function's module.
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError:
        pass
    namespace = _outer_names(target)
    try:
        return typing.get_type_hints(target, localns=namespace, include_extras=True)
    except NameError:
        pass
    # Still failing: each annotation alone, so one unknown name leaves the others resolved.
    module_names = dict(getattr(target, "__globals__", {}))
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        hints[name] = annotation
        if isinstance(annotation, str):
            # eval of the function's own annotation text, in its own module's names: code
            # the author wrote, as `typing.get_type_hints` itself runs it.
            try:  # one by one, as get_type_hints itself evaluates them
                hints[name] = eval(annotation, module_names, namespace)
            except NameError:
                continue
    return hints
