"""Dependency injection, worked out once at registration and done per call.

A handler that asks for nothing but (at most) the Context is left exactly as it is, so it
pays nothing. One that asks for more (`depends`: `Depends(fn)`, the caller's token, the
headers, the lifespan state) is registered as a stand-in (`with_dependencies`) whose
signature lacks the injected parameters, so no input schema, prompt argument or tool
transform ever shows them, and which takes the Context the way every handler already gets
it (`invoke.context_parameter`); per call it resolves the dependencies in the order worked
out at registration, each function once, then calls the handler and, after it, the
cleanup of generator dependencies in reverse order. A dependency written as a context
manager (`@asynccontextmanager` / `@contextmanager`, FastMCP's form) is entered for the
call and exited after it, as a generator's is: the handler's exception reaches its exit.

Every mistake is found at registration, as TypeError naming the handler and the parameter:
a cycle of dependencies, a parameter that is neither a dependency nor has a default, a
dependency passed positionally. A plain (sync) dependency runs where plain handlers run
(`sync_in_thread`); one entered in a worker thread whose call is cancelled is still exited,
once the thread is done (`_holding`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, Literal

from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.calling.depends import BUILTINS, CONTEXT, ContextView, source_of
from mcpkit.server.catalog.calling.invoke import Injected
from mcpkit.server.schemas._hints import resolve_hints, type_name, unwrap_callable

__all__ = ["InjectionPlan", "plan_of", "with_dependencies"]

logger = logging.getLogger("mcpkit.server")


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
class _Step:
    """One dependency function, run once per call: `sources` are its parameters, each the
    Context or the id of the step whose value it takes."""

    fn: Callable[..., Any]
    kind: Kind
    sources: tuple[tuple[str, int | str], ...]


@dataclass(frozen=True, slots=True)
class InjectionPlan:
    """A handler's dependencies in the order they run; `handler` are its own injected
    parameters and their sources; `context_param` its Context parameter, if it has one."""

    steps: tuple[_Step, ...]
    handler: tuple[tuple[str, int | str], ...]
    context_param: str | None
    #: Whether a step needs an exit stack; a plan without one skips making it per call.
    cleans_up: bool

    async def resolve(
        self, ctx: ContextView, stack: contextlib.AsyncExitStack | None
    ) -> dict[str, Any]:
        """The handler's injected keyword arguments for the request of `ctx`."""
        # Keyed by the function's id: a dependency two others share runs once per call,
        # and the steps are in an order where each one's sources are already here.
        values: dict[int | str, Any] = {CONTEXT: ctx}
        for step in self.steps:
            kwargs = {name: values[source] for name, source in step.sources}
            values[id(step.fn)] = await _run(step, kwargs, ctx, stack)
        return {name: values[source] for name, source in self.handler}


async def _run(
    step: _Step, kwargs: dict[str, Any], ctx: ContextView, stack: contextlib.AsyncExitStack | None
) -> Any:
    """One step's value for this call; a generator or context manager is entered on
    `stack`, so it is exited after the handler, in reverse order."""
    kind = step.kind
    if kind == "builtin":
        return step.fn(**kwargs)
    if kind == "async":
        return await step.fn(**kwargs)
    # A plain `def` runs where the server runs plain handlers (Server(sync_in_thread=)).
    in_thread = ctx.server.sync_in_thread
    if kind == "sync":
        return await call_handler(step.fn, (), kwargs, is_async=False, in_thread=in_thread)
    assert stack is not None  # a plan with generators always gets one
    if kind == "async_gen":
        return await stack.enter_async_context(contextlib.asynccontextmanager(step.fn)(**kwargs))
    if kind == "async_cm":
        return await stack.enter_async_context(step.fn(**kwargs))
    # (Made on the loop: the decorator's wrapper only holds the arguments; entering runs
    # the user's code, where a plain function runs.)
    fn = step.fn if kind == "sync_cm" else contextlib.contextmanager(step.fn)
    manager = fn(**kwargs)
    exit_ = functools.partial(_exit_sync, manager, in_thread)
    entering = call_handler(manager.__enter__, is_async=False, in_thread=in_thread)
    # Entered in a thread, the call may be cancelled while the thread still runs: the exit
    # is then owed by `_holding`, which waits for the thread before running it.
    if in_thread:
        own = contextlib.AsyncExitStack()
        own.push_async_exit(exit_)
        value = await _holding(own, entering, entering=True)
    else:
        value = await entering
    stack.push_async_exit(exit_)
    return value


