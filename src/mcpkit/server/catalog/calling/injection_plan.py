"""Dependency injection worked out once, when a handler is registered: which of its
parameters are dependencies (`depends`), the functions that fill them in an order to run
them in, each once, and how each is run (`InjectionPlan`); `injection` does it per call.

Every mistake is found here, as TypeError naming the handler and the parameter: a cycle of
dependencies, a parameter that is neither a dependency nor has a default, a dependency passed
positionally. A handler that asks for nothing but (at most) the Context has no plan.
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, Literal

from mcpkit.runtime.workers import is_async_callable
from mcpkit.server.catalog.calling.depends import BUILTINS, CONTEXT, source_of
from mcpkit.server.schemas._annotations import resolve_hints, type_name, unwrap_callable

__all__ = ["InjectionPlan", "Kind", "Step", "hints_of", "plan_of"]


#: How a dependency is run: a builtin (the token, the headers) read off the Context, a
#: function awaited or called, a generator or a context manager entered for the call.
Kind = Literal["builtin", "async", "sync", "async_gen", "sync_gen", "async_cm", "sync_cm"]
#: The kinds whose value is a context manager entered for the call and exited after it.
_CLEANS_UP: Final = frozenset({"async_gen", "sync_gen", "async_cm", "sync_cm"})


async def _agen() -> AsyncGenerator[None]:
    """A generator to decorate once, so the decorator's wrapper code can be told apart."""
    yield


def _gen() -> Generator[None]:
    """`_agen`'s sync twin, for `@contextmanager`."""
    yield


# The wrapper `@asynccontextmanager` / `@contextmanager` makes of a generator function: every
# function they decorate runs this code (FastMCP's form of a dependency with a cleanup).
_ASYNC_CM_CODE: Final = contextlib.asynccontextmanager(_agen).__code__
_SYNC_CM_CODE: Final = contextlib.contextmanager(_gen).__code__


@dataclass(frozen=True, slots=True)
class Step:
    """One dependency function, run once per call: `sources` are its parameters, each the
    Context or the id of the step whose value it takes."""

    fn: Callable[..., Any]
    kind: Kind
    sources: tuple[tuple[str, int | str], ...]


@dataclass(frozen=True, slots=True)
class InjectionPlan:
    """A handler's dependencies in the order they run; `handler` are its own injected
    parameters and their sources; `context_param` its Context parameter, if it has one."""

    steps: tuple[Step, ...]
    handler: tuple[tuple[str, int | str], ...]
    context_param: str | None
    #: Whether a step needs an exit stack; a plan without one skips making it per call.
    cleans_up: bool


def _kind(fn: Callable[..., Any]) -> Kind:
    """How `fn` is run, decided once at registration."""
    if fn in BUILTINS:
        return "builtin"
    target = unwrap_callable(fn)
    function = target.__func__ if inspect.ismethod(target) else target
    # A decorated context manager is told by its code object: `@contextmanager` returns a
    # plain function, which no other test tells from any function returning a manager.
    if inspect.isfunction(function):
        if function.__code__ is _ASYNC_CM_CODE:
            return "async_cm"
        if function.__code__ is _SYNC_CM_CODE:
            return "sync_cm"
    if inspect.isasyncgenfunction(target):
        return "async_gen"
    if inspect.isgeneratorfunction(target):
        return "sync_gen"
    return "async" if is_async_callable(fn) else "sync"


def hints_of(fn: Callable[..., Any]) -> dict[str, Any]:
    """`fn`'s resolved hints (a class: its `__init__`'s). String hints `resolve_hints` could
    not read are tried again with the locals where the handler is registered: a dependency
    local to a function, named in the hint of another, is found there."""
    target = unwrap_callable(fn)
    if isinstance(target, type):
        # A class is called as its `__init__` is: that is where its parameters' hints are.
        target = target.__init__  # type: ignore[misc]
    hints = resolve_hints(target)
    if any(isinstance(h, str) for h in hints.values()):
        with contextlib.suppress(NameError, SyntaxError, TypeError, AttributeError):
            localns = _registering_names()
            hints = typing.get_type_hints(target, localns=localns, include_extras=True)
    return hints


# The decorator's line, the function around it, and its caller: enough for a dependency
# defined beside the handler, and few enough that an unrelated caller's names stay out.
_FRAMES_SEARCHED: Final = 3


