"""A tool registered with `when_cannot_ask=`: its function wrapped so that its questions
know the fallback chosen for it, and its input schema with the generated argument ("confirm").
What a question then gets is `mcpkit.server.asking.fallback`'s job.

Chosen per tool at registration, not per question: the fallback changes the tool's input
schema ("confirm") and what a call without an answer returns, which the model reads in the
tool's listing and result; a tool registered without one is not wrapped, and pays nothing.
"""

from __future__ import annotations

import contextvars
import inspect
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Protocol, cast

import msgspec

from mcpkit.server.catalog.calling.invoke import context_parameter
from mcpkit.types import CallToolResult

__all__ = [
    "WHEN_CANNOT_ASK",
    "CannotAsk",
    "Fallback",
    "FallbackCall",
    "WhenCannotAsk",
    "current_fallback",
    "refuse_out_of_band",
    "with_fallback",
]

#: "error": a question the client cannot answer fails the call; "confirm": the tool gains
#: an argument the model sets once the user agreed; "url": the user answers on a page the
#: server serves over HTTP (`mcpkit.server.asking.fallback`).
WhenCannotAsk = Literal["error", "confirm", "url"]
WHEN_CANNOT_ASK: Final[tuple[WhenCannotAsk, ...]] = ("error", "confirm", "url")

#: What the generated argument says to the model. It names no tool: a mounted or renamed
#: tool is called by another name than the one it was registered under.
_DESCRIPTION: Final = (
    "Set to true only after the user has agreed to this call with these arguments, when a "
    "call of this tool without it said it needs their agreement; never on your own."
)
#: The generated argument's name: the first of these the tool does not use itself.
_CONFIRM_NAMES: Final = ("confirm", "confirmed", "user_confirmed", "user_agreed")


@dataclass(frozen=True, slots=True)
class Fallback:
    """How one tool answers its questions when its client cannot: `argument` is the
    generated confirm argument ("confirm" only)."""

    tool: str
    when: WhenCannotAsk
    argument: str | None = None


@dataclass(frozen=True, slots=True)
class FallbackCall:
    """One call of a tool with a fallback: its Context (so that a tool this one calls in
    process, with a Context of its own, does not inherit it), and what the call carried."""

    ctx: object
    fallback: Fallback
    confirmed: bool  # the model set the generated argument: the user agreed, it says
    arguments: dict[str, Any]


#: The wrapped functions of the tools with when_cannot_ask="url" (`refuse_out_of_band`).
#: Weak: a tool removed and collected leaves no entry behind.
_out_of_band: Final[weakref.WeakSet[Callable[..., Any]]] = weakref.WeakSet()

#: The call being served, for the questions its tool asks (`current_fallback`). A context
#: variable, so concurrent calls of one tool each see their own.
_current: Final[contextvars.ContextVar[FallbackCall | None]] = contextvars.ContextVar(
    "mcpkit_ask_fallback", default=None
)


class CannotAsk(BaseException):
    """Raised by a fallback where the call must end with `result` (ask the user, then call
    again): a BaseException, so that a tool's own `except Exception` lets it through to the
    wrapper that returns it."""

    def __init__(self, result: CallToolResult) -> None:
        super().__init__(result)
        self.result = result


def current_fallback(ctx: object) -> FallbackCall | None:
    """The fallback of the tool call `ctx` serves; None for a tool registered without one."""
    call = _current.get()
    # The Context must be the call's own: a tool called in process from this one has its
    # own Context, and its questions follow its own registration, not this one's.
    return call if call is not None and call.ctx is ctx else None


def with_fallback(
    tool: str,
    fn: Callable[..., Any],
    when: object,
    input_schema: dict[str, Any] | None,
    hints: Callable[[Callable[..., Any]], dict[str, Any]],
) -> tuple[Callable[..., Any], dict[str, Any] | None]:
    """`fn` wrapped to answer its questions as `when` says, and `input_schema` (a schema
    given by the user) with the generated argument added; both unchanged for "error".
    `hints` resolves `fn`'s annotations (`mcpkit.server.schemas._hints.resolve_hints`).
    ValueError for an unknown `when`, TypeError for a tool that cannot ask at all."""
    if when not in WHEN_CANNOT_ASK:
        raise ValueError(
            f"tool {tool!r}: when_cannot_ask must be one of {', '.join(map(repr, WHEN_CANNOT_ASK))}"
            f", not {when!r}"
        )
    # "error" is what a tool without the option does already: nothing to wrap.
    if when == "error":
        return fn, input_schema
    ctx_param = context_parameter(fn)
    if ctx_param is None or not inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"tool {tool!r}: when_cannot_ask={when!r} is for a tool that asks, an `async def` "
            "taking a Context (which its questions go through)"
        )
    argument = _confirm_argument(tool, fn) if when == "confirm" else None
    fallback = Fallback(tool, cast("WhenCannotAsk", when), argument)
    wrapper = _wrapped(fn, fallback, ctx_param)
    if when == "url":
        _out_of_band.add(wrapper)
    _give_signature(wrapper, fn, hints(fn), argument)
    # A schema given by hand gets the argument here; one made from the signature gets it
    # from the signature given to the wrapper just above.
    if argument is not None and input_schema is not None:
        properties = {**input_schema.get("properties", {}), argument: _argument_schema()}
        input_schema = {**input_schema, "properties": properties}
    return wrapper, input_schema