async def _exit_sync(
    manager: contextlib.AbstractContextManager[Any], in_thread: bool, *exc_info: Any
) -> bool | None:
    """A sync context manager's exit, run where its entry ran (a thread or the loop); its
    answer, as `AsyncExitStack` wants it, says whether it swallowed the exception."""
    exited: bool | None = await call_handler(
        manager.__exit__, exc_info, is_async=False, in_thread=in_thread
    )
    return exited


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


def _hints_of(fn: Callable[..., Any]) -> dict[str, Any]:
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
    """`fn`'s parameters with their resolved hints (see `_hints_of`)."""
    hints = _hints_of(fn)
    return [(p, hints.get(p.name, Any)) for p in inspect.signature(fn).parameters.values()]


class _Planner:
    """Works out the steps of one handler's dependencies, depth first, refusing cycles and
    parameters nothing can fill; `where` names the handler in messages."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.steps: dict[int, _Step] = {}

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
        self.steps[key] = _Step(fn, _kind(fn), tuple(sources))
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


# ---------------------------------------------------------------- the stand-in


def with_dependencies(
    fn: Callable[..., Any], where: str, in_thread: bool | None = None
) -> Callable[..., Any]:
    """`fn` itself when it takes no dependency; else an async stand-in that takes `fn`'s
    other parameters and the Context, and fills the dependencies per call. A plain `fn`
    runs in a worker thread if `in_thread` says so (None: where the server runs plain
    handlers, `Server(sync_in_thread=)`)."""
    plan = plan_of(fn, where)
    return fn if plan is None else _stand_in(fn, plan, in_thread)


def _stand_in(
    fn: Callable[..., Any], plan: InjectionPlan, in_thread: bool | None
) -> Callable[..., Any]:
    """The async function registered in `fn`'s place: `fn`'s signature less the injected
    parameters, plus a Context parameter where `fn` has none, with `fn`'s name, docstring
    and hints, so schemas and descriptions are made from it as from `fn`."""
    signature = inspect.signature(fn)
    injected = {name for name, _ in plan.handler}
    kept = [p for p in signature.parameters.values() if p.name not in injected]
    own_context = plan.context_param
    # (the name of a Context parameter of its own, where `fn` has none: no argument is
    # likely to be called so, and it never reaches the schema)
    context_name = own_context or _free_name("_mcpkit_context", signature)
    if own_context is None:
        # Before a `**kwargs`, which must stay last for the signature to be valid.
        where = next((i for i, p in enumerate(kept) if p.kind is p.VAR_KEYWORD), len(kept))
        extra = inspect.Parameter(context_name, inspect.Parameter.KEYWORD_ONLY, annotation=Injected)
        kept.insert(where, extra)
    is_async = is_async_callable(fn)
    cleans_up = plan.cleans_up

    async def handler(**kwargs: Any) -> Any:
        # The Context added for the plan's sake is taken out: `fn` never asked for it.
        ctx = kwargs[context_name] if own_context is not None else kwargs.pop(context_name)
        if not cleans_up:
            kwargs.update(await plan.resolve(ctx, None))
            return await _call(fn, kwargs, ctx, is_async, in_thread)
        async with contextlib.AsyncExitStack() as stack:
            kwargs.update(await plan.resolve(ctx, stack))
            # A plain handler in a thread may outlive a cancelled call: `_holding` keeps
            # the cleanups until the thread is done with what they would close.
            if is_async or not _in_thread(ctx, in_thread):
                return await _call(fn, kwargs, ctx, is_async, False)
            return await _holding(stack, _call(fn, kwargs, ctx, is_async, True))

    target = unwrap_callable(fn)
    # Resolved hints, not the raw strings: the stand-in lives in this module, where a
    # string hint naming the user's types would not resolve.
    hints = _hints_of(fn)
    annotations = {p.name: hints.get(p.name, p.annotation) for p in kept}
    annotations[context_name] = hints.get(context_name, Injected)
    if "return" in hints:
        annotations["return"] = hints["return"]
    handler.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    handler.__annotations__ = {
        k: v for k, v in annotations.items() if v is not inspect.Parameter.empty
    }
    # `__wrapped__` too: string hints left unresolved are read in `fn`'s module, as typing
    # does for a wrapper.
    functools.update_wrapper(handler, fn, ("__module__", "__name__", "__qualname__"), ())
    handler.__name__ = type_name(target)
    handler.__doc__ = inspect.getdoc(fn)
    return handler


def _in_thread(ctx: ContextView, own: bool | None) -> bool:
    """Whether a plain handler runs in a worker thread: its own `sync_in_thread=`, else the
    server's."""
    return ctx.server.sync_in_thread if own is None else own


