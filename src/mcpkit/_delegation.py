"""`served_by`: a public method of a class that one of the collaborators its instances hold
serves, with that method's signature and docstring (written once, where the work is)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["served_by"]

H = TypeVar("H")
P = ParamSpec("P")
R = TypeVar("R")


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
