"""`mcpkit run FILE.py[:object]` (or `MODULE[:object]`, or an `mcpServers` config `FILE.json`):
load a Server and serve it over stdio or Streamable HTTP."""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from mcpkit.errors import MissingExtra, UnsupportedAnnotation

__all__ = [
    "ONE_LINE_ERRORS",
    "UNDER_DEV_VARIABLE",
    "find_server",
    "load_config",
    "load_file",
    "load_module",
    "load_server",
    "run",
]

_CONVENTIONAL_NAMES = ("server", "mcp", "app")
_HOW_TO_MAKE_ONE = "create one with `from mcpkit import Server` and `server = Server('my-server')`"
#: What a load says in one `error:` line, naming the fix: mcpkit's own words about how it
#: is used, whose traceback is all mcpkit's and msgspec's frames (`--verbose` shows it).
ONE_LINE_ERRORS: tuple[type[BaseException], ...] = (MissingExtra, UnsupportedAnnotation)
#: Set by `mcpkit dev` for the servers it runs, which it restarts on a save.
UNDER_DEV_VARIABLE = "MCPKIT_DEV"
# Server.run()'s refusal while the user's file is imported for HTTP (`refusing_run`).
_RUN_AT_IMPORT = "mcpkit run is importing this file to serve its Server itself"


def run(
    target: str,
    *,
    transport: str = "stdio",
    http_options: Mapping[str, Any] | None = None,
    store: str | None = None,
    verbose: bool = False,
) -> None:
    """Import the target, find its Server and serve it over `transport`.

    Over stdio the process's stdio is taken BEFORE the user's code is imported (spec:
    basic/transports, stdio: the server writes nothing but MCP messages to stdout), so a
    `print()` at import time, a logging handler made on `sys.stdout`, or a child process
    started there all write to stderr; the protocol keeps private duplicates of fds 0 and 1.
    Over HTTP stdout is the user's: `http_options` are `Server.run()`'s keywords. `store`
    (a URL) replaces the server's store. `verbose`: tracebacks even of the load errors
    said in one line (`ONE_LINE_ERRORS`).
    """
    if transport == "http":
        from mcpkit.server.serving._run import refusing_run

        with refusing_run(_RUN_AT_IMPORT):
            server = load_server(target, verbose=verbose)
        _use_store(server, store)
        _check_workers(server, dict(http_options or {}))
        from mcpkit.cli._serve import serve_http

        serve_http(server, dict(http_options or {}))
        return
    from mcpkit.transports.process_stdio import take_process_stdio

    in_fd, out_fd = take_process_stdio()
    server = load_server(target, verbose=verbose)
    _use_store(server, store)
    from mcpkit.cli._serve import serve_taken_stdio

    serve_taken_stdio(server, in_fd, out_fd)


def _use_store(server: Any, store: str | None) -> None:
    if store is None:
        return
    try:
        server.use_store(store)
    except (ValueError, RuntimeError) as exc:
        raise SystemExit(f"mcpkit run: --store: {exc}") from None


def _check_workers(server: Any, options: Mapping[str, Any]) -> None:
    """Refuse `--workers N` on a store the workers would not share, naming `--store` (the
    Server's `run()` refuses it too, in the words of its keywords)."""
    from mcpkit.server.serving.supervising import unshared_refusal

    workers = options.get("workers", 1)
    refusal = unshared_refusal(server.store, workers, bool(options.get("stateless")))
    if refusal is not None:
        raise SystemExit(
            f"mcpkit run: --workers {workers} needs {refusal}: give --store "
            "redis://HOST:PORT/DB (or --store sqlite:///PATH, on one host), or --workers 1"
        )
    if server.auth is not None:  # then mcpkit[auth] is installed
        from mcpkit.auth.front.app import workers_refusal

        refusal = workers_refusal(server.auth, workers)
        if refusal is not None:
            raise SystemExit(f"mcpkit run: --workers {workers}: {refusal}")


