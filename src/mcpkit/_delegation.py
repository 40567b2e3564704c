"""`served_by`: a public method of a class that one of the collaborators its instances hold
serves, with that method's signature and docstring (written once, where the work is);
`served_property`, the same for a read-only property."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

__all__ = ["served_by", "served_property"]

H = TypeVar("H")
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def served_by(
    holder: str, method: Callable[Concatenate[H, P], R]
) -> Callable[Concatenate[Any, P], R]:
    """`add_tool = served_by("_catalog", Catalog.add_tool)` in a class body: a method that
    calls `method` on the collaborator held in the instance's attribute `holder`.

    It is a plain function, so type checkers see a method of `method`'s signature (a class
    checked against a Protocol that lists the method matches it), and `help()` and `inspect`
    show that signature and docstring, on the class and on an instance alike. (An overloaded
    method loses its overloads this way: write those out.)"""

    def served(self: object, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, holder), *args, **kwargs)

    functools.update_wrapper(served, method)
    return served


class served_property(Generic[T]):
    """`server_info = served_property("_connector", Connector.server_info)` in a class body:
    a read-only property whose value `method` (taking nothing but its instance) gives, called
    on the collaborator held in the instance's attribute `holder`; its docstring is
    `method`'s, and type checkers see the property's type as `method`'s return type."""

    def __init__(self, holder: str, method: Callable[[Any], T]) -> None:
        self._holder = operator.attrgetter(holder)
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...

    def __get__(self, instance: object | None, owner: type[Any]) -> Self | T:
        if instance is None:
            return self
        return self._method(self._holder(instance))

    def __set__(self, instance: object, value: object) -> None:
        raise AttributeError("a read-only property")
