"""One verb's session with its TARGET: the options every client verb shares, the client opened
with the terminal's handlers, and every way it can end mapped to one exit code."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client
    from mcpkit.types import Root

__all__ = [
    "EXIT_CONNECT",
    "EXIT_DROPPED",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "Body",
    "run_session",
]

EXIT_OK = 0
#: the tool answered isError, or the server answered a JSON-RPC error
EXIT_FAILED = 1
#: the command cannot be sent as given (argparse's own code)
EXIT_USAGE = 2
#: no session: a bad TARGET, a process that exits before initialize, a refused connection, 401
EXIT_CONNECT = 3
#: the session ended during the verb: the server died or the connection dropped
EXIT_DROPPED = 4
#: no answer within --timeout (as timeout(1) reports)
EXIT_TIMEOUT = 124
#: Ctrl+C (128 + SIGINT, as shells report)
EXIT_INTERRUPTED = 130

#: What a verb does once connected: returns its exit code.
Body = Callable[["Client", "Terminal"], Awaitable[int]]


def run_session(args: argparse.Namespace, parser: argparse.ArgumentParser, body: Body) -> int:
    """Connect to `args.target`, run `body`, close; the exit code (docs/cli.md, "Exit
    codes"). Ctrl+C cancels the running request (the server gets notifications/cancelled),
    stops a spawned server and exits 130 with no traceback."""
    from mcpkit.cli._args import UsageError
    from mcpkit.cli._output import Terminal

    ui = Terminal(json_output=args.json, save_dir=getattr(args, "save_dir", None))
    try:
        return asyncio.run(_session(args, ui, body))
    except KeyboardInterrupt:
        ui.stop_progress()
        ui.error("interrupted")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        from mcpkit.cli.main import help_hint

        ui.error(f"{exc}\n{help_hint(parser.prog)}")
        return EXIT_USAGE


async def _session(args: argparse.Namespace, ui: Terminal, body: Body) -> int:
    from mcpkit.cli._args import UsageError
    from mcpkit.cli.project_trust import trust_of, warn
    from mcpkit.client.host_configs.configured import resolve_target
    from mcpkit.client.target import TargetError, open_client, parse_headers
    from mcpkit.errors import McpkitError, RequestTimeout

    try:
        target = resolve_target(args.target, trust=trust_of(args), warn=warn)
    except TargetError as exc:
        ui.error(str(exc))
        return EXIT_CONNECT
    try:
        headers = parse_headers(args.header)
    except TargetError as exc:
        raise UsageError(f"--header: {exc}") from None
    if headers and target.spawns:
        raise UsageError("--header is for URL targets; a server started as a process has none")
    client = open_client(
        target,
        headers=headers or None,
        oauth=args.oauth,
        show_authorization=ui.note,
        **_client_options(args, ui),
    )
    try:
        await client.connect()
    except (RequestTimeout, TimeoutError):
        ui.error(f"{args.target} did not finish the MCP handshake in time")
        await client.aclose()
        return EXIT_TIMEOUT
    except (McpkitError, OSError, ImportError) as exc:  # ImportError: an extra not installed
        said = _shown_once(exc)
        url = target.argv_or_url
        named = isinstance(url, str) and url in said  # "cannot reach URL: ..." says it
        ui.error(said if named else f"cannot connect to {args.target}: {said}")
        await client.aclose()
        return EXIT_CONNECT
    try:
        if args.log_level and client.server_capabilities.logging is not None:
            await client.set_logging_level(args.log_level)
        return await body(client, ui)
    except UsageError:
        raise
    except McpkitError as exc:
        return _failed(ui, exc)
    except OSError as exc:  # a file of ours (--save-dir): said as the shell's tools say it
        where = f"{exc.filename}: " if exc.filename is not None else ""
        ui.error(f"{where}{exc.strerror or exc}")
        return EXIT_FAILED
    finally:
        ui.stop_progress()
        await client.aclose()


def _failed(ui: Terminal, exc: Exception) -> int:
    from mcpkit.errors import (
        LocalProtocolError,
        McpError,
        PeerError,
        RequestTimeout,
        TransportError,
    )

    if isinstance(exc, RequestTimeout):
        ui.error(f"no answer in time: {exc} (raise --timeout, or 0 to wait forever)")
        return EXIT_TIMEOUT
    if isinstance(exc, TransportError):
        ui.error(f"the connection ended: {_shown_once(exc)}")
        return EXIT_DROPPED
    if isinstance(exc, McpError):
        if ui.json_output:  # the error object, for scripts, as a result would be
            error = {"code": exc.code, "message": exc.message}
            ui.json(error if exc.data is None else {**error, "data": exc.data})
        # Only the server's own answer is blamed on it: under 2026-07-28 a question the
        # command line refused (--no-input) ends the call here, before any retry.
        said = "the server answered error" if isinstance(exc, PeerError) else "error"
        ui.error(f"{said} {exc.code}: {exc.message}")
        for line in _url_elicitations(exc):
            ui.note(line)
        return EXIT_FAILED
    if isinstance(exc, LocalProtocolError):
        ui.error(str(exc))
        return EXIT_FAILED
    ui.error(str(exc))
    return EXIT_FAILED


def _shown_once(exc: Exception) -> str:
    """`exc`'s message without the server's last stderr lines it quotes: a server the command
    line started writes its stderr to ours, so they (a traceback, say) are already above."""
    from mcpkit.transports.stdio_client import STDERR_TAIL

    text = str(exc)
    if STDERR_TAIL not in text:
        return text
    return text.split(STDERR_TAIL, 1)[0] + " (its stderr is above)"


def _url_elicitations(exc: Exception) -> list[str]:
    """What a -32042 (URL elicitation required, client/elicitation) asks of the person: each
    URL to open, with why, and what to do then."""
    from mcpkit.cli._args import as_list, as_object
    from mcpkit.errors import McpError
    from mcpkit.protocol.codes import URL_ELICITATION_REQUIRED

    if not isinstance(exc, McpError) or exc.code != URL_ELICITATION_REQUIRED:
        return []
    lines: list[str] = []
    for asked in as_list(as_object(exc.data).get("elicitations")):
        found = as_object(asked)
        why = f" ({found['message']})" if isinstance(found.get("message"), str) else ""
        lines.append(f"  open: {found.get('url')}{why}")
    if lines:
        lines.append("then run the command again")
    return lines


def _client_options(args: argparse.Namespace, ui: Terminal) -> dict[str, Any]:
    from mcpkit.cli._interactive import Asker

    timeout = args.timeout or None
    options: dict[str, Any] = {
        "name": "mcpkit-cli",
        "protocol": getattr(args, "protocol", "auto"),
        "timeout": timeout,
        # the handshake waits for a server to start (imports, npx downloads): at least 30 s
        "init_timeout": None if timeout is None else max(timeout, 30.0),
        "on_log": ui.log,
    }
    # Every verb declares sampling, elicitation and roots: a server may offer some tools only
    # to clients that can answer those (the reference server `everything` does), and the
    # command line must show and reach all of it. `list` and `inspect` refuse what they are
    # asked; `call` asks the person, unless --no-input or nobody is at a terminal.
    if hasattr(args, "no_input"):
        asker = Asker(ui, no_input=args.no_input)
    else:
        asker = Asker(ui, no_input=True, listing=f"mcpkit {args.verb}")
    options["sampling_handler"] = asker.sample
    options["elicitation_handler"] = asker.elicit
    options["url_elicitation_handler"] = asker.elicit_url
    options["roots"] = _roots(getattr(args, "root", None) or [])
    state_key: str | None = getattr(args, "state_key", None)
    if state_key is not None:
        from mcpkit.client.middleware import StateKey

        options["middleware"] = (StateKey(state_key),)
    return options


def _roots(paths: list[str]) -> list[Root]:
    from mcpkit.types import Root

    roots: list[Root] = []
    for text in paths:
        path = Path(text).expanduser().resolve()
        roots.append(Root(uri=path.as_uri(), name=path.name or str(path)))
    return roots
