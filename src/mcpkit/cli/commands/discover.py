"""`mcpkit discover`: the MCP servers configured on this machine (Claude Desktop, Claude Code,
Cursor, VS Code, Gemini CLI, Goose, the project's mcp.json), and the files they are in, read
only; each usable as a TARGET by its `HOST:NAME`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, cast

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.client.host_configs.configured import ConfigFile, FoundServer

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "discover",
        help="list the MCP servers the hosts on this machine are configured with",
        description="List the servers Claude Desktop, Claude Code, Cursor, VS Code, Gemini "
        "CLI, Goose and the current project's mcp.json are configured with, and the files "
        "read (nothing is changed). Each is a TARGET by its HOST:NAME, as in "
        "`mcpkit list cursor:github`. docs/cli.md has examples.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    verb.add_argument("--json", action="store_true", help="print JSON, for scripts")
    verb.add_argument(
        "--show-secrets",
        action="store_true",
        help="print the values of each entry's env and headers in --json (hidden by "
        "default: they often hold API keys, and discover's output gets pasted)",
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.host_configs.configured import Places, read_all

    ui = Terminal(json_output=args.json)
    files = read_all(Places.here())
    used = _used(files)
    if args.json:
        ui.json(
            {
                "servers": [
                    _server_json(s, args.show_secrets, id(s) in used)
                    for file in files
                    for s in file.servers
                ],
                "files": [_file_json(file) for file in files],
            }
        )
        return 0
    servers = [server for file in files for server in file.servers]
    if servers:
        rows = [(s.target, _scope(s, id(s) in used), _reached_by(s), str(s.path)) for s in servers]
        ui.table("MCP servers on this machine", ("TARGET", "scope", "runs", "file"), rows)
    else:
        ui.text("No host on this machine is configured with an MCP server.")
    ui.table(
        "Files read",
        ("host", "scope", "file", "found"),
        [(f.host, f.scope, str(f.path), _state(f)) for f in files],
    )
    return 0


def _used(files: list[ConfigFile]) -> set[int]:
    """The servers (by id) each `HOST:NAME` runs: the first of that name, as `read_all` puts
    the user's own files before the project's."""
    first: dict[str, FoundServer] = {}
    for file in files:
        for server in file.servers:
            first.setdefault(server.target, server)
    return {id(server) for server in first.values()}


def _scope(server: FoundServer, used: bool) -> str:
    """The scope, and for a project's server what `HOST:NAME` does with it."""
    if not server.from_project:
        return server.scope
    if not used:
        return "project, not used: the user's of that name is"
    return "project, asks first" if "command" in server.entry else server.scope


def _reached_by(server: FoundServer) -> str:
    entry = server.entry
    if "url" in entry:
        shown = str(entry["url"])
    else:
        args: list[object] = entry.get("args") or []
        words = [str(entry.get("command")), *(str(arg) for arg in args)]
        shown = " ".join(words)
    return shown + (" (disabled)" if server.disabled else "")


def _state(file: ConfigFile) -> str:
    if file.problem is not None:
        return f"unreadable: {file.problem}"
    if not file.exists:
        return "no such file"
    count = len(file.servers)
    return f"{count} server{'s' if count != 1 else ''}"


#: What stands for a value `--show-secrets` would print.
HIDDEN = "<hidden: --show-secrets>"


def _shown(entry: dict[str, Any], secrets: bool) -> dict[str, Any]:
    """`entry`, with the values of its env and headers hidden unless `secrets`."""
    if secrets:
        return entry
    shown = dict(entry)
    for field in ("env", "headers"):
        values: object = entry.get(field)
        if isinstance(values, dict):
            shown[field] = {str(name): HIDDEN for name in cast("dict[object, object]", values)}
    return shown


def _server_json(server: FoundServer, secrets: bool, used: bool) -> dict[str, Any]:
    return {
        "target": server.target,
        "host": server.host,
        "scope": server.scope,
        "name": server.name,
        "file": str(server.path),
        "entry": _shown(server.entry, secrets),
        "ignored": list(server.ignored),
        "disabled": server.disabled,
        # whether its HOST:NAME runs this entry (a project's loses to the user's of that name)
        "used": used,
    }


def _file_json(file: ConfigFile) -> dict[str, Any]:
    return {
        "host": file.host,
        "scope": file.scope,
        "file": str(file.path),
        "exists": file.exists,
        "servers": len(file.servers),
        "problem": file.problem,
    }
