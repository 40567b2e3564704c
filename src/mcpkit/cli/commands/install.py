"""`mcpkit install HOST FILE.py[:object]`: add a server to a host's configuration (Claude
Desktop, Claude Code, Cursor, VS Code, Gemini CLI, Goose, or a generic mcp.json) without
touching anything else."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from pathlib import Path

    from mcpkit.cli.hosts import HostSpec

__all__ = ["HOST_NAMES", "register"]

#: The hosts, as `mcpkit.cli.hosts.HOSTS` names them (kept here so `--help` imports nothing).
HOST_NAMES = (
    "claude-desktop",
    "claude-code",
    "cursor",
    "vscode",
    "gemini-cli",
    "goose",
    "mcp-json",
)
# How long importing the user's file may take in the check; a hung import is a bug to report.
_CHECK_TIMEOUT = 60.0
# A host may rewrite its file while we write ours (Claude Code keeps state in ~/.claude.json).
_WRITE_TRIES = 3


class InstallError(Exception):
    """The install cannot go on; the message says why and what to do."""


def register(add_parser: AddParser) -> None:
    install = add_parser(
        "install",
        help="add a server to Claude Desktop, Claude Code, Cursor, VS Code, Gemini CLI, Goose "
        "or an mcp.json",
        description="Add the Server in FILE.py to a host's configuration, keeping every other "
        "entry. docs/cli.md has examples.",
    )
    install.set_defaults(handler=_main, verb_parser=install)
    install.add_argument("host", metavar="HOST", choices=HOST_NAMES, help=", ".join(HOST_NAMES))
    install.add_argument(
        "target",
        metavar="FILE.py[:object]",
        help="the server's file, and optionally the name of its Server object",
    )
    install.add_argument("--name", help="the entry's name (default: the Server's name)")
    _add_environment_options(install)
    _add_launcher_options(install)
    install.add_argument(
        "--scope",
        choices=("user", "project"),
        help="claude-code, cursor, vscode, gemini-cli: the user's file or the current "
        "project's (defaults: claude-code project, cursor user, vscode project, gemini-cli "
        "project)",
    )
    install.add_argument("--config", metavar="PATH", help="the file to change, instead")
    install.add_argument("--force", action="store_true", help="replace an entry of that name")
    install.add_argument(
        "--dry-run", action="store_true", help="print the resulting file; write nothing"
    )
    install.add_argument(
        "--no-check",
        action="store_true",
        help="do not import FILE.py first to find its Server",
    )


def _add_environment_options(install: argparse.ArgumentParser) -> None:
    install.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the server (repeat for more); vscode also takes "
        "a bare KEY, which it asks for when the server starts",
    )
    install.add_argument(
        "--env-file", metavar="FILE", help="KEY=VALUE lines for the server's environment"
    )


def _add_launcher_options(install: argparse.ArgumentParser) -> None:
    install.add_argument(
        "--with",
        dest="with_packages",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="with --uv: a package the server needs (repeat for more)",
    )
    launcher = install.add_mutually_exclusive_group()
    launcher.add_argument(
        "--uv",
        dest="launcher",
        action="store_const",
        const="uv",
        help="run the server with `uv run --with mcpkit`",
    )
    launcher.add_argument(
        "--python",
        dest="launcher",
        action="store_const",
        const="python",
        help="run the server with this Python interpreter (the default)",
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import sys

    from mcpkit.cli.hosts import HOSTS, ConfigError

    host = HOSTS[args.host]
    if args.with_packages and args.launcher != "uv":
        parser.error("--with names packages for uv to install: add --uv")
    if args.scope is not None and args.scope not in host.scopes:
        parser.error(f"{host.name} has no {args.scope} scope; it has: {', '.join(host.scopes)}")
    try:
        return _install(args, host)
    except (InstallError, ConfigError) as exc:
        from mcpkit.cli.main import ERROR_PREFIX

        print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
        return 1


def _install(args: argparse.Namespace, host: HostSpec) -> int:
    import sys

    from mcpkit.cli.hosts import launch_command, server_entry

    file, object_part = _absolute_target(args.target)
    target = str(file) + object_part
    env = _environment(args, host)
    found = None if args.no_check else _check(target, env, uv=args.launcher == "uv")
    name = args.name if args.name is not None else found or file.stem
    if not name.strip():
        raise InstallError("--name is empty; give the name the host shows for this server")
    command, argv = launch_command(
        target,
        python=sys.executable,
        uv=_uv() if args.launcher == "uv" else None,
        with_packages=args.with_packages,
    )
    entry, inputs = server_entry(host, name, command, argv, env)
    path = _config_file(args, host)
    return _write(path, host, name, entry, inputs, force=args.force, dry_run=args.dry_run)


def _write(
    path: Path,
    host: HostSpec,
    name: str,
    entry: dict[str, object],
    inputs: list[dict[str, object]],
    *,
    force: bool,
    dry_run: bool,
) -> int:
    import json
    import sys

    from mcpkit.cli.hosts import ConfigError, add_server, load_config, render_config, write_config
    from mcpkit.cli.hosts.yaml_file import load_yaml_config, render_yaml_config, yaml_module

    yaml = host.file_format == "yaml"
    if yaml:
        yaml_module()  # PyYAML is there (else the error names the extra), before any reading
    for _ in range(_WRITE_TRIES):
        try:
            config, raw = load_yaml_config(path) if yaml else load_config(path)
        except ConfigError as exc:
            by_hand = (
                render_yaml_config({name: entry})
                if yaml
                else json.dumps({name: entry}, indent=2, ensure_ascii=False)
            )
            raise InstallError(
                f'{exc}; to add it by hand, put under "{host.servers_key}":\n{by_hand}'
            ) from None
        changed = add_server(config, host, name, entry, inputs, force=force, path=path)
        text = render_yaml_config(changed) if yaml else render_config(changed)
        if dry_run:
            sys.stdout.write(text)
            print(f"mcpkit install: dry run, {path} is unchanged", file=sys.stderr)
            return 0
        if write_config(path, text, expected=raw):
            print(f"Installed {name!r} in {host.title}: {path}")
            print(f"Next: {host.next_step}.")
            return 0
    raise InstallError(f"{path} kept changing while mcpkit wrote it; close {host.title} and retry")


def _absolute_target(text: str) -> tuple[Path, str]:
    """`FILE.py[:object]` with FILE made absolute (hosts start servers in another folder)."""
    import re
    from pathlib import Path

    match = re.fullmatch(r"(.+?)(:[A-Za-z_]\w*)?", text)
    file_part, object_part = (match.group(1), match.group(2) or "") if match else (text, "")
    path = Path(file_part).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InstallError(
            f"{file_part} {what} (relative to {Path.cwd()}); give the path of the .py file "
            "that defines your Server"
        )
    return path.resolve(), object_part


def _environment(args: argparse.Namespace, host: HostSpec) -> dict[str, str | None]:
    from pathlib import Path

    from mcpkit.cli.hosts import parse_env_file, parse_env_options

    try:
        env: dict[str, str | None] = {}
        if args.env_file is not None:
            env.update(parse_env_file(Path(args.env_file)))
        env.update(parse_env_options(args.env, allow_prompt=host.has_inputs))
    except ValueError as exc:
        raise InstallError(str(exc)) from None
    return env


def _config_file(args: argparse.Namespace, host: HostSpec) -> Path:
    import os
    import sys
    from pathlib import Path

    from mcpkit.cli.hosts import config_path

    if args.config is not None:
        return Path(args.config).expanduser().absolute()
    scope = args.scope or host.scopes[0]
    return config_path(
        host, scope, home=Path.home(), cwd=Path.cwd(), platform=sys.platform, environ=os.environ
    )


def _check(target: str, env: dict[str, str | None], *, uv: bool) -> str:
    """Import the file in a child process as `mcpkit run` will, and return its Server's name:
    a mistake shows now, not as a server the host fails to start."""
    import os
    import subprocess
    import sys

    child_env = {**os.environ, **{key: value for key, value in env.items() if value is not None}}
    try:
        done = subprocess.run(
            # -P: the current folder is not put first on sys.path (a json.py there would
            # shadow the standard library); the file's own folder is, as mcpkit run does
            [sys.executable, "-P", "-c", _CHECK_CODE, target],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_CHECK_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=child_env,
        )
    except subprocess.TimeoutExpired:
        raise InstallError(
            f"importing {target} took over {_CHECK_TIMEOUT:.0f} s; find what it waits for at "
            "import time, or skip this check with --no-check"
        ) from None
    marked = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if done.returncode == 0 and marked:
        import json

        name: object = json.loads(marked[-1][len(_MARK) :])
        return name if isinstance(name, str) else ""
    hint = " (uv's --with packages are not there for this check)" if uv else ""
    details = "\n".join(done.stderr.strip().splitlines()[-20:])
    raise InstallError(
        f"{target} cannot be served{hint}:\n{details}\nFix it and run again, or skip this "
        "check with --no-check"
    )


# The check, run by this interpreter: loads the Server the way `mcpkit run` does (a run() at
# import time refused, as over HTTP) and prints its name after a mark, as the file itself may
# print to stdout too.
_MARK = "mcpkit-install-server-name:"
_CHECK_CODE = f"""
import json, sys
from mcpkit.cli import user_server
from mcpkit.server.serving._run import refusing_run
with refusing_run(user_server._RUN_AT_IMPORT):
    server = user_server.load_server(sys.argv[1])
print()
print({_MARK!r} + json.dumps(server.name))
"""


def _uv() -> str:
    import shutil
    import sys

    found = shutil.which("uv")
    if found is None:
        print(
            "mcpkit install: uv is not on PATH here; the entry runs `uv`, which the host must "
            "find on its own PATH (install uv, or use --python)",
            file=sys.stderr,
        )
    return found or "uv"
