"""The check, when a server starts, that the installed uvicorn still has the shape the
connection limits of `mcpkit.transports.deployment.uvicorn_protocol` (`guarded`) read of its HTTP
protocols: the methods they hook and the attributes they read of the protocol and of its
request cycle, which that module's docstring lists and says what each is for.

The check reads uvicorn's source and nothing else: each class's methods are looked up, and the
attributes assigned on `self` are found in the parsed source of the class and its bases (a few
milliseconds, once per start; nothing of uvicorn runs). Its own module because it runs once, at
start, and never on a request's path.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from mcpkit._extras import needs_extra

__all__ = ["UvicornShapeChanged", "check_uvicorn_shape"]

# What `uvicorn_protocol.ConnectionGuard` takes from uvicorn (its module docstring says what
# each is for).
_PROTOCOL_METHODS: Final = ("connection_made", "data_received", "on_response_complete")
_PROTOCOL_ATTRIBUTES: Final = ("connections", "cycle", "transport", "loop", "client")
_CYCLE_CLASS: Final = "RequestResponseCycle"
_CYCLE_ATTRIBUTES: Final = (
    "more_body",
    "response_started",
    "response_complete",
    "disconnected",
    "message_event",
    "scope",
    "transport",
)
_CYCLE_METHODS: Final = ("send",)


class UvicornShapeChanged(RuntimeError):
    """The uvicorn installed lacks what the connection limits read of its protocol."""


def check_uvicorn_shape(base: type[Any]) -> None:
    """Raise `UvicornShapeChanged`, naming each missing piece, unless `base` (a uvicorn HTTP
    protocol class) has the methods and sets the attributes the connection limits read, and
    its module's request cycle sets those of the cycle (`uvicorn_protocol`'s docstring lists
    them). Read from uvicorn's source (a few milliseconds, once per server start): nothing of
    uvicorn runs."""
    missing = _missing(base)
    if missing:
        with needs_extra("http"):
            import uvicorn

        raise UvicornShapeChanged(
            f"mcpkit's connection limits (header_timeout, body_timeout, max_connections) "
            f"read uvicorn's protocol internals, and uvicorn {uvicorn.__version__} lacks: "
            f"{', '.join(missing)}. Serve with a uvicorn release mcpkit was checked with "
            "(mcpkit.transports.deployment.uvicorn_protocol says which), or without "
            "`http=app.uvicorn_protocol()` (and without these limits)."
        )


def _missing(base: type[Any]) -> tuple[str, ...]:
    if _module_tree(base.__module__) is None:  # installed without its .py files
        return (f"the source of {base.__module__} (the check reads it)",)
    missing = [
        f"{base.__name__}.{name}()"
        for name in _PROTOCOL_METHODS
        if not callable(getattr(base, name, None))
    ]
    set_on_self = _assigned_on_self(base)
    missing += [f"{base.__name__}.{n}" for n in _PROTOCOL_ATTRIBUTES if n not in set_on_self]
    cycle = getattr(sys.modules.get(base.__module__), _CYCLE_CLASS, None)
    if not isinstance(cycle, type):
        return (*missing, f"{base.__module__}.{_CYCLE_CLASS}")
    set_on_cycle = _assigned_on_self(cycle)
    missing += [f"{_CYCLE_CLASS}.{n}" for n in _CYCLE_ATTRIBUTES if n not in set_on_cycle]
    missing += [
        f"{_CYCLE_CLASS}.{n}()" for n in _CYCLE_METHODS if not callable(getattr(cycle, n, None))
    ]
    return tuple(missing)


def _assigned_on_self(cls: type[Any]) -> set[str]:
    """The attributes the methods of `cls` and its bases assign on `self` (`self.x = ...`,
    `self.x: T = ...`), read from their modules' source; a class without source (a builtin,
    one made at run time) counts for none, and asyncio's own are skipped."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] in ("builtins", "asyncio"):
            continue
        tree = _module_tree(klass.__module__)
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
                names.update(_self_targets(node))
    return names


@cache
def _module_tree(name: str) -> ast.Module | None:
    """Module `name`'s source, parsed (a module's source does not change while it runs)."""
    module = sys.modules.get(name)
    try:
        return ast.parse(inspect.getsource(module)) if module is not None else None
    except (OSError, TypeError):
        return None


def _self_targets(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        targets = child.targets if isinstance(child, ast.Assign) else []
        if isinstance(child, ast.AnnAssign):
            targets = [child.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                yield target.attr
