"""A project file's `environment` checked against the Python `mcpkit run` runs on.

FastMCP builds that environment with `uv run --python ... --with ...`; `mcpkit run` installs
nothing and starts no other Python. So what the file asks for must be there already: the
Python version, each dependency (of `dependencies`, of the `requirements` file, of the
`project`'s pyproject.toml) at a version its specifier accepts, each `editable` project's
package. What is not ends the run in one line naming it, with the two ways to get it.
Versions are compared with `packaging` when it is installed (it nearly always is); without it
only names are checked, and a line says so."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

from mcpkit.cli.project_file import Environment

__all__ = ["check_environment"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_environment(env: Environment, folder: Path, file: Path) -> None:
    """End the run when this Python lacks what `env` (of `file`, whose folder is `folder`)
    asks for; say in one line what could not be checked."""
    wanted = list(env.dependencies or ())
    if env.requirements is not None:
        wanted += _requirements(folder / env.requirements)
    if env.project is not None:
        wanted += _project(folder / env.project)["dependencies"]
    for editable in env.editable or ():
        wanted.append(_project(folder / editable)["name"])
    unmet = [found for requirement in wanted if (found := _unmet(requirement)) is not None]
    python = None if env.python is None else _python_unmet(env.python)
    if python is None and not unmet:
        return
    asked = [requirement for requirement, _ in unmet]
    said = [python] if python is not None else []
    said += [f"{requirement} ({why})" for requirement, why in unmet]
    quoted = " ".join(shlex.quote(r) for r in asked)
    uv = ["uv run"]
    if python is not None and env.python is not None:
        uv.append(f"--python {shlex.quote(env.python)}")
    uv += [f"--with {shlex.quote(r)}" for r in ["mcpkit", *asked]]
    install = (
        f"install {'them' if len(said) > 1 else 'it'} (pip install {quoted}) or " if asked else ""
    )
    raise SystemExit(
        f"mcpkit run: {file.name}'s environment asks for what this Python ({sys.executable}) "
        f"lacks: {', '.join(said)}; mcpkit run installs nothing: {install}let uv make the "
        f"environment: {' '.join(uv)} mcpkit run {shlex.quote(str(file))}"
    )


@functools.cache
def _unchecked() -> None:
    """Say once that versions go unchecked without `packaging`."""
    print(
        "mcpkit run: the environment's version constraints are not checked, only names: "
        "pip install packaging to check them",
        file=sys.stderr,
    )


def _unmet(requirement: str) -> tuple[str, str] | None:
    """(requirement, why) when this Python does not satisfy `requirement`, else None."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        _unchecked()
        match = _NAME.match(requirement.strip())
        if match is None:
            raise SystemExit(
                f"mcpkit run: environment: {requirement!r} is not a requirement"
            ) from None
        found = _installed(requirement, match.group(0))
        return found if isinstance(found, tuple) else None
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        raise SystemExit(
            f"mcpkit run: environment: {requirement!r} is not a requirement: {exc}"
        ) from None
    if parsed.marker is not None and not parsed.marker.evaluate():
        return None  # not for this platform or Python
    version = _installed(requirement, parsed.name)
    if isinstance(version, tuple):
        return version
    if not parsed.specifier.contains(version, prereleases=True):
        return requirement, f"{version} installed"
    return None


def _installed(requirement: str, name: str) -> tuple[str, str] | str:
    """The installed version of `name`, or (requirement, "not installed")."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return requirement, "not installed"


def _python_unmet(constraint: str) -> str | None:
    """What is wrong with this Python for `python` (FastMCP's: "3.12", or a specifier such as
    ">=3.11"), else None."""
    running = platform.python_version()
    if re.fullmatch(r"\d+(\.\d+)*", constraint):
        parts = tuple(int(part) for part in constraint.split("."))
        ok = tuple(sys.version_info[: len(parts)]) == parts
    else:
        try:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet
        except ImportError:
            _unchecked()
            return None
        try:
            ok = SpecifierSet(constraint).contains(running, prereleases=True)
        except InvalidSpecifier:
            raise SystemExit(
                f"mcpkit run: environment.python {constraint!r} is neither a version (3.12) "
                "nor a specifier (>=3.11)"
            ) from None
    return None if ok else f"Python {constraint} (this is {running})"


def _requirements(path: Path) -> list[str]:
    """The requirements of a requirements file: one per line, comments aside; an option line
    (`-r`, `-e`, `--index-url`) is refused, as nothing here would honour it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SystemExit(f"mcpkit run: environment.requirements: {exc}") from None
    found: list[str] = []
    for line in lines:
        text = re.sub(r"(^|\s)#.*", "", line).strip()
        if text.startswith("-"):
            raise SystemExit(
                f"mcpkit run: environment.requirements {path.name}: {text!r} is an option of "
                "pip, which mcpkit run does not install with: run pip install -r "
                f"{shlex.quote(str(path))} yourself, and remove the line or the key"
            )
        if text:
            found.append(text)
    return found


def _project(folder: Path) -> dict[str, Any]:
    """The `name` and `dependencies` of the pyproject.toml in `folder`."""
    path = folder / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(
            f"mcpkit run: environment names the project {folder}, whose pyproject.toml "
            f"cannot be read: {exc}"
        ) from None
    project = data.get("project", {})
    return {
        "name": project.get("name", folder.name),
        "dependencies": project.get("dependencies", []),
    }
