"""A project file applied to `mcpkit run` (`project_file` reads it): its `deployment` fills the
options the command line left out (a flag given wins), its `environment` is checked
(`project_env`), and just before the Server is imported its `env`, `cwd`, `args` and
`log_level` are set as FastMCP sets them. What cannot be honoured ends the run or is said in
one line on stderr; nothing is dropped without a word."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

from mcpkit.cli.project_file import Project, find_project, is_project_file, load_project

__all__ = ["apply_project", "enter_project", "project_of"]

#: The deployment keys that are `mcpkit run` options of `--transport http`.
_HTTP_KEYS = (
    "host",
    "port",
    "path",
    "stateless",
    "json_response",
    "allowed_origins",
    "allowed_hosts",
    "workers",
)


def project_of(target: str | None, parser: argparse.ArgumentParser) -> Project | None:
    """The project file `target` names, or with no target the one in the current folder;
    None when the target is a Python file, a module or an `mcpServers` config."""
    if target is None:
        found = find_project(Path.cwd())
        if found is None:
            parser.error(
                "give a target (FILE.py[:object], MODULE[:object], FILE.json), or run in a "
                "folder with a project file: mcpkit.json, pyproject.toml with [tool.mcpkit], "
                'or fastmcp.json (docs/cli.md, "Project files")'
            )
        return load_project(Path(found.name))  # (in the current folder: named as such)
    return load_project(Path(target)) if is_project_file(target) else None


def apply_project(project: Project, args: argparse.Namespace) -> None:
    """Fill what the command line left out of `args` from the file's deployment, and check
    its environment; `args.target` becomes the file's source."""
    from mcpkit.cli.project_env import check_environment

    deployment = project.config.deployment
    transport = deployment.transport
    if transport == "sse":
        if deployment.path is not None:
            raise SystemExit(
                f"mcpkit run: {project.file.name}: deployment.path {deployment.path!r} with "
                "transport 'sse' is FastMCP's SSE path; mcpkit serves the legacy SSE transport "
                "at /sse beside Streamable HTTP: remove path, or say transport 'http'"
            )
        _say(
            f"{project.file.name}: transport 'sse' is served as 'http': Streamable HTTP at "
            "/mcp and the legacy HTTP+SSE transport at /sse beside it"
        )
    if transport in ("sse", "streamable-http"):
        transport = "http"
    if args.transport is None:
        args.transport = transport or "stdio"
    _check_values(project)
    given = [key for key in _HTTP_KEYS if getattr(deployment, key) is not None]
    if args.transport == "http":
        for key in given:
            if getattr(args, key) is None:
                setattr(args, key, getattr(deployment, key))
    elif given:
        _say(
            f"{project.file.name}: deployment {', '.join(given)} not used: "
            f"{'they are' if len(given) > 1 else 'it is'} for transport http, and this run "
            "serves stdio"
        )
    if args.store is None:
        args.store = deployment.store
    check_environment(project.config.environment, project.folder, project.file)
    args.target = project.target


def _check_values(project: Project) -> None:
    """Refuse a deployment value `mcpkit run` would refuse as a flag, naming the file's key
    (not the flag, which the user did not write)."""
    deployment = project.config.deployment
    problem = None
    if deployment.port is not None and not 0 <= deployment.port <= 65535:
        problem = f"port {deployment.port} is not a port: give 1 to 65535, or 0 for a free one"
    elif deployment.path is not None and not deployment.path.startswith("/"):
        problem = f"path {deployment.path!r} must start with '/', as in /mcp"
    elif deployment.workers is not None and deployment.workers < 1:
        problem = f"workers {deployment.workers} must be above 0"
    elif deployment.store is not None:
        from mcpkit.stores.url import check_store_url

        try:
            check_store_url(deployment.store)
        except ValueError as exc:
            problem = f"store: {exc}"
    if problem is not None:
        raise SystemExit(f"mcpkit run: {project.file.name}: deployment.{problem}")


def enter_project(project: Project) -> None:
    """What the file sets in this process before the Server is imported: `env` (with
    `${NAME}` replaced by that variable, as FastMCP does), `cwd` (relative to the file),
    `sys.argv` (`args`, after the source's path) and the logging level."""
    deployment = project.config.deployment
    for name, value in (deployment.env or {}).items():
        os.environ[name] = re.sub(
            r"\$\{([^}]+)\}", lambda m: os.environ.get(m.group(1), m.group(0)), value
        )
    if deployment.cwd is not None:
        folder = project.folder / Path(deployment.cwd).expanduser()
        try:
            os.chdir(folder)
        except OSError as exc:
            raise SystemExit(
                f"mcpkit run: {project.file.name}: deployment.cwd {deployment.cwd!r}: {exc}"
            ) from None
    if deployment.args is not None:
        sys.argv = [project.config.source.path, *deployment.args]
    if deployment.log_level is not None:
        logging.basicConfig(
            level=deployment.log_level, format="%(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger().setLevel(deployment.log_level)


def _say(line: str) -> None:
    print(f"mcpkit run: {line}", file=sys.stderr, flush=True)
