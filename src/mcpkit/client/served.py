"""`served_by`: a public method of `Client` that one of the collaborators it holds serves, with
that method's signature and docstring (written once, where the work is)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

__all__ = ["served_by"]

H = TypeVar("H")
P = ParamSpec("P")
R = TypeVar("R")


class served_by(Generic[H, P, R]):
    """`list_tools = served_by("_features", FeatureCalls.list_tools)`: on an instance, the
    method bound to the collaborator held in its `_features` attribute; on the class, the
    method itself (so `help(Client)` and `inspect` show its signature and docstring)."""

    def __init__(self, holder: str, method: Callable[Concatenate[H, P], R]) -> None:
        self.holder = holder
        self.method = method

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[Concatenate[H, P], R]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> Any:
        if obj is None:
            return self.method
        held: H = vars(obj)[self.holder]
        return cast("Callable[P, R]", types.MethodType(self.method, held))