async def _call(
    fn: Callable[..., Any],
    kwargs: dict[str, Any],
    ctx: ContextView,
    is_async: bool,
    in_thread: bool | None,
) -> Any:
    """Call the handler itself, a plain one where `_in_thread` says."""
    if is_async:
        return await fn(**kwargs)
    return await call_handler(fn, (), kwargs, is_async=False, in_thread=_in_thread(ctx, in_thread))


#: Cleanups left to wait for the worker thread of a cancelled call (held: a task nobody
#: refers to may be collected before it ends).
_waiting: Final[set[asyncio.Task[None]]] = set()


async def _holding(
    stack: contextlib.AsyncExitStack, work: Awaitable[Any], *, entering: bool = False
) -> Any:
    """`work`, a run in a worker thread (a plain handler, or with `entering` the entering of
    a plain dependency), with what `stack` cleans up kept until it ends. Cancelling the call
    (its `timeout=`) does not stop the thread, and the call is answered at once; so the
    cleanup then waits, in a task of its own, for the thread to end, and gets the
    cancellation, as after a failure (a connection closed under a running function, or a
    transaction committed for a call that was given up, would be worse; a dependency that
    opens after its call was given up must still be closed, not left to the garbage
    collector)."""
    running = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError as exc:
        # A dependency entered is exited here even when its thread finished just as the
        # call was cancelled: its stack is this function's alone, and nobody else exits it.
        if entering or not running.done():
            later = _clean_up_after(running, stack.pop_all(), exc, entering)
            waiting = asyncio.get_running_loop().create_task(later)
            _waiting.add(waiting)
            waiting.add_done_callback(_waiting.discard)
        raise


async def _clean_up_after(
    running: asyncio.Future[Any],
    stack: contextlib.AsyncExitStack,
    exc: BaseException,
    entering: bool,
) -> None:
    await asyncio.wait([running])
    # (what the thread gave is dropped, as its result is; a dependency that failed to enter
    # has nothing to exit)
    failed = running.cancelled() or running.exception() is not None
    if entering and failed:
        return
    try:
        await stack.__aexit__(type(exc), exc, exc.__traceback__)
    except Exception:  # (nobody awaits this task: said in the log, or lost)
        logger.exception("a dependency's cleanup failed after its call was cancelled")


def _free_name(name: str, signature: inspect.Signature) -> str:
    """`name`, lengthened until no parameter of `signature` has it."""
    while name in signature.parameters:
        name += "_"
    return name
