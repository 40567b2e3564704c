"""Dependency injection: the handler parameters the server fills by their type or a
`Depends` marker instead of from arguments, worked out once at registration.

A handler that asks for nothing but (at most) the Context is left exactly as it is, so it
pays nothing. One that asks for more is registered as a stand-in (`with_dependencies`)
whose signature lacks the injected parameters, so no input schema, prompt argument or tool
transform ever shows them, and which takes the Context the way every handler already gets
it (`invoke.context_parameter`); per call it resolves the dependencies in the order worked
out at registration, each function once, then calls the handler and, after it, the
cleanup of generator dependencies in reverse order.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, Protocol, TypeAlias

from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import McpkitError
from mcpkit.protocol.events import RequestInfo
from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.invoke import Injected, is_context_annotation
from mcpkit.server.schemas._hints import resolve_hints, type_name, unwrap_callable

__all__ = [
    "CurrentToken",
    "Dependency",
    "Depends",
    "LifespanState",
    "RequestHeaders",
    "TokenClaims",
    "with_dependencies",
]


class _Settings(Protocol):
    @property
    def sync_in_thread(self) -> bool: ...


class Context(Protocol):
    """What dependencies read of the request's `mcpkit.Context` (named narrowly here: the
    Context knows the server, whose registries hold the handlers this module serves)."""

    @property
    def auth(self) -> AccessToken | None: ...

    @property
    def request_info(self) -> RequestInfo | None: ...

    @property
    def lifespan_state(self) -> Any: ...

    @property
    def server(self) -> _Settings: ...


class Dependency:
    """The marker `Depends(fn)` puts on a parameter: its value is what `fn` gives."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError(f"Depends() takes a function, not {fn!r}")
        self.fn = fn

    def __repr__(self) -> str:
        return f"Depends({type_name(self.fn)})"


def Depends(fn: Callable[..., Any]) -> Any:
    """Mark a handler parameter as the value `fn` gives, as a default (`db: Db =
    Depends(get_db)`) or in its hint (`db: Annotated[Db, Depends(get_db)]`).

    `fn` may be sync or async, a generator (the code after its `yield` runs once the handler
    has returned or raised), and may itself take the Context and other dependencies; every
    other parameter of it needs a default. Typed Any so that the default form type-checks."""
    return Dependency(fn)


# ---------------------------------------------------------------- the built-ins

_NO_CLAIMS: Final[Mapping[str, Any]] = MappingProxyType({})
_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})


def _token(ctx: Context) -> AccessToken | None:
    return ctx.auth


def _required_token(ctx: Context) -> AccessToken:
    token = ctx.auth
    if token is None:
        raise McpkitError(
            "the handler takes the caller's access token (a parameter annotated "
            "AccessToken), and this request has none: only a protected HTTP endpoint "
            "verifies one (docs/auth.md); annotate it `AccessToken | None` to serve callers "
            "without one"
        )
    return token


def _claims(ctx: Context) -> Mapping[str, Any]:
    token = ctx.auth
    return _NO_CLAIMS if token is None else token.claims


def _headers(ctx: Context) -> Mapping[str, str]:
    info = ctx.request_info
    if info is None:
        return _NO_HEADERS
    joined: dict[str, str] = {}
    for key, raw in info.headers:
        name = key.decode("latin-1")
        # The bearer token stays out: it must not travel further (basic/authorization,
        # "Access Token Privilege Restriction"); CurrentToken gives what it proved.
        if name == "authorization":
            continue
        value = raw.decode("latin-1")
        joined[name] = f"{joined[name]}, {value}" if name in joined else value  # RFC 9110 5.3
    return MappingProxyType(joined)


def _lifespan_state(ctx: Context) -> Any:
    return ctx.lifespan_state


#: The caller's verified access token, None where the request has none (stdio, memory, an
#: unprotected endpoint). A parameter annotated `AccessToken` itself gets it too, and fails
#: the call when there is none.
CurrentToken: TypeAlias = Annotated[AccessToken | None, Dependency(_token)]
#: The claims of the caller's token (JWT claims or the introspection answer); empty without.
TokenClaims: TypeAlias = Annotated[Mapping[str, Any], Dependency(_claims)]
#: The HTTP request's headers, lower-case names, repeats joined with ", ", less
#: `authorization`; empty over stdio and in memory.
RequestHeaders: TypeAlias = Annotated[Mapping[str, str], Dependency(_headers)]
#: What the server's lifespan hook yielded; `Annotated[MyState, LifespanState]` types it.
LifespanState: TypeAlias = Annotated[Any, Dependency(_lifespan_state)]

# They read the Context alone, and never block: called on the loop, with no thread hop.
_BUILTINS: Final = frozenset({_token, _required_token, _claims, _headers, _lifespan_state})


