"""A deadline on every call to a store that waits on something else (a Redis server, a SQLite
file another process has locked): `bounded(store, deadline)` is `store` with each of its
coroutine methods answered within `deadline.seconds`, or failed with `StoreUnavailable`
naming the store and the setting that bounds it (the store URL's `?timeout=`).

A store that hangs (Redis stopped, a network that drops packets) would otherwise hold every
request that touches it, and a store that is down would surface as whatever its client
library raises, after its own retries. One wrapper at the store boundary, applied where
`open_store` builds the stores, so that no caller adds timeouts of its own and every caller
meets one exception: the HTTP endpoint answers it with 503 and Retry-After before a
response starts, a handler's caller with a JSON-RPC error, a background task with a log
line (docs/deploy.md, "When the store is down").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

__all__ = [
    "DEFAULT_STORE_TIMEOUT",
    "StoreDeadline",
    "StoreUnavailable",
    "bounded",
    "outage_message",
    "store_kind",
]

_T = TypeVar("_T")

#: Seconds a store call made inside a request may take (`?timeout=` on the store URL).
DEFAULT_STORE_TIMEOUT: Final = 5.0


class StoreUnavailable(ConnectionError):
    """The store a server was given does not answer (`Stores.check`, or a call past its
    deadline); the message names its URL (any password hidden) and why."""


@dataclass(frozen=True, slots=True)
class StoreDeadline:
    """How long a call to the store at `url` (any password hidden) may take: `seconds`; and
    the exceptions of its client library that mean it cannot be reached (`unreachable`: a
    refused connection, a dropped one, a locked file), which become `StoreUnavailable` as a
    missed deadline does."""

    url: str
    seconds: float = DEFAULT_STORE_TIMEOUT
    unreachable: tuple[type[Exception], ...] = (OSError,)

    async def run(self, work: Awaitable[_T], more: float = 0.0) -> _T:
        """`work`'s outcome within `seconds` (plus `more`: a wait asked for on purpose);
        StoreUnavailable past it, or when the store cannot be reached."""
        try:
            async with asyncio.timeout(self.seconds + more):
                return await work
        except TimeoutError:
            raise StoreUnavailable(
                f"the store {self.url} did not answer within {self.seconds:g} s (its timeout "
                "setting: ?timeout= on the store URL)"
            ) from None
        except StoreUnavailable:
            raise
        except self.unreachable as exc:
            reason = (str(exc) or type(exc).__name__).rstrip(".")
            raise StoreUnavailable(f"cannot reach the store {self.url} ({reason})") from exc


def outage_message(url: str, timeout: float) -> str:
    """What a client is told when the store at `url` is out of reach: its kind and the
    setting that bounds the wait, never its address (the log has that: it names hosts a
    client has no business knowing, as `mcpkit.errors.shown_when_masked` says of a
    transport's failures)."""
    return (
        f"the server's {store_kind(url)} store does not answer (each call to it waits at most its "
        f"timeout setting, {timeout:g} s)"
    )


def store_kind(url: str) -> str:
    """The kind of store `url` names ("redis", "sqlite"...), all a client is told of it."""
    return url.partition("://")[0].lower() or "state"


def bounded(store: _T, deadline: StoreDeadline) -> _T:
    """`store`, each of its coroutine methods run under `deadline` (`StoreDeadline.run`).
    A method with a `timeout` parameter (`TaskStore.wait`: seconds it waits on purpose) gets
    that much longer. Anything else is `store`'s own attribute, so the result still passes
    the `isinstance` checks of the store's interfaces."""
    return cast(_T, _Bounded(store, deadline))


class _Bounded:
    """The proxy `bounded` returns: each coroutine method wrapped once, on first use."""

    def __init__(self, inner: object, deadline: StoreDeadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(value):
            return value
        wrapped = _wrap(value, self._deadline)
        setattr(self, name, wrapped)  # found in the instance from now on: no second lookup
        return wrapped

    @property  # type: ignore[misc]  # read-only on purpose: `isinstance` reads it
    def __class__(self) -> type:  # pyright: ignore[reportIncompatibleMethodOverride]
        """The store's class, so that `isinstance(bounded(store), type(store))` holds, as it
        does for the store's interfaces (the way `unittest.mock` passes for its spec)."""
        return type(self._inner)

    def __repr__(self) -> str:
        return f"bounded({self._inner!r}, {self._deadline.seconds:g} s)"


def _wrap(method: Callable[..., Awaitable[Any]], deadline: StoreDeadline) -> Callable[..., Any]:
    waits = _timeout_argument(method)

    @functools.wraps(method)
    async def within(*args: Any, **kwargs: Any) -> Any:
        more = 0.0
        if waits is not None:
            given = kwargs.get("timeout", args[waits] if len(args) > waits else None)
            more = float(given) if isinstance(given, (int, float)) else 0.0
        return await deadline.run(method(*args, **kwargs), more)

    return within


def _timeout_argument(method: Callable[..., Awaitable[Any]]) -> int | None:
    """The position of `method`'s `timeout` parameter, or None when it has none."""
    names = list(inspect.signature(method).parameters)
    return names.index("timeout") if "timeout" in names else None
