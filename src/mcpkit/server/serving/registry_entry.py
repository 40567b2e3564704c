"""A server's entry in the MCP registry, its `server.json` (`mcpkit registry init`), made from
the project that ships it (`pyproject.toml`: `read_project`) and the server itself.

What the entry shares with the server's Server Card (name, version, description, title,
website, icons, repository) comes from `card_publishing.listing`, the one function the card
is built with too, so the two say the same. The package entry is the project's PyPI
distribution run by `uvx`, which runs the console script named like the distribution: the
project's own entry point, or mcpkit's command line (`mcpkit.cli.main:main`) told to `run`
the server's module. The registry checks that the package is the publisher's by the line
`mcp-name: <name>` in its PyPI description (`mcp_name_line`)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, cast

from mcpkit.server.serving.card_publishing import bearer_header, listing
from mcpkit.types.server_card import Remote
from mcpkit.types.server_json import (
    MCP_NAME_PREFIX,
    REGISTRY_SCHEMA_URL,
    Argument,
    EnvironmentVariable,
    Package,
    ServerJson,
    StdioTransport,
)

if TYPE_CHECKING:
    from mcpkit.server.serving.card_publishing import PublishedCard
    from mcpkit.types import Implementation

__all__ = [
    "EntryRefused",
    "ListedServer",
    "Project",
    "add_mcp_name",
    "build_server_json",
    "mcp_name_line",
    "read_project",
    "server_module",
]

#: The entry point of mcpkit's command line: a project script pointing to it serves the
#: server with `mcpkit run`.
MCPKIT_MAIN: Final = "mcpkit.cli.main:main"
#: `[project.urls]` keys that name the source repository, in the order they are preferred.
_REPOSITORY_KEYS: Final = ("repository", "source", "source code", "code", "github")
#: An `mcp-name:` line as a README may hold it, commented out or not, spaced either way:
#: the name ends at whitespace or at the HTML comment's `>`.
_MCP_NAME: Final = re.compile(re.escape(MCP_NAME_PREFIX.strip()) + r"\s*([^\s>]+)")


class EntryRefused(ValueError):
    """A `server.json` that cannot be made as asked; the message names what to change."""


class ListedServer(Protocol):
    """What an entry reads of a server: its `serverInfo`, its card, whether it asks for a
    bearer token. A Protocol, so that this module (run by `mcpkit registry`) need not import
    the server class it describes."""

    @property
    def info(self) -> Implementation: ...

    @property
    def published_card(self) -> PublishedCard | None: ...

    @property
    def auth(self) -> object: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Project:
    """What `pyproject.toml` says of the distribution that ships the server: only the fields
    an entry needs, read and type-checked once (`read_project`)."""

    root: Path
    name: str
    version: str
    description: str | None
    repository: str | None
    scripts: dict[str, str]


def read_project(path: Path) -> Project:
    """The `[project]` table of `path`: its name, version (a dynamic one read from the
    installed distribution), description, repository URL and console scripts. A value of
    the wrong type is refused, naming it."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EntryRefused(f"{path}: cannot read it: {exc}") from None
    project = _table(path, "project", document.get("project"))
    name = _string(path, "project.name", project.get("name"))
    if name is None:
        raise EntryRefused(f"{path} has no [project] name: the PyPI distribution's name is needed")
    # Keys of [project.urls] are free text ("Source Code", "source"): compared lowercased.
    urls = {key.lower(): url for key, url in _strings(path, "urls", project.get("urls")).items()}
    return Project(
        root=path.parent,
        name=name,
        version=_version(path, name, project),
        description=_string(path, "project.description", project.get("description")),
        repository=next((urls[key] for key in _REPOSITORY_KEYS if key in urls), None),
        scripts=_strings(path, "scripts", project.get("scripts")),
    )


def _table(path: Path, where: str, value: object) -> dict[str, object]:
    """`value` as a TOML table (absent: an empty one); EntryRefused naming `where` if it
    is something else, since the file is the user's and may be wrong in any way."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EntryRefused(f"{path}: [{where}] must be a table")
    return cast("dict[str, object]", value)  # a TOML table's keys are strings


def _string(path: Path, where: str, value: object) -> str | None:
    """`value` if it is a string, None if absent; EntryRefused naming `where` otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise EntryRefused(f"{path}: {where} must be a string, not {value!r}")


