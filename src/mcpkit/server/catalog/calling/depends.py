"""Dependency injection's markers: `Depends`, the built-in dependencies (the caller's token
and its claims, the request's headers, the lifespan state), and which of them a parameter
asks for. `injection` works out a handler's dependencies and fills them.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final, Protocol, TypeAlias

from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import McpkitError
from mcpkit.protocol.events import RequestInfo
from mcpkit.server.catalog.calling.invoke import is_context_annotation
from mcpkit.server.schemas._annotations import type_name

__all__ = [
    "BUILTINS",
    "CONTEXT",
    "ContextView",
    "CurrentToken",
    "Dependency",
    "Depends",
    "LifespanState",
    "RequestHeaders",
    "TokenClaims",
    "source_of",
]


class _Settings(Protocol):
    """What running a dependency needs of the server: where a plain `def` one runs."""

    @property
    def sync_in_thread(self) -> bool: ...


class ContextView(Protocol):
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
        # Refused where `Depends(...)` is written, so the traceback points at the mistake
        # rather than at a call long after.
        if not callable(fn):
            raise TypeError(f"Depends() takes a function, not {fn!r}")
        self.fn = fn

    def __repr__(self) -> str:
        return f"Depends({type_name(self.fn)})"


def Depends(fn: Callable[..., Any]) -> Any:
    """Mark a handler parameter as the value `fn` gives, as a default (`db: Db =
    Depends(get_db)`) or in its hint (`db: Annotated[Db, Depends(get_db)]`).

    `fn` may be sync or async, a generator (the code after its `yield` runs once the handler
    has returned or raised) or a context manager made with `@asynccontextmanager` or
    `@contextmanager` (entered for the call, exited after it), and may itself take the
    Context and other dependencies; every
    other parameter of it needs a default. Typed Any so that the default form type-checks."""
    return Dependency(fn)


# ---------------------------------------------------------------- the built-ins

# Read-only, and shared by every request without a token or headers: a handler that writes
# to what it was given cannot change what the next request gets.
_NO_CLAIMS: Final[Mapping[str, Any]] = MappingProxyType({})
_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})


def _token(ctx: ContextView) -> AccessToken | None:
    return ctx.auth


def _required_token(ctx: ContextView) -> AccessToken:
    """The token for a parameter annotated `AccessToken` alone, which promises the handler
    one: a request without it fails, rather than hand the handler None."""
    token = ctx.auth
    if token is None:
        raise McpkitError(
            "the handler takes the caller's access token (a parameter annotated "
            "AccessToken), and this request has none: only a protected HTTP endpoint "
            "verifies one (docs/auth.md); annotate it `AccessToken | None` to serve callers "
            "without one"
        )
    return token


def _claims(ctx: ContextView) -> Mapping[str, Any]:
    token = ctx.auth
    return _NO_CLAIMS if token is None else token.claims


#: Request headers `RequestHeaders` leaves out: they carry the client's credentials.
_CREDENTIALS: Final = frozenset({"authorization", "cookie", "proxy-authorization"})


def _headers(ctx: ContextView) -> Mapping[str, str]:
    info = ctx.request_info
    if info is None:
        return _NO_HEADERS
    joined: dict[str, str] = {}
    for key, raw in info.headers:
        name = key.decode("latin-1")
        # Credentials stay out: the bearer token must not travel further
        # (basic/authorization, "Access Token Privilege Restriction"; CurrentToken gives
        # what it proved), nor the client's cookies or its credentials for a proxy, which a
        # handler could pass on as easily.
        if name in _CREDENTIALS:
            continue
        value = raw.decode("latin-1")
        joined[name] = f"{joined[name]}, {value}" if name in joined else value  # RFC 9110 5.3
    return MappingProxyType(joined)


def _lifespan_state(ctx: ContextView) -> Any:
    return ctx.lifespan_state


#: The caller's verified access token, None where the request has none (stdio, memory, an
#: unprotected endpoint). A parameter annotated `AccessToken` itself gets it too, and fails
#: the call when there is none.
CurrentToken: TypeAlias = Annotated[AccessToken | None, Dependency(_token)]
#: The claims of the caller's token (JWT claims or the introspection answer); empty without.
TokenClaims: TypeAlias = Annotated[Mapping[str, Any], Dependency(_claims)]
#: The HTTP request's headers, lower-case names, repeats joined with ", ", less the client's
#: credentials (`authorization`, `cookie`, `proxy-authorization`); empty over stdio and in
#: memory.
RequestHeaders: TypeAlias = Annotated[Mapping[str, str], Dependency(_headers)]
#: What the server's lifespan hook yielded; `Annotated[MyState, LifespanState]` types it.
LifespanState: TypeAlias = Annotated[Any, Dependency(_lifespan_state)]

# They read the Context alone, and never block: called on the loop, with no thread hop.
BUILTINS: Final = frozenset({_token, _required_token, _claims, _headers, _lifespan_state})


#: Where a parameter's value comes from when it is the request's Context itself.
CONTEXT: Final = "context"


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


def source_of(p: inspect.Parameter, hint: Any) -> Callable[..., Any] | str | None:
    """Where a parameter's value comes from: the Context, a dependency's function, or
    (None) the caller's arguments."""
    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
        return None
    # A marker in the hint wins over one given as the default, and either over the Context
    # or a token known by its type alone.
    marked = _marker(hint)
    if marked is None and isinstance(p.default, Dependency):
        marked = p.default
    if marked is not None:
        return marked.fn
    if is_context_annotation(hint):
        return CONTEXT
    return _token_source(hint)
