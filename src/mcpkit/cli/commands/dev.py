"""`mcpkit dev FILE.py[:object]`: run a server file under the web inspector, restarting it and
reconnecting whenever the file or a .py file beside it changes; `mcpkit dev HOST:NAME` does
the same for a server a host configured (`mcpkit discover`) that runs a .py file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.client.target import Target

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    from mcpkit.cli._options import add_trust_project

    dev = add_parser(
        "dev",
        help="develop a server file: the web inspector on it, reloaded on every save",
        description="Serve FILE.py over stdio (through `mcpkit run`), open the web inspector "
        "on it, and restart and reconnect whenever FILE.py or a .py file in its folder "
        "changes. HOST:NAME (`mcpkit discover`) runs that server as its host does and "
        "watches the .py file its command runs. Ctrl-C stops. docs/inspector.md has more.",
    )
    dev.set_defaults(handler=_main, verb_parser=dev)
    dev.add_argument(
        "target",
        metavar="FILE.py[:object] | HOST:NAME",
        help="a server file, and optionally the name of its Server; or a server a host "
        "configured (`mcpkit discover`) whose command runs a .py file",
    )
    add_trust_project(dev)
    dev.add_argument("--port", type=int, help="the inspector's port (default: a free one)")
    dev.add_argument(
        "--no-browser",
        action="store_true",
        help="print a one-time link to the inspector, open no browser",
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import os

    from mcpkit.cli._output import Terminal
    from mcpkit.cli._verb_client import EXIT_CONNECT
    from mcpkit.cli.project_trust import trust_of, warn
    from mcpkit.cli.user_server import UNDER_DEV_VARIABLE
    from mcpkit.client.host_configs.configured import host_target
    from mcpkit.client.target import TargetError
    from mcpkit.inspector import serve_inspector
    from mcpkit.inspector.watch import files_to_watch
    from mcpkit.server.core import MASK_ERRORS_VARIABLE

    try:
        configured = host_target(args.target, trust=trust_of(args), warn=warn)
    except TargetError as exc:  # HOST:NAME naming no server: "no session", as every verb
        Terminal().error(str(exc))
        return EXIT_CONNECT
    if configured is None:
        file = Path(str(args.target).partition(":")[0])
        if not file.exists():  # said as `mcpkit run` and `mcpkit list` say it
            Terminal().error(
                f"{file} does not exist (relative to {Path.cwd()}); give a server file, as "
                "in `mcpkit dev server.py`"
            )
            return EXIT_CONNECT
        if file.suffix != ".py" or not file.is_file():
            parser.error(
                f"{args.target} is not a Python file; give one, as in `mcpkit dev server.py`"
            )
    else:
        found = _file_run_by(configured)
        if found is None:
            parser.error(
                f"{args.target} does not run a .py file here, so there is nothing to watch "
                f"({_shown(configured)}): `mcpkit inspect --web {args.target}` inspects it"
            )
        file = found
    if args.port is not None and not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port: give 1 to 65535, or 0 for a free one")
    # Developing: the server it runs shows an exception's text to the inspector (a server
    # that sets mask_error_details itself keeps its choice).
    os.environ.setdefault(MASK_ERRORS_VARIABLE, "0")
    # ...and says, of a file that fails to import, that a save reloads it (not "run again")
    os.environ[UNDER_DEV_VARIABLE] = "1"
    return serve_inspector(
        args.target,
        port=args.port,
        open_browser=not args.no_browser,
        watch=files_to_watch(file),
    )


def _file_run_by(target: Target) -> Path | None:
    """The .py file a configured server's command runs (`mcpkit run server.py`, `python
    server.py:app`, `uv run server.py`...), found in its folder; None for a URL, or a command
    that names no .py file there."""
    if isinstance(target.argv_or_url, str):
        return None
    folder = Path(target.cwd) if target.cwd is not None else Path.cwd()
    for arg in target.argv_or_url[1:]:
        if arg.startswith("-"):
            continue
        path = folder / (arg if arg.endswith(".py") else arg.rpartition(":")[0])
        if path.suffix == ".py" and path.is_file():
            return path
    return None


def _shown(target: Target) -> str:
    if isinstance(target.argv_or_url, str):
        return target.argv_or_url
    return " ".join(target.argv_or_url)
