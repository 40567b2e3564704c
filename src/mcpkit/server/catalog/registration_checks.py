"""Checks run when a feature is registered, so a mistake is reported where it was made,
in the terms the user wrote: a misspelt option, a parameter with no type hint."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from mcpkit.runtime.workers import is_async_callable

__all__ = ["RegistrationWarning", "check_options", "scope_set", "thread_choice", "warn_untyped"]


class RegistrationWarning(UserWarning):
    """A registration that works but probably not as meant (say, a tool parameter with no
    type hint, which accepts any JSON value and tells the model nothing about it).
    Filter it with `warnings.filterwarnings("ignore", category=RegistrationWarning)`."""


def _keyword_options(options: Callable[..., Any] | type[Any]) -> list[str]:
    """The option names `options` takes: a TypedDict's keys, or a function's keyword-only
    parameters (its positional ones are not options)."""
    if isinstance(options, type) and issubclass(options, dict):  # a TypedDict of options
        return list(options.__annotations__)
    parameters = inspect.signature(cast("Callable[..., Any]", options)).parameters.values()
    return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


def check_options(
    where: str,
    options: Mapping[str, Any],
    allowed_by: Callable[..., Any] | type[Any],
    *,
    extra: Iterable[str] = (),
) -> None:
    """Raise TypeError naming `where` (say `server.tool()`) for an option that `allowed_by`
    (a TypedDict of options, or a function's keyword-only parameters) does not have, with
    the closest valid one; Python's own message would name our internals."""
    allowed = [*_keyword_options(allowed_by), *extra]
    unknown = [name for name in options if name not in allowed]
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TypeError(
        f"{where} got an unknown option {name!r}{hint} (its options: {', '.join(sorted(allowed))})"
    )


def scope_set(where: str, scopes: Iterable[str] | None) -> frozenset[str]:
    """The `scopes=` option of a tool, resource or prompt as a set, each an RFC 6750 scope
    token; ValueError naming `where` for a mistake (a single string, say)."""
    from mcpkit.auth.server.challenge import check_scope_token

    if scopes is None:
        return frozenset()
    # A string is an iterable of letters: scopes="read" would ask for r, e, a and d.
    if isinstance(scopes, str):
        raise ValueError(f"{where}: give scopes as a list, such as scopes=[{scopes!r}]")
    try:
        return frozenset(check_scope_token(scope) for scope in scopes)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def thread_choice(where: str, fn: Callable[..., Any], sync_in_thread: object) -> bool | None:
    """A handler's own `sync_in_thread=`: None leaves it to `Server(sync_in_thread=...)`;
    True or False runs a plain `def` in a worker thread or on the event loop. TypeError for
    any other value, and for an `async def`, which always runs on the loop."""
    if sync_in_thread is None:
        return None
    # `type(...) is`: 0 and 1 are ints, not an answer to a yes-or-no question.
    if type(sync_in_thread) is not bool:
        raise TypeError(f"{where}: sync_in_thread must be True or False, not {sync_in_thread!r}")
    if is_async_callable(fn):
        raise TypeError(
            f"{where}: sync_in_thread={sync_in_thread} is for a plain `def`, and this is an "
            "`async def`, which always runs on the event loop: remove sync_in_thread"
        )
    return sync_in_thread


def warn_untyped(kind: str, fn: Callable[..., Any], names: Iterable[str]) -> None:
    """Warn for each parameter of `fn` among `names` that has no annotation."""
    import warnings

    parameters = inspect.signature(fn).parameters
    for name in names:
        if parameters[name].annotation is inspect.Parameter.empty:
            fn_name = getattr(fn, "__qualname__", None) or repr(fn)
            warnings.warn(
                f"{kind} {fn_name}(): parameter {name!r} has no type hint, so it accepts "
                f"any JSON value and its schema tells the model nothing; annotate it "
                f"(for instance `{name}: str`)",
                RegistrationWarning,
                stacklevel=_user_level(),
            )


def _user_level() -> int:
    """The stacklevel of the first caller outside mcpkit.server: the user's decorator line."""
    frame = inspect.currentframe()
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("mcpkit.server"):
        frame = frame.f_back
        level += 1
    del frame  # a frame held past its use keeps every local of its callers alive
    return level - 1