def _confirm_argument(tool: str, fn: Callable[..., Any]) -> str | None:
    """The generated argument's name: the first of `_CONFIRM_NAMES` `fn` does not use."""
    parameters = inspect.signature(fn).parameters
    argument = next((n for n in _CONFIRM_NAMES if n not in parameters), None)
    if argument is None:
        raise TypeError(f"tool {tool!r} has parameters named {', '.join(_CONFIRM_NAMES)}")
    return argument


def _wrapped(fn: Callable[..., Any], fallback: Fallback, ctx_param: str) -> Callable[..., Any]:
    """`fn` run with its call's fallback set, and ended with the result a fallback raises
    (`CannotAsk`) as its return value."""
    argument = fallback.argument

    async def answering(**kwargs: Any) -> Any:
        # The generated argument is the wrapper's, never passed to `fn`, which lacks it.
        confirmed = bool(kwargs.pop(argument, False)) if argument is not None else False
        ctx = kwargs[ctx_param]
        # The arguments as the model gave them, for a question to show the user what
        # they agree to (the Context is no argument).
        shown = {k: v for k, v in kwargs.items() if k != ctx_param}
        token = _current.set(FallbackCall(ctx, fallback, confirmed, shown))
        try:
            return await fn(**kwargs)
        except CannotAsk as stop:
            return stop.result
        finally:
            _current.reset(token)

    # Named and documented as `fn`, but no `__wrapped__`: its own signature is the one to read.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(answering, name, getattr(fn, name, None))
    return answering


def _give_signature(
    wrapper: Callable[..., Any],
    fn: Callable[..., Any],
    hints: dict[str, Any],
    argument: str | None,
) -> None:
    """Give `wrapper` `fn`'s signature and resolved hints, plus `argument: bool = False`."""
    signature = inspect.signature(fn)
    kept = list(signature.parameters.values())
    if argument is None:
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        wrapper.__annotations__ = dict(hints)
        return
    # Optional (default False): a first call, made before the user was asked, omits it.
    hint = Annotated[bool, msgspec.Meta(description=_DESCRIPTION)]
    added = inspect.Parameter(
        argument, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=hint
    )
    # Before a `**kwargs`, which must stay last for the signature to be valid.
    extra = [p for p in kept if p.kind is inspect.Parameter.VAR_KEYWORD]
    kept = [p for p in kept if p.kind is not inspect.Parameter.VAR_KEYWORD]
    wrapper.__signature__ = signature.replace(parameters=[*kept, added, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**hints, argument: hint}


def _argument_schema() -> dict[str, Any]:
    """The generated argument's schema, as the signature's hint would give it."""
    return {"type": "boolean", "default": False, "description": _DESCRIPTION}


class _Tool(Protocol):
    """A registered tool, as far as `refuse_out_of_band` reads it."""

    @property
    def name(self) -> str: ...

    @property
    def fn(self) -> Callable[..., Any]: ...


def refuse_out_of_band(tools: Iterable[_Tool], where: str) -> None:
    """ValueError naming the tools with when_cannot_ask="url" among `tools`, for a server
    starting `where` ("over stdio"), where no HTTP app serves their approval page
    (`mcpkit.transports.deployment.approval_page`)."""
    # Refused as the server starts, not at the first question: over stdio the page could
    # never be reached, and the tool would fail every call that asks.
    found = sorted(tool.name for tool in tools if tool.fn in _out_of_band)
    if found:
        raise ValueError(
            f"tools {', '.join(map(repr, found))} have when_cannot_ask='url', whose approval "
            "page only an HTTP server serves, and this server is starting "
            f"{where}: serve it over Streamable HTTP, or register them with "
            "when_cannot_ask='confirm'"
        )
