"""Project files of `mcpkit run`: `mcpkit.json`, `[tool.mcpkit]` in pyproject.toml, and
FastMCP's `fastmcp.json`, one shape for the three (FastMCP's `MCPServerConfig`, v1): where the
Server is (`source`), what its Python needs (`environment`), how it is served (`deployment`).

Read and checked here, with no side effect: an unknown key or a value of the wrong type is
refused naming its JSON path; relative paths are anchored at the file's folder, as FastMCP
anchors them. `project_run` applies a file to a run."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal, cast

import msgspec

__all__ = [
    "PROJECT_FILES",
    "Deployment",
    "Environment",
    "Project",
    "ProjectFile",
    "Source",
    "find_project",
    "is_project_file",
    "load_project",
]

#: The files `mcpkit run` with no target looks for in the current folder, in this order.
PROJECT_FILES = ("mcpkit.json", "pyproject.toml", "fastmcp.json")
_SECTIONS = frozenset({"source", "environment", "deployment"})


class Source(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Where the Server is: a Python file (`path`, or `path:object`) and the name of its Server
    object (`entrypoint`; default: `server`, `mcp`, `app` or the only Server)."""

    path: str
    entrypoint: str | None = None
    type: Literal["filesystem"] = "filesystem"


class Environment(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What the server's Python must have (FastMCP's uv environment): checked against the
    Python `mcpkit run` runs on (`project_env`), never installed."""

    type: Literal["uv"] = "uv"
    python: str | None = None
    dependencies: list[str] | None = None
    requirements: str | None = None
    project: str | None = None
    editable: list[str] | None = None


class Deployment(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How it is served: FastMCP's keys, then mcpkit's own (the `mcpkit run` options of the
    same names)."""

    transport: Literal["stdio", "http", "streamable-http", "sse"] | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    cwd: str | None = None
    env: dict[str, str] | None = None
    args: list[str] | None = None
    # mcpkit's own
    store: str | None = None
    workers: int | None = None
    stateless: bool | None = None
    json_response: bool | None = None
    allowed_origins: list[str] | None = None
    allowed_hosts: list[str] | None = None


class ProjectFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A project file's contents (`$schema` is for editors)."""

    source: Source
    environment: Environment = Environment()
    deployment: Deployment = Deployment()
    schema: str | None = msgspec.field(default=None, name="$schema")


class Project(msgspec.Struct, frozen=True):
    """A project file read: its `file`, its `folder` (where relative paths start), and what
    it says (`config`), `source.path` made absolute."""

    file: Path
    folder: Path
    config: ProjectFile

    @property
    def target(self) -> str:
        """The `mcpkit run` target the source names: `FILE.py[:object]`."""
        source = self.config.source
        return source.path if source.entrypoint is None else f"{source.path}:{source.entrypoint}"


def find_project(folder: Path) -> Path | None:
    """The project file in `folder` (`mcpkit.json`, a pyproject.toml with `[tool.mcpkit]`, or
    `fastmcp.json`), or None; two of them is a mistake to say, not a choice to make."""
    found = [
        folder / name
        for name in PROJECT_FILES
        if (folder / name).is_file()
        and (name != "pyproject.toml" or _tool_section(folder / name) is not None)
    ]
    if len(found) > 1:
        names = " and ".join(path.name for path in found)
        raise SystemExit(
            f"mcpkit run: {folder} has {names}: name the one to run (mcpkit run {found[0].name})"
        )
    return found[0] if found else None


def is_project_file(target: str) -> bool:
    """Whether `mcpkit run TARGET` names a project file rather than a Python file or an
    `mcpServers` config: a pyproject.toml, a file named like a project file, or a JSON object
    with `source`, `environment` or `deployment` (FastMCP's test: no `mcpServers`)."""
    path = Path(target)
    if path.name == "pyproject.toml" or path.name.endswith(("mcpkit.json", "fastmcp.json")):
        return True
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        data: object = json.loads(path.read_bytes())
    except (ValueError, OSError):
        return False  # the mcpServers reader says what is wrong with it
    if not isinstance(data, dict):
        return False
    keys = set(cast("dict[str, object]", data))
    return "mcpServers" not in keys and bool(_SECTIONS & keys)


def load_project(path: Path) -> Project:
    """Read and check the project file at `path`; its mistakes end the run, named."""
    if not path.is_file():
        raise SystemExit(f"mcpkit run: {path} does not exist (relative to {Path.cwd()})")
    if path.name == "pyproject.toml":
        data = _tool_section(path)
        if data is None:
            raise SystemExit(
                f"mcpkit run: {path} has no [tool.mcpkit] table: add one with "
                '[tool.mcpkit.source] path = "server.py" (docs/cli.md, "Project files")'
            )
        where = "[tool.mcpkit]"
    else:
        try:
            data = json.loads(path.read_bytes())
        except ValueError as exc:
            raise SystemExit(f"mcpkit run: {path} is not valid JSON: {exc}") from None
        where = "$"
    try:
        config = msgspec.convert(data, ProjectFile)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"mcpkit run: {path}: {_said(exc, where)}") from None
    folder = path.resolve().parent
    path_text, entrypoint = _split_object(config.source)
    anchored = msgspec.structs.replace(
        config.source, path=str(folder / Path(path_text).expanduser()), entrypoint=entrypoint
    )
    return Project(path, folder, msgspec.structs.replace(config, source=anchored))


def _split_object(source: Source) -> tuple[str, str | None]:
    """`path:object` as FastMCP reads it (a Windows drive's colon aside); an entrypoint given
    wins over the one in the path."""
    text = source.path
    drive = len(text) > 1 and text[1] == ":"
    if ":" in (text[2:] if drive else text):
        file_text, name = text.rsplit(":", 1)
        return file_text, source.entrypoint or name
    if source.entrypoint is not None and ":" in source.entrypoint:
        raise SystemExit(
            f"mcpkit run: source.entrypoint {source.entrypoint!r} names a module and an "
            "object; give source.path the Python file and source.entrypoint the object's name"
        )
    return text, source.entrypoint


def _tool_section(path: Path) -> dict[str, Any] | None:
    """pyproject.toml's `[tool.mcpkit]`, or None when it has none."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"mcpkit run: {path} is not valid TOML: {exc}") from None
    section: object = data.get("tool", {}).get("mcpkit")
    return cast("dict[str, Any]", section) if isinstance(section, dict) else None


def _said(exc: msgspec.ValidationError, where: str) -> str:
    """msgspec's message with the file's own root (`[tool.mcpkit]` in a pyproject.toml), and
    an unknown key said as one: `Object contains unknown field `x`` names the key."""
    text = str(exc).replace("`$", f"`{where}", 1) if where != "$" else str(exc)
    if text.startswith("Object contains unknown field"):
        text = text.replace("Object contains unknown field", "unknown key", 1)
        return f"{text}: remove it, or see the keys there are (docs/cli.md, 'Project files')"
    return text