def _strings(path: Path, table: str, value: object) -> dict[str, str]:
    """The `[project.<table>]` of strings, as `urls` and `scripts` are."""
    where = f"project.{table}"
    found = {
        key: _string(path, f"{where}.{key}", item)
        for key, item in _table(path, where, value).items()
    }
    return {key: item for key, item in found.items() if item is not None}


def _version(path: Path, name: str, project: dict[str, object]) -> str:
    """`[project] version`, or for a version the build computes (`dynamic`) the installed
    distribution's."""
    version = _string(path, "project.version", project.get("version"))
    if version is not None:
        return version
    dynamic = project.get("dynamic")
    if not isinstance(dynamic, list) or "version" not in dynamic:
        raise EntryRefused(f"{path} has no [project] version: the package's version is needed")
    # Imported here: only a dynamic version needs it, and `mcpkit registry` is a command
    # line whose start-up should not pay for it otherwise.
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise EntryRefused(
            f"{path}: the version of {name} is dynamic and the project is not installed: "
            "install it (pip install -e .) so that its version can be read"
        ) from None


def build_server_json(
    server: ListedServer,
    project: Project | None,
    *,
    name: str | None = None,
    url: str | None = None,
    target: str | None = None,
    env: tuple[EnvironmentVariable, ...] = (),
) -> ServerJson:
    """The `server.json` of `server`, shipped as `project` (None: no package entry), named
    `name` (default: its card's), deployed at `url` (default: its card's; a streamable-http
    remote), its package told to `run` the module of `target` (`server_module`) when its
    script is mcpkit's command line, with the environment variables `env` it reads.

    Every refusal (EntryRefused) says what to give or change: this is run by a person at a
    command line before publishing, and a mistake caught here is not met later as the
    registry's rejection of a published entry."""
    published = server.published_card
    name = _agreed("name", name, published.name if published else None)
    url = _agreed("url", url, published.url if published else None)
    if name is None:
        raise EntryRefused(
            "the server has no name in the registry: give --name io.github.USER/NAME"
        )
    # The registry requires a description; the card would lack one too, so it is asked of
    # the Server (its one source for both), with pyproject's offered as a suggestion.
    if not server.info.description:
        hint = (
            f" (pyproject.toml's: {project.description!r})"
            if project and project.description
            else ""
        )
        raise EntryRefused(
            "the server has no description: give Server(description=...), 1 to 100 characters, "
            f"which its card says too{hint}"
        )
    repository = _agreed_repository(
        published.repository if published else None, project.repository if project else None
    )
    # A package (run locally by `uvx`), a remote (already deployed), or both: the registry
    # lists each way to reach the server, and needs at least one.
    packages = [_package(project, target, env)] if project is not None else None
    if packages is None and env:
        # They tell a client how to configure the package it runs; a remote's environment
        # is its operator's, so without a package they would describe nothing.
        raise EntryRefused("environment variables belong to a package: give the pyproject.toml")
    remotes = None
    if url is not None:
        # A server that checks tokens tells registry clients to send one, as its card does.
        headers = [bearer_header()] if server.auth is not None else None
        remotes = [Remote(type="streamable-http", url=url, headers=headers)]
    if packages is None and remotes is None:
        raise EntryRefused(
            "nothing says how to reach the server: give the project's pyproject.toml (a PyPI "
            "package) or --url (where it is deployed)"
        )
    # The fields the card also carries, made by the card's own function: the two documents
    # are read side by side, and must not drift apart.
    shared = listing(server.info, name, repository)
    return ServerJson(schema=REGISTRY_SCHEMA_URL, **shared, packages=packages, remotes=remotes)


def _agreed(option: str, given: str | None, published: str | None) -> str | None:
    """The value of `option`, from the command line or the published card, which must not
    disagree: a registry entry naming another server than its card would mislead clients."""
    if given is not None and published is not None and given != published:
        raise EntryRefused(
            f"--{option} {given!r} is not the card's ({published!r}, from publish_card): the "
            f"card and server.json must say the same; leave --{option} out, or change the card"
        )
    return given if given is not None else published


