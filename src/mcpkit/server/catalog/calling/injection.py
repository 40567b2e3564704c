"""Dependency injection done per call, as worked out once at registration (`injection_plan`).

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

Every mistake is found at registration (`injection_plan`). A plain (sync) dependency runs
where plain handlers run (`sync_in_thread`); one entered in a worker thread whose call is
cancelled is still exited, once the thread is done (`_holding`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.calling.depends import CONTEXT, ContextView
from mcpkit.server.catalog.calling.injection_plan import InjectionPlan, Step, hints_of, plan_of
from mcpkit.server.catalog.calling.invoke import Injected
from mcpkit.server.schemas._annotations import type_name, unwrap_callable

__all__ = ["resolve", "with_dependencies"]

logger = logging.getLogger("mcpkit.server")


async def resolve(
    plan: InjectionPlan, ctx: ContextView, stack: contextlib.AsyncExitStack | None
) -> dict[str, Any]:
    """`plan`'s handler's injected keyword arguments for the request of `ctx`."""
    # Keyed by the function's id: a dependency two others share runs once per call,
    # and the steps are in an order where each one's sources are already here.
    values: dict[int | str, Any] = {CONTEXT: ctx}
    for step in plan.steps:
        kwargs = {name: values[source] for name, source in step.sources}
        values[id(step.fn)] = await _run(step, kwargs, ctx, stack)
    return {name: values[source] for name, source in plan.handler}


async def _run(
    step: Step, kwargs: dict[str, Any], ctx: ContextView, stack: contextlib.AsyncExitStack | None
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
            kwargs.update(await resolve(plan, ctx, None))
            return await _call(fn, kwargs, ctx, is_async, in_thread)
        async with contextlib.AsyncExitStack() as stack:
            kwargs.update(await resolve(plan, ctx, stack))
            # A plain handler in a thread may outlive a cancelled call: `_holding` keeps
            # the cleanups until the thread is done with what they would close.
            if is_async or not _in_thread(ctx, in_thread):
                return await _call(fn, kwargs, ctx, is_async, False)
            return await _holding(stack, _call(fn, kwargs, ctx, is_async, True))

    target = unwrap_callable(fn)
    # Resolved hints, not the raw strings: the stand-in lives in this module, where a
    # string hint naming the user's types would not resolve.
    hints = hints_of(fn)
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
