"""`mcpkit dev FILE.py[:object]`: run a server file under the web inspector, restarting it and
reconnecting whenever the file or a .py file beside it changes."""

from __future__ import annotations

import argparse

from mcpkit.cli.commands import AddParser

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    dev = add_parser(
        "dev",
        help="develop a server file: the web inspector on it, reloaded on every save",
        description="Serve FILE.py over stdio (through `mcpkit run`), open the web inspector "
        "on it, and restart and reconnect whenever FILE.py or a .py file in its folder "
        "changes. Ctrl-C stops. docs/inspector.md has more.",
    )
    dev.set_defaults(handler=_main, verb_parser=dev)
    dev.add_argument(
        "target",
        metavar="FILE.py[:object]",
        help="a server file, and optionally the name of its Server",
    )
    dev.add_argument("--port", type=int, help="the inspector's port (default: a free one)")
    dev.add_argument(
        "--no-browser",
        action="store_true",
        help="print a one-time link to the inspector, open no browser",
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import os
    from pathlib import Path

    from mcpkit.inspector import serve_inspector
    from mcpkit.inspector.watch import files_to_watch
    from mcpkit.server.server import MASK_ERRORS_VARIABLE

    file = Path(str(args.target).partition(":")[0])
    if file.suffix != ".py" or not file.is_file():
        parser.error(f"{args.target} is not a Python file; give one, as in `mcpkit dev server.py`")
    if args.port is not None and not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port: give 1 to 65535, or 0 for a free one")
    # Developing: the server it runs shows an exception's text to the inspector (a server
    # that sets mask_error_details itself keeps its choice).
    os.environ.setdefault(MASK_ERRORS_VARIABLE, "0")
    return serve_inspector(
        args.target,
        port=args.port,
        open_browser=not args.no_browser,
        watch=files_to_watch(file),
    )