def load_server(target: str, *, verbose: bool = False) -> Any:
    """The Server `FILE.py[:object]` or `MODULE[:object]` names, or the servers of an
    `mcpServers` config, `FILE.json` (`mcpkit.proxy.from_config`). `verbose`: see `run`."""
    if target.endswith(".json"):
        return load_config(Path(target))
    path_text, _, name = target.partition(":")
    path = Path(path_text)
    if path_text.endswith(".py") or path.exists():
        module = load_file(path, verbose=verbose)
    else:
        module = load_module(path_text, verbose=verbose)
    return find_server(module, name or None)


def load_config(path: Path) -> Any:
    """`mcpkit.proxy.from_config` of a JSON file, its mistakes said as the command line says
    them."""
    from mcpkit.proxy.config import ConfigError, from_config

    try:
        return from_config(path, name=path.stem)
    except ConfigError as exc:
        raise SystemExit(f"mcpkit run: {path}: {exc}") from None


def load_file(path: Path, *, verbose: bool = False) -> Any:
    """Import a Python file as a module named after it (its folder goes on sys.path)."""
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise SystemExit(
            f"mcpkit run: {path} {what}{where}; give the path of a .py file that defines a Server"
        )
    sys.path.insert(0, str(path.parent.resolve()))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"mcpkit run: Python cannot import {path}; give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    loader = spec.loader
    _import_user_code(str(path), lambda: loader.exec_module(module), verbose=verbose)
    return module


def load_module(dotted: str, *, verbose: bool = False) -> Any:
    """Import an installed module by its dotted name (`mypackage.server`); the current
    directory goes on sys.path first, as `python -m` does."""
    sys.path.insert(0, str(Path.cwd()))
    try:
        if importlib.util.find_spec(dotted) is None:
            _no_such_module(dotted, dotted)
    except ModuleNotFoundError as exc:  # a parent package is missing
        _no_such_module(dotted, exc.name)
    except ValueError:  # "mcpkit run .x": not a module name; the import says so below
        pass
    return _import_user_code(dotted, lambda: importlib.import_module(dotted), verbose=verbose)


def _no_such_module(dotted: str, missing: str | None) -> NoReturn:
    raise SystemExit(
        f"mcpkit run: no such file or module: {dotted} (cannot find {missing!r} "
        f"from {Path.cwd()}); give a FILE.py path, or run from the folder that "
        "holds the package"
    )


def _from_user_frames(exc: BaseException) -> BaseException:
    """`exc` with its traceback starting at the user's first frame: mcpkit's and importlib's
    frames of the import before it say nothing about the user's error."""
    from mcpkit.inspector.failure import is_user_file

    tb = exc.__traceback__
    while tb is not None and not is_user_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is None and isinstance(exc, SyntaxError):
        # the file itself does not compile: no frame of it ran, and its `File "...", line N`
        # with the caret is all there is to show (as `python server.py` shows it)
        return exc.with_traceback(None)
    return exc if tb is None else exc.with_traceback(tb)


def _import_user_code(what: str, load: Callable[[], Any], *, verbose: bool) -> Any:
    """Run the user's module; if it raises, show its traceback and say where it came from
    (a mistake mcpkit names itself: that one line, and the traceback only if `verbose`)."""
    try:
        return load()
    except SystemExit:
        raise
    except BaseException as exc:
        from mcpkit.errors import TransportError

        if isinstance(exc, ONE_LINE_ERRORS):
            if verbose:
                traceback.print_exception(exc, file=sys.stderr)
            raise SystemExit(
                f"mcpkit run: {_user_line(exc) or f'importing {what}'}: {exc}"
            ) from None
        traceback.print_exception(_from_user_frames(exc), file=sys.stderr)
        # The words of take_process_stdio's refusal (process_stdio.py): the stdio was taken
        # by run() above, so a second taker is the user's own server.run() at import time;
        # over HTTP, Server.run() refuses with our own words.
        stdio_taken = isinstance(exc, TransportError) and "stdio is already used" in str(exc)
        if stdio_taken or (isinstance(exc, RuntimeError) and str(exc) == _RUN_AT_IMPORT):
            raise SystemExit(
                f"mcpkit run: {what} calls server.run() while it is imported, but "
                "`mcpkit run` serves the Server itself: put that call under "
                '`if __name__ == "__main__":`'
            ) from None
        again = "save the file to reload it" if os.environ.get(UNDER_DEV_VARIABLE) else "run again"
        raise SystemExit(
            f"mcpkit run: importing {what} raised {type(exc).__name__} (traceback "
            f"above); fix that error in your code and {again}"
        ) from None