def _agreed_repository(published: str | None, declared: str | None) -> str | None:
    """The repository URL, from the card's settings or pyproject.toml's `[project.urls]`;
    EntryRefused when both name one and they differ (a trailing slash aside)."""
    # Two sources that both name the repository must name the same one: the card and
    # server.json are read by the same registries and clients.
    if published and declared and published.rstrip("/") != declared.rstrip("/"):
        raise EntryRefused(
            f"the card's repository ({published!r}, from publish_card) is not pyproject.toml's "
            f"[project.urls] ({declared!r}): the card and server.json must say the same; make "
            "them one URL"
        )
    return published or declared


def _package(project: Project, target: str | None, env: tuple[EnvironmentVariable, ...]) -> Package:
    """The PyPI package entry: `uvx <distribution>` over stdio, which runs the console script
    named like the distribution; a script that is mcpkit's own command line is given
    `run <module>` as its arguments, since it would not otherwise know what to serve."""
    script = project.scripts.get(project.name)
    if script is None:
        raise EntryRefused(
            f"pyproject.toml has no console script named {project.name!r}, which `uvx "
            f"{project.name}` runs: add [project.scripts] {project.name} = "
            f'"{MCPKIT_MAIN}" (served with mcpkit run) or your own "module:main"'
        )
    arguments = None
    # Spaces ignored: "mcpkit.cli.main : main" is the same entry point to the installer.
    if script.replace(" ", "") == MCPKIT_MAIN:
        if target is None:
            raise EntryRefused("the package runs `mcpkit run`: name the server's module")
        module = server_module(target, project.root)
        arguments = [Argument(type="positional", value=part) for part in ("run", module)]
    return Package(
        registry_type="pypi",
        identifier=project.name,
        version=project.version,
        transport=StdioTransport(),
        runtime_hint="uvx",
        package_arguments=arguments,
        environment_variables=list(env) or None,
    )


def mcp_name_line(name: str) -> str:
    """The README line by which the registry checks that a PyPI package is `name`'s: an HTML
    comment, so that the rendered description does not show it."""
    return f"<!-- {MCP_NAME_PREFIX}{name} -->"


def add_mcp_name(readme: Path, name: str) -> bool:
    """Add `mcp_name_line(name)` to the end of `readme` unless it names `name` already (False
    then); a README naming another server is refused, as the registry would refuse it."""
    # Idempotent, so `mcpkit registry init` can be run again after a change without
    # piling up lines; a different name is the user's to resolve, never overwritten.
    text = readme.read_text(encoding="utf-8")
    named = set(_MCP_NAME.findall(text))
    if name in named:
        return False
    if named:
        raise EntryRefused(
            f"{readme} already says mcp-name: {', '.join(sorted(named))}, not {name}: the "
            "registry reads the first; fix that line by hand"
        )
    # A blank line before it: Markdown would otherwise join it to the last paragraph.
    ending = "" if text.endswith("\n") or not text else "\n"
    readme.write_text(f"{text}{ending}\n{mcp_name_line(name)}\n", encoding="utf-8")
    return True


def server_module(target: str, root: Path) -> str:
    """The `module[:object]` by which the installed package's `mcpkit run` finds the server
    that `target` (`FILE.py[:object]` or `MODULE[:object]`) names in the project at `root`.

    A file is turned into the dotted name it has once installed, relative to the project
    root (a `src/` layout's `src` dropped, a package's `__init__` too); a module name is
    kept as given. A file outside the project cannot be in its package: refused."""
    path_text, _, obj = target.partition(":")
    if not path_text.endswith(".py") and not Path(path_text).exists():
        return target
    path = Path(path_text).resolve()
    try:
        parts = list(path.with_suffix("").relative_to(root.resolve()).parts)
    except ValueError:
        raise EntryRefused(
            f"{path_text} is not in the project at {root}: the package cannot run it"
        ) from None
    # The installed package has no `src` directory (the src layout's is stripped by the
    # build) and imports a package by its directory's name, not its `__init__`.
    if parts[:1] == ["src"]:
        parts = parts[1:]
    if parts[-1:] == ["__init__"]:
        parts = parts[:-1]
    return ".".join(parts) + (f":{obj}" if obj else "")
