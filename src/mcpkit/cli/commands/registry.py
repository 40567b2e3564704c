"""`mcpkit registry init` writes a server's `server.json` for the MCP registry from its
project's `pyproject.toml` and the server itself; `mcpkit registry validate` checks one
against the registry's published JSON Schema (shipped with mcpkit)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from pathlib import Path

    from mcpkit.cli._output import Terminal
    from mcpkit.server.serving.registry_entry import ListedServer, Project
    from mcpkit.types.server_json import EnvironmentVariable

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "registry",
        help="write or check a server.json for the MCP registry",
        description="Write a server's server.json for the MCP registry (init), or check one "
        "against the registry's JSON Schema (validate). docs/discovery.md has the details.",
    )
    verb.set_defaults(handler=_needs_action, verb_parser=verb)
    actions = verb.add_subparsers(dest="action", metavar="ACTION")
    _register_init(actions.add_parser)
    check = actions.add_parser(
        "validate",
        help="check a server.json against the registry's schema",
        description="Check FILE against the MCP registry's server.json schema (2025-12-11, "
        "shipped with mcpkit): each problem on a line with its JSON path, the value and the "
        "schema's rule. Exit 0 when valid, 1 when not.",
    )
    check.set_defaults(handler=_validate, verb_parser=check)
    check.add_argument("file", metavar="FILE", nargs="?", default="server.json")


def _register_init(add_parser: AddParser) -> None:
    init = add_parser(
        "init",
        help="write a server.json from pyproject.toml and the server",
        description="Write the server.json of the server TARGET names (FILE.py[:object] or "
        "MODULE[:object], as in mcpkit run): its name, version, description, title, website "
        "and icons as its Server Card says them; a PyPI package entry from pyproject.toml "
        "(run by uvx); a streamable-http remote at --url. Then print the mcp-name line the "
        "registry looks for in the package's README.",
    )
    init.set_defaults(handler=_init, verb_parser=init)
    init.add_argument("target", metavar="TARGET", help="the server, as in mcpkit run")
    init.add_argument("--name", help="the registry name, io.github.USER/NAME (default: the card's)")
    init.add_argument(
        "--url", help="the deployed MCP endpoint, https://HOST/mcp (default: the card's)"
    )
    init.add_argument("--out", default="server.json", help="where to write (default server.json)")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    init.add_argument(
        "--pyproject",
        help="the project's pyproject.toml (default: ./pyproject.toml when there is one; "
        "without one, no package entry)",
    )
    init.add_argument("--readme", help="add the mcp-name line to this README unless it is there")
    for option, secret in (("--env", "read"), ("--secret-env", "read, a secret")):
        init.add_argument(
            option,
            action="append",
            default=[],
            metavar="NAME[=DESCRIPTION]",
            help=f"an environment variable the server {secret} (repeatable)",
        )


def _needs_action(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    parser.error("name an action: init or validate")


def _validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import json
    from pathlib import Path

    from mcpkit.cli._output import Terminal
    from mcpkit.types.server_json import REGISTRY_SCHEMA_URL, server_json_problems

    ui = Terminal()
    path = Path(args.file)
    if not path.is_file():
        parser.error(f"FILE: {args.file} is not a file")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        ui.error(f"{path}: cannot read it as JSON: {exc}")
        return 1
    problems = server_json_problems(document)
    for problem in problems:
        ui.error(f"{path}: {problem}")
    if problems:
        return 1
    ui.text(f"{path}: valid against {REGISTRY_SCHEMA_URL}")
    return 0


def _init(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import msgspec

    from mcpkit.cli._output import Terminal
    from mcpkit.server.serving import registry_entry as entry
    from mcpkit.types.server_json import server_json_problems

    ui = Terminal()
    out, readme = _paths(args, parser)
    env = _env(args, parser)
    try:
        project = _project(args, parser)
        document = entry.build_server_json(
            _server(args.target), project, name=args.name, url=args.url, target=args.target, env=env
        )
    except entry.EntryRefused as exc:
        ui.error(str(exc))
        return 1
    encoded = msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"
    problems = server_json_problems(msgspec.json.decode(encoded))
    for problem in problems:
        ui.error(f"the server.json made would not be valid: {problem}")
    if problems:
        return 1
    if project is not None and project.version != document.version:
        ui.note(
            f"note: the server says version {document.version} (Server(version=...)), "
            f"pyproject.toml {project.version}: server.json says both, as they are"
        )
    if _mcp_name(ui, readme, document.name):  # a README naming another server: write nothing
        return 1
    out.write_bytes(encoded)
    ui.text(f"wrote {out}")
    return 0


def _paths(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[Path, Path | None]:
    from pathlib import Path

    out = Path(args.out)
    if out.exists() and not args.force:
        parser.error(f"--out: {out} exists; give --force to overwrite it")
    readme = Path(args.readme) if args.readme else None
    if readme is not None and not readme.is_file():
        parser.error(f"--readme: {readme} is not a file")
    if args.url is not None:
        from mcpkit.errors import InvalidUrl
        from mcpkit.transports.endpoint_url import check_endpoint_url

        try:
            check_endpoint_url(args.url)
        except InvalidUrl as exc:
            parser.error(f"--url: {exc}")
    return out, readme


def _project(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Project | None:
    from pathlib import Path

    from mcpkit.server.serving.registry_entry import read_project

    if args.pyproject is None:
        default = Path("pyproject.toml")
        return read_project(default) if default.is_file() else None
    path = Path(args.pyproject)
    if not path.is_file():
        parser.error(f"--pyproject: {path} is not a file")
    return read_project(path)


def _server(target: str) -> ListedServer:
    from mcpkit.cli.user_server import load_server
    from mcpkit.server.serving._run import refusing_run

    with refusing_run("mcpkit registry init is importing this file to read its Server"):
        server: ListedServer = load_server(target)
    return server


def _env(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[EnvironmentVariable, ...]:
    from mcpkit.types.server_json import EnvironmentVariable

    found: list[EnvironmentVariable] = []
    for option, values in (("--env", args.env), ("--secret-env", args.secret_env)):
        for value in values:
            name, _, description = str(value).partition("=")
            if not name.isidentifier():
                parser.error(f"{option} {value!r}: NAME is a variable's name, as API_KEY")
            found.append(
                EnvironmentVariable(
                    name=name,
                    description=description or None,
                    is_required=True,
                    is_secret=True if option == "--secret-env" else None,
                )
            )
    return tuple(found)


def _mcp_name(ui: Terminal, readme: Path | None, name: str) -> int:
    from mcpkit.server.serving.registry_entry import EntryRefused, add_mcp_name, mcp_name_line

    line = mcp_name_line(name)
    if readme is None:
        ui.text(f"add this line to the README that PyPI shows (the registry checks it): {line}")
        return 0
    try:
        added = add_mcp_name(readme, name)
    except EntryRefused as exc:
        ui.error(str(exc))
        return 1
    ui.text(f"{readme}: {'added' if added else 'already has'} {line}")
    return 0
