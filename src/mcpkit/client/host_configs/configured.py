"""The MCP servers configured on this machine, read-only: each host's files at their real
places for this operating system (`config_path`), their servers put in the `mcpServers` shape
the client reads (`mcpkit.transports.server_config`), and `HOST:NAME` as a TARGET (for every
command that takes one: the CLI's verbs, `mcpkit discover`, and the web inspector)."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from mcpkit._extras import import_extra
from mcpkit.client.host_configs.host_file import read_config_bytes
from mcpkit.client.host_configs.jsonc import strip_jsonc
from mcpkit.client.host_configs.places import HOSTS, config_path
from mcpkit.errors import MissingExtra

if TYPE_CHECKING:
    from mcpkit.client.target import Target

__all__ = [
    "ConfigFile",
    "FoundServer",
    "Places",
    "TrustProject",
    "find_server",
    "host_target",
    "read_all",
    "resolve_target",
]

#: The keys of an entry the client uses; a host's others (`disabled`, `timeout`...) are its own.
_CONNECTION_KEYS: Final = frozenset(
    {"command", "args", "env", "cwd", "type", "transport", "url", "headers"}
)
#: Other names hosts give the Streamable HTTP transport in "type".
_HTTP_TYPES: Final = frozenset({"streamableHttp", "streamable_http", "streamable-http"})


@dataclasses.dataclass(frozen=True, slots=True)
class Places:
    """Where this machine's files are: the home folder, the project (current) folder, the
    operating system (`sys.platform`) and the environment (APPDATA, XDG_CONFIG_HOME)."""

    home: Path
    cwd: Path
    platform: str
    environ: Mapping[str, str]

    @classmethod
    def here(cls) -> Places:
        return cls(Path.home(), Path.cwd(), sys.platform, os.environ)


@dataclasses.dataclass(frozen=True, slots=True)
class FoundServer:
    """One server a host has configured, in the `mcpServers` shape (`entry`)."""

    host: str
    #: "user", "project", or "local" (Claude Code's servers of one project, in ~/.claude.json)
    scope: str
    name: str
    path: Path
    entry: dict[str, Any]
    #: The host's own keys of the entry, which mcpkit does not use.
    ignored: tuple[str, ...] = ()
    #: The host has it turned off (`disabled: true`; Goose's `enabled: false`).
    disabled: bool = False
    #: The project file whose server of the same name this one wins over (`find_server`).
    shadows: Path | None = None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.name}"

    @property
    def from_project(self) -> bool:
        """Whether it comes from the current folder's files, which come with a checkout
        (anyone's), rather than from the user's own (`local` is the user's, in ~/.claude.json)."""
        return self.scope == "project"


#: Asked before a project's server starts its command (`host_target`): the server, and the
#: command as a shell would show it; True runs it.
TrustProject = Callable[[FoundServer, str], bool]


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigFile:
    """One file a host may keep servers in, and what reading it found."""

    host: str
    scope: str
    path: Path
    servers: tuple[FoundServer, ...] = ()
    exists: bool = False
    #: Why it could not be read, if it could not.
    problem: str | None = None


def read_all(places: Places) -> list[ConfigFile]:
    """Every host's files, the user's own first within each host (the one that wins when two
    name the same server: a checkout must not replace a server the user configured)."""
    files: list[ConfigFile] = []
    for host, scope, path in _locations(places):
        files.append(_read(host, scope, path, places))
    return files


def _locations(places: Places) -> list[tuple[str, str, Path]]:
    def where(host: str, scope: str) -> Path:
        return config_path(
            HOSTS[host],
            "user" if scope == "user" else "project",
            home=places.home,
            cwd=places.cwd,
            platform=places.platform,
            environ=places.environ,
        )

    found: list[tuple[str, str, Path]] = []
    for host in HOSTS:
        # The user's own files before the project's: the hosts ask before running a project's
        # server, so a clone's `.mcp.json` must not stand in for a server of the same name.
        scopes = ("user", "project") if len(HOSTS[host].scopes) > 1 else HOSTS[host].scopes
        if host == "claude-code":
            found.append((host, "local", where(host, "user")))
        found.extend((host, scope, where(host, scope)) for scope in scopes)
    return found


def _read(host: str, scope: str, path: Path, places: Places) -> ConfigFile:
    # (a project's files come with its checkout: one may be a pipe, a device or huge)
    try:
        raw = read_config_bytes(path).decode("utf-8-sig")
    except FileNotFoundError:
        return ConfigFile(host, scope, path)
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigFile(host, scope, path, exists=True, problem=f"cannot read it: {exc}")
    try:
        servers = _servers_of(host, scope, raw, places)
    except ValueError as exc:
        return ConfigFile(host, scope, path, exists=True, problem=str(exc))
    found = tuple(_found(host, scope, path, name, entry) for name, entry in servers.items())
    return ConfigFile(host, scope, path, tuple(s for s in found if s is not None), exists=True)


def _servers_of(host: str, scope: str, raw: str, places: Places) -> dict[str, Any]:
    """The object of servers by name in a file's text (ValueError saying what is wrong)."""
    if HOSTS[host].file_format == "yaml":
        try:  # by name: PyYAML ships no type stubs, and mypy must not need them
            yaml: Any = import_extra("yaml", "cli", "reading a YAML file")
        except MissingExtra as exc:
            raise ValueError(str(exc)) from None
        try:
            data: object = yaml.safe_load(raw)
        except (yaml.YAMLError, RecursionError) as exc:
            raise ValueError(f"not valid YAML: {exc}") from None
    else:
        data = _json(raw)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"a {type(data).__name__}, not an object of settings")
    settings = cast("dict[str, Any]", data)
    if scope == "local":  # ~/.claude.json: "projects" by absolute path, each with its servers
        projects: object = settings.get("projects")
        by_path = cast("dict[str, object]", projects) if isinstance(projects, dict) else {}
        project = by_path.get(str(places.cwd))
        settings = cast("dict[str, Any]", project) if isinstance(project, dict) else {}
    servers: object = settings.get(HOSTS[host].servers_key, {})
    if not isinstance(servers, dict):
        raise ValueError(f'"{HOSTS[host].servers_key}" is not an object of servers by name')
    return cast("dict[str, Any]", servers)


def _json(raw: str) -> object:
    """The JSON, or JSONC, text's value; plain JSON (most files, and the largest: the
    ~/.claude.json Claude Code also keeps history in) is read without the slower JSONC pass."""
    if not raw.strip():
        return {}
    try:
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return json.loads(strip_jsonc(raw))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def _found(host: str, scope: str, path: Path, name: str, raw: object) -> FoundServer | None:
    """The entry in the `mcpServers` shape; None for what is not a server to reach (a Goose
    builtin extension, an entry that is not an object)."""
    if not isinstance(raw, dict):
        return None
    given = cast("dict[str, Any]", raw)
    if host == "goose":
        entry = _from_goose(given)
        if entry is None:
            return None
        used: set[str] = {"name", "type", "cmd", "args", "envs", "uri", "headers", "enabled"}
        disabled = given.get("enabled") is False
    else:
        entry = _from_gemini(given) if host == "gemini-cli" else _standard(given)
        used = set(_CONNECTION_KEYS) | ({"httpUrl"} if host == "gemini-cli" else set())
        disabled = given.get("disabled") is True
    ignored = tuple(key for key in given if key not in used)
    return FoundServer(host, scope, name, path, entry, ignored, disabled)


def _standard(given: dict[str, Any]) -> dict[str, Any]:
    entry = {key: value for key, value in given.items() if key in _CONNECTION_KEYS}
    if entry.get("type") in _HTTP_TYPES:
        entry["type"] = "http"
    return entry


def _from_gemini(given: dict[str, Any]) -> dict[str, Any]:
    """Gemini CLI names Streamable HTTP `httpUrl`, and SSE `url`."""
    entry = {key: value for key, value in given.items() if key in _CONNECTION_KEYS}
    if "httpUrl" in given:
        entry.update(type="http", url=given["httpUrl"])
    elif "url" in given:
        entry["type"] = "sse"
    return entry


def _from_goose(given: dict[str, Any]) -> dict[str, Any] | None:
    """A Goose extension: `cmd`/`args`/`envs` (stdio), or `uri` (sse, streamable_http)."""
    kind = given.get("type")
    if kind == "stdio":
        entry: dict[str, Any] = {"command": given.get("cmd"), "args": given.get("args") or []}
        if given.get("envs"):
            entry["env"] = given["envs"]
        return entry
    if kind in ("sse", "streamable_http"):
        entry = {"type": "sse" if kind == "sse" else "http", "url": given.get("uri")}
        if given.get("headers"):
            entry["headers"] = given["headers"]
        return entry
    return None  # builtin, platform, frontend...: inside Goose, no server to reach


def find_server(text: str, places: Places) -> FoundServer | None:
    """The server `HOST:NAME` names (the user's own, when a project's file has one of that
    name too: its `shadows` names that file); None if `text` does not start with a host's
    name and a colon. LookupError if that host has no server of that name, saying which it
    has and which files were read."""
    host, colon, name = text.partition(":")
    if not colon or host not in HOSTS or not name:
        return None
    files = [_read(*where, places) for where in _locations(places) if where[0] == host]
    named = [server for file in files for server in file.servers if server.name == name]
    if named:
        shadowed = next((s.path for s in named[1:] if s.from_project), None)
        return dataclasses.replace(named[0], shadows=shadowed)
    names = sorted({server.name for file in files for server in file.servers})
    read = ", ".join(str(file.path) for file in files if file.exists) or "none exists"
    raise LookupError(
        f"{HOSTS[host].title} has no server named {name!r} (it has: "
        f"{', '.join(names) or 'none'}; files read: {read}); `mcpkit discover` lists them"
    )


def host_target(
    text: str,
    places: Places | None = None,
    *,
    trust: TrustProject | None = None,
    warn: Callable[[str], None] | None = None,
) -> Target | None:
    """`HOST:NAME` (`cursor:github`) as a TARGET: that server of that host's configuration,
    with its environment, folder and headers; None for a TARGET of another kind. TargetError
    if the host has no such server, or its entry cannot be used as it is, or it comes from a
    project's file and runs a command `trust` (None: nobody) does not allow. `warn` is told
    when the user's server of that name wins over a project's."""
    from mcpkit.client.target import Target, TargetError
    from mcpkit.transports.server_config import ConfigError, parse_entry

    try:
        found = find_server(text, places or Places.here())
    except LookupError as exc:
        raise TargetError(str(exc.args[0])) from None
    if found is None:
        return None
    if found.shadows is not None and warn is not None:
        warn(
            f"{found.target}: the server in {found.path} is used; the project's of the same "
            f"name in {found.shadows} is not"
        )
    try:
        entry = parse_entry(found.name, found.entry, os.environ)
    except ConfigError as exc:
        raise TargetError(f"{found.target} in {found.path}: {exc}") from None
    if isinstance(entry.target, str):
        return Target(text, "url", entry.target, headers=entry.headers)
    command = entry.target
    shown = shlex.join((command.command, *command.args))
    if found.from_project and (trust is None or not trust(found, shown)):
        raise TargetError(
            f"{found.target} is a project's server, from {found.path}, and runs `{shown}`: "
            "a command a checkout brings runs only once you trust it; pass --trust-project "
            "(or answer y when asked at a terminal)"
        )
    return Target(
        text,
        "command",
        (command.command, *command.args),
        env=command.env,
        cwd=None if command.cwd is None else str(command.cwd),
    )


def resolve_target(
    text: str,
    places: Places | None = None,
    *,
    trust: TrustProject | None = None,
    warn: Callable[[str], None] | None = None,
) -> Target:
    """A TARGET as every command takes it: `HOST:NAME` (`host_target`, which `trust` and
    `warn` are for), else a file, module, command or URL (`mcpkit.client.target.parse_target`).
    TargetError says what is wrong."""
    from mcpkit.client.target import parse_target

    return host_target(text, places, trust=trust, warn=warn) or parse_target(text)