def _user_line(exc: BaseException) -> str | None:
    """`FILE.py, line N`: the user's innermost frame that `exc` passed, if any."""
    from mcpkit.inspector.failure import is_user_file

    line = None
    for frame, number in traceback.walk_tb(exc.__traceback__):
        if is_user_file(frame.f_code.co_filename):
            line = f"{Path(frame.f_code.co_filename).name}, line {number}"
    return line


def find_server(module: Any, name: str | None) -> Any:
    """The Server named `name`, or the one in a variable called server, mcp or app."""
    from mcpkit.server.server import Server

    where = getattr(module, "__file__", None) or module.__name__
    if name is not None:
        if not hasattr(module, name):
            raise SystemExit(
                f"mcpkit run: {where} has no object named {name!r}{_servers_hint(module, Server)}"
            )
        obj = getattr(module, name)
        if not isinstance(obj, Server):
            raise SystemExit(
                f"mcpkit run: {name!r} in {where} is {_describe(obj)}, not an "
                f"mcpkit Server{_servers_hint(module, Server)}"
            )
        return obj
    for candidate in _CONVENTIONAL_NAMES:
        obj = getattr(module, candidate, None)
        if isinstance(obj, Server):
            return obj
    found = _names_of(module, Server)
    if len(found) == 1:
        return getattr(module, found[0])
    if found:
        raise SystemExit(
            f"mcpkit run: {where} has several Servers ({', '.join(found)}); "
            f"name the one to serve: mcpkit run {where}:{found[0]}"
        )
    raise SystemExit(_no_server_message(module, where))


def _no_server_message(module: Any, where: str) -> str:
    for candidate in _CONVENTIONAL_NAMES:
        if hasattr(module, candidate):
            obj = getattr(module, candidate)
            return (
                f"mcpkit run: `{candidate}` in {where} is {_describe(obj)}, not an mcpkit "
                f"Server; {_HOW_TO_MAKE_ONE}"
            )
    return (
        f"mcpkit run: {where} defines no mcpkit Server (looked for `server`, `mcp`, `app` "
        f"and any Server object); {_HOW_TO_MAKE_ONE}, or name it: FILE.py:object"
    )


def _servers_hint(module: Any, server_type: type) -> str:
    found = _names_of(module, server_type)
    if found:
        return f"; its Servers: {', '.join(found)}"
    return f"; it defines no mcpkit Server: {_HOW_TO_MAKE_ONE}"


def _names_of(module: ModuleType, kind: type) -> list[str]:
    """The names of the module's global variables whose values are instances of `kind`."""
    return [name for name, value in vars(module).items() if isinstance(value, kind)]


def _describe(obj: object) -> str:
    """`a Foo (from package.module)` for a value the user may not have meant."""
    kind = type(obj)
    if isinstance(obj, type):
        return f"the class {obj.__module__}.{obj.__qualname__} (an instance is needed)"
    if kind.__module__ == "builtins" and not callable(obj):
        shown = repr(obj)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        return f"{_a(kind.__name__)} ({shown})"
    if callable(obj) and hasattr(obj, "__name__") and not hasattr(obj, "__self__"):
        return f"a function ({obj.__name__}); a Server object is needed"
    return f"{_a(kind.__qualname__)} (from {kind.__module__})"


def _a(noun: str) -> str:
    """The article: "an int", "a str", and for an acronym by its letter's sound: "an MCPServer"."""
    acronym = noun[:2].isupper()
    vowel_sound = noun[:1] in "AEFHILMNORSX" if acronym else noun[:1].lower() in "aeiou"
    return f"an {noun}" if vowel_sound else f"a {noun}"