def _registering_names() -> dict[str, Any]:
    """The locals of the nearest frames outside mcpkit: where the handler is registered."""
    names: dict[str, Any] = {}
    frame = inspect.currentframe()
    found = 0
    while frame is not None and found < _FRAMES_SEARCHED:
        if not str(frame.f_globals.get("__name__", "")).startswith("mcpkit."):
            for name, value in frame.f_locals.items():
                names.setdefault(name, value)
            found += 1
        frame = frame.f_back
    del frame
    return names


def _parameters(fn: Callable[..., Any]) -> list[tuple[inspect.Parameter, Any]]:
    """`fn`'s parameters with their resolved hints (see `hints_of`)."""
    hints = hints_of(fn)
    return [(p, hints.get(p.name, Any)) for p in inspect.signature(fn).parameters.values()]


class _Planner:
    """Works out the steps of one handler's dependencies, depth first, refusing cycles and
    parameters nothing can fill; `where` names the handler in messages."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.steps: dict[int, Step] = {}

    def add(self, fn: Callable[..., Any], chain: tuple[Callable[..., Any], ...], at: str) -> int:
        """Plan `fn` after everything it depends on, and return its key. `chain` is the
        path of dependencies that led here (for finding a cycle) and `at` the handler's
        parameter it serves (for the message)."""
        key = id(fn)
        # Already planned by another path: a shared dependency is one step, run once.
        if key in self.steps:
            return key
        if fn in chain:
            cycle = " -> ".join(f"{type_name(f)}()" for f in (*chain[chain.index(fn) :], fn))
            raise TypeError(f"{self.where}, parameter {at!r}: the dependencies loop: {cycle}")
        sources: list[tuple[str, int | str]] = []
        if fn in BUILTINS:
            sources.append(("ctx", CONTEXT))
        else:
            for p, hint in _parameters(fn):
                source = self._source_of(fn, p, hint, at)
                if isinstance(source, str):
                    sources.append((p.name, CONTEXT))
                elif source is not None:
                    sources.append((p.name, self.add(source, (*chain, fn), at)))
        # Added after its sources (depth first), so the dict's order is an order to run in.
        self.steps[key] = Step(fn, _kind(fn), tuple(sources))
        return key

    def _source_of(
        self, fn: Callable[..., Any], p: inspect.Parameter, hint: Any, at: str
    ) -> Callable[..., Any] | str | None:
        """What fills `fn`'s parameter `p`: a dependency, the Context, or None for one left
        to its default. TypeError for a parameter nothing fills, or one passed positionally
        (steps are called with keywords)."""
        source = source_of(p, hint)
        if (
            source is None
            and p.default is p.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ):
            raise TypeError(
                f"{self.where}, parameter {at!r}: {type_name(fn)}() takes {p.name!r}, which is "
                "neither a dependency (Depends(...), Context, AccessToken, CurrentToken, "
                "TokenClaims, RequestHeaders, LifespanState) nor has a default"
            )
        if source is not None and p.kind is p.POSITIONAL_ONLY:
            raise TypeError(
                f"{self.where}, parameter {at!r}: {type_name(fn)}() takes {p.name!r} "
                "positional-only; a dependency is passed by name"
            )
        return source


def plan_of(fn: Callable[..., Any], where: str) -> InjectionPlan | None:
    """`fn`'s dependencies, or None when it has none but the Context; TypeError naming the
    handler and parameter for a dependency that cannot be resolved."""
    planner = _Planner(where)
    handler: list[tuple[str, int | str]] = []
    context_param: str | None = None
    for p, hint in _parameters(fn):
        source = source_of(p, hint)
        if source is None:
            continue
        if isinstance(source, str):  # the Context
            context_param = context_param or p.name
            continue
        if p.kind is p.POSITIONAL_ONLY:
            raise TypeError(
                f"{where}, parameter {p.name!r}: a dependency cannot be positional-only"
            )
        handler.append((p.name, planner.add(source, (), p.name)))
    # Only the Context (or nothing): the handler is served as it is, at no cost per call.
    if not handler:
        return None
    steps = tuple(planner.steps.values())
    cleans_up = any(s.kind in _CLEANS_UP for s in steps)
    return InjectionPlan(steps, tuple(handler), context_param, cleans_up)
