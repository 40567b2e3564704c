"""The extras of pyproject.toml by the modules they bring, and the one way mcpkit imports
one of those modules: a missing one is a `MissingExtra` that names the `pip install` to run,
never a bare ModuleNotFoundError that reads like a mistake in the user's code.

Every import of an extra's module goes through `needs_extra` (a `with` block around the
import statements, so type checkers still see them) or `import_extra` (by name);
tests/test_extras.py walks the tree to keep it so.
"""

from __future__ import annotations

import importlib
from types import ModuleType, TracebackType
from typing import Final

from mcpkit.errors import MissingExtra

__all__ = ["EXTRAS", "import_extra", "missing_message", "needs_extra"]

_HTTP: Final = frozenset({"uvicorn", "httptools", "httpx", "sniffio"})
_AUTH: Final = _HTTP | {"joserfc", "cryptography"}  # cryptography: joserfc's, used directly too

#: Each extra and the top-level modules it installs (those of the extras it includes, too).
EXTRAS: Final[dict[str, frozenset[str]]] = {
    "http": _HTTP,
    "auth": _AUTH,
    "fast": frozenset({"uvloop"}),
    "openapi": _HTTP | {"yaml", "referencing"},
    "otel": frozenset({"opentelemetry"}),
    "redis": frozenset({"redis", "hiredis"}),
    "anthropic": frozenset({"anthropic"}),
    "openai": frozenset({"openai"}),
    "gemini": frozenset({"google"}),
    "cli": _AUTH | {"yaml", "dotenv"},
    "re2": frozenset({"re2"}),
}

# Where the package to install is not called as its module is imported.
_DISTRIBUTIONS: Final = {
    "yaml": "PyYAML",
    "google": "google-genai",
    "re2": "google-re2",
    "dotenv": "python-dotenv",
}


class needs_extra:
    """Import statements of an extra's modules: a module of `extra` that is missing raises
    MissingExtra naming the extra; any other failure passes as it is. `what` says what
    needs it ("serving over HTTP"); by default, the module whose import statement failed."""

    __slots__ = ("extra", "what")

    def __init__(self, extra: str, what: str | None = None) -> None:
        if extra not in EXTRAS:
            raise ValueError(f"no extra {extra!r}; mcpkit's extras are {', '.join(EXTRAS)}")
        self.extra = extra
        self.what = what

    def __enter__(self) -> None:
        return None

    # Returns None (never True): it swallows nothing, so type checkers know the names
    # imported in the block are bound after it.
    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, MissingExtra):
            if self.what is not None:  # said by what the caller was doing, not by a module
                said = missing_message(exc.name or "", exc.extra, self.what)
                raise MissingExtra(said, name=exc.name or "", extra=exc.extra) from exc.__cause__
            return
        if not isinstance(exc, ModuleNotFoundError):
            return
        what = self.what
        if what is None and tb is not None:
            what = str(tb.tb_frame.f_globals.get("__name__", "mcpkit"))
        missing = _missing_extra(exc, self.extra, what or "mcpkit")
        if missing is not None:
            raise missing from exc


def import_extra(module: str, extra: str, what: str | None = None) -> ModuleType:
    """`module` imported by its dotted name, through `needs_extra(extra, what)`."""
    with needs_extra(extra, what or "this"):
        return importlib.import_module(module)


def missing_message(module: str, extra: str, what: str) -> str:
    """ "`what` needs `package`, which is not installed: pip install 'mcpkit[extra]'"."""
    root = module.partition(".")[0]
    package = _DISTRIBUTIONS.get(root, root)
    return f"{what} needs {package}, which is not installed: pip install 'mcpkit[{extra}]'"


def _missing_extra(exc: ModuleNotFoundError, extra: str, what: str) -> MissingExtra | None:
    name = exc.name or ""
    if name.partition(".")[0] not in EXTRAS[extra]:
        return None  # not one of the extra's modules: a broken install, or a bug
    return MissingExtra(missing_message(name, extra, what), name=name, extra=extra)