# ---------------------------------------------------------------- the plan

_CONTEXT: Final = "context"  # a source: the request's Context itself
Kind = Literal["builtin", "async", "sync", "async_gen", "sync_gen"]


@dataclass(frozen=True, slots=True)
class _Step:
    """One dependency function, run once per call: `sources` are its parameters, each the
    Context or the id of the step whose value it takes."""

    fn: Callable[..., Any]
    kind: Kind
    sources: tuple[tuple[str, int | str], ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """A handler's dependencies in the order they run; `handler` are its own injected
    parameters and their sources; `context_param` its Context parameter, if it has one."""

    steps: tuple[_Step, ...]
    handler: tuple[tuple[str, int | str], ...]
    context_param: str | None
    cleans_up: bool

    async def resolve(
        self, ctx: Context, stack: contextlib.AsyncExitStack | None
    ) -> dict[str, Any]:
        """The handler's injected keyword arguments for the request of `ctx`."""
        values: dict[int | str, Any] = {_CONTEXT: ctx}
        for step in self.steps:
            kwargs = {name: values[source] for name, source in step.sources}
            values[id(step.fn)] = await _run(step, kwargs, ctx, stack)
        return {name: values[source] for name, source in self.handler}


async def _run(
    step: _Step, kwargs: dict[str, Any], ctx: Context, stack: contextlib.AsyncExitStack | None
) -> Any:
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
    manager = contextlib.contextmanager(step.fn)(**kwargs)
    value = await call_handler(manager.__enter__, is_async=False, in_thread=in_thread)
    stack.push_async_exit(functools.partial(_exit_sync, manager, in_thread))
    return value


async def _exit_sync(
    manager: contextlib.AbstractContextManager[Any], in_thread: bool, *exc_info: Any
) -> bool | None:
    exited: bool | None = await call_handler(
        manager.__exit__, exc_info, is_async=False, in_thread=in_thread
    )
    return exited


def _kind(fn: Callable[..., Any]) -> Kind:
    if fn in _BUILTINS:
        return "builtin"
    target = unwrap_callable(fn)
    if inspect.isasyncgenfunction(target):
        return "async_gen"
    if inspect.isgeneratorfunction(target):
        return "sync_gen"
    return "async" if is_async_callable(fn) else "sync"


def _hints_of(fn: Callable[..., Any], names: Mapping[str, Any]) -> dict[str, Any]:
    """`fn`'s resolved hints (a class: its `__init__`'s); string hints `resolve_hints` could
    not read are tried again with `names`, the locals where the handler is registered (a
    dependency local to a function, named in a hint of another, is found there)."""
    target = unwrap_callable(fn)
    if isinstance(target, type):
        # A class is called as its `__init__` is: that is where its parameters' hints are.
        target = target.__init__  # type: ignore[misc]
    hints = resolve_hints(target)
    if names and any(isinstance(h, str) for h in hints.values()):
        with contextlib.suppress(NameError, SyntaxError, TypeError, AttributeError):
            hints = typing.get_type_hints(target, localns=dict(names), include_extras=True)
    return hints


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


_FRAMES_SEARCHED: Final = 3


def _parameters(
    fn: Callable[..., Any], names: Mapping[str, Any]
) -> list[tuple[inspect.Parameter, Any]]:
    """`fn`'s parameters with their resolved hints (see `_hints_of`)."""
    hints = _hints_of(fn, names)
    return [(p, hints.get(p.name, Any)) for p in inspect.signature(fn).parameters.values()]


def _marker(hint: Any) -> Dependency | None:
    """The Depends marker in `hint`'s Annotated metadata (also one level down, so that
    `Annotated[MyState, LifespanState]` reads as LifespanState), or inside an Optional."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        for item in hint.__metadata__:
            if isinstance(item, Dependency):
                return item
            if typing.get_origin(item) is Annotated:
                found = _marker(item)
                if found is not None:
                    return found
        return _marker(typing.get_args(hint)[0])
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        for arg in typing.get_args(hint):
            found = _marker(arg)
            if found is not None:
                return found
    return None


def _token_source(hint: Any) -> Callable[..., Any] | None:
    """The built-in for a plain `AccessToken` hint (or `AccessToken | None`)."""
    if hint is AccessToken:
        return _required_token
    if typing.get_origin(hint) is Annotated:
        return _token_source(typing.get_args(hint)[0])
    args = set(typing.get_args(hint))
    if args == {AccessToken, type(None)}:
        return _token
    return None


def _source(p: inspect.Parameter, hint: Any) -> Callable[..., Any] | str | None:
    """Where a parameter's value comes from: the Context, a dependency's function, or
    (None) the caller's arguments."""
    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
        return None
    marked = _marker(hint)
    if marked is None and isinstance(p.default, Dependency):
        marked = p.default
    if marked is not None:
        return marked.fn
    if is_context_annotation(hint):
        return _CONTEXT
    return _token_source(hint)


class _Planner:
    """Works out the steps of one handler's dependencies, depth first, refusing cycles and
    parameters nothing can fill; `where` names the handler in messages."""

    def __init__(self, where: str, names: Mapping[str, Any]) -> None:
        self.where = where
        self.names = names
        self.steps: dict[int, _Step] = {}

    def add(self, fn: Callable[..., Any], chain: tuple[Callable[..., Any], ...], at: str) -> int:
        key = id(fn)
        if key in self.steps:
            return key
        if fn in chain:
            cycle = " -> ".join(f"{type_name(f)}()" for f in (*chain[chain.index(fn) :], fn))
            raise TypeError(f"{self.where}, parameter {at!r}: the dependencies loop: {cycle}")
        sources: list[tuple[str, int | str]] = []
        if fn in _BUILTINS:
            sources.append(("ctx", _CONTEXT))
        else:
            for p, hint in _parameters(fn, self.names):
                source = self._source_of(fn, p, hint, at)
                if isinstance(source, str):
                    sources.append((p.name, _CONTEXT))
                elif source is not None:
                    sources.append((p.name, self.add(source, (*chain, fn), at)))
        self.steps[key] = _Step(fn, _kind(fn), tuple(sources))
        return key

    def _source_of(
        self, fn: Callable[..., Any], p: inspect.Parameter, hint: Any, at: str
    ) -> Callable[..., Any] | str | None:
        source = _source(p, hint)
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


def plan_of(fn: Callable[..., Any], where: str, names: Mapping[str, Any]) -> Plan | None:
    """`fn`'s dependencies, or None when it has none but the Context; TypeError naming the
    handler and parameter for a dependency that cannot be resolved."""
    planner = _Planner(where, names)
    handler: list[tuple[str, int | str]] = []
    context_param: str | None = None
    for p, hint in _parameters(fn, names):
        source = _source(p, hint)
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
    if not handler:
        return None
    steps = tuple(planner.steps.values())
    cleans_up = any(s.kind in ("async_gen", "sync_gen") for s in steps)
    return Plan(steps, tuple(handler), context_param, cleans_up)


# ---------------------------------------------------------------- the stand-in


def with_dependencies(fn: Callable[..., Any], where: str) -> Callable[..., Any]:
    """`fn` itself when it takes no dependency; else an async stand-in that takes `fn`'s
    other parameters and the Context, and fills the dependencies per call."""
    names = _registering_names()
    plan = plan_of(fn, where, names)
    return fn if plan is None else _stand_in(fn, plan, names)


def _stand_in(fn: Callable[..., Any], plan: Plan, names: Mapping[str, Any]) -> Callable[..., Any]:
    signature = inspect.signature(fn)
    injected = {name for name, _ in plan.handler}
    kept = [p for p in signature.parameters.values() if p.name not in injected]
    own_context = plan.context_param
    # (the name of a Context parameter of its own, where `fn` has none: no argument is
    # likely to be called so, and it never reaches the schema)
    context_name = own_context or _free_name("_mcpkit_context", signature)
    if own_context is None:
        where = next((i for i, p in enumerate(kept) if p.kind is p.VAR_KEYWORD), len(kept))
        extra = inspect.Parameter(context_name, inspect.Parameter.KEYWORD_ONLY, annotation=Injected)
        kept.insert(where, extra)
    is_async = is_async_callable(fn)
    cleans_up = plan.cleans_up

    async def handler(**kwargs: Any) -> Any:
        ctx = kwargs[context_name] if own_context is not None else kwargs.pop(context_name)
        if not cleans_up:
            kwargs.update(await plan.resolve(ctx, None))
            return await _call(fn, kwargs, ctx, is_async)
        async with contextlib.AsyncExitStack() as stack:
            kwargs.update(await plan.resolve(ctx, stack))
            return await _call(fn, kwargs, ctx, is_async)

    target = unwrap_callable(fn)
    hints = _hints_of(fn, names)
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


async def _call(
    fn: Callable[..., Any], kwargs: dict[str, Any], ctx: Context, is_async: bool
) -> Any:
    if is_async:
        return await fn(**kwargs)
    in_thread = ctx.server.sync_in_thread
    return await call_handler(fn, (), kwargs, is_async=False, in_thread=in_thread)


def _free_name(name: str, signature: inspect.Signature) -> str:
    while name in signature.parameters:
        name += "_"
    return name
