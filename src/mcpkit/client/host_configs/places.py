"""Each MCP host's configuration file: where it lives per operating system and scope, and under
which key its servers are, as each host documents it (read by `configured`, written by
`mcpkit install`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["HOSTS", "FileFormat", "HostSpec", "Scope", "config_path"]

Scope = Literal["user", "project"]
#: How a host's file is written.
FileFormat = Literal["json", "yaml"]


@dataclass(frozen=True, slots=True)
class HostSpec:
    """A host whose servers `mcpkit discover` reads and `mcpkit install` writes."""

    name: str
    title: str
    #: The top-level key that maps server names to entries.
    servers_key: str
    #: The scopes it reads servers from; the first is the default.
    scopes: tuple[Scope, ...]
    #: Whether an entry says `"type": "stdio"` (the hosts that also take URL entries ask for it).
    typed: bool
    #: Whether the file has an `inputs` list that `${input:ID}` values refer to.
    has_inputs: bool
    #: What the user does next for the host to load the server.
    next_step: str
    #: JSON for most; YAML for Goose.
    file_format: FileFormat = "json"


HOSTS: dict[str, HostSpec] = {
    host.name: host
    for host in (
        # Claude Desktop: modelcontextprotocol.io "Connect to local MCP servers" and Anthropic's
        # "Getting started with local MCP servers on Claude Desktop": claude_desktop_config.json,
        # {"mcpServers": {NAME: {"command", "args", "env"}}}; user scope only.
        HostSpec(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            ("user",),
            typed=False,
            has_inputs=False,
            next_step="quit Claude Desktop fully and start it again",
        ),
        # Claude Code: code.claude.com/docs/en/mcp, "MCP installation scopes": project scope is
        # .mcp.json at the project root, user scope the top-level "mcpServers" of ~/.claude.json
        # (what `claude mcp add-json --scope user` writes); entries carry "type": "stdio".
        HostSpec(
            "claude-code",
            "Claude Code",
            "mcpServers",
            ("project", "user"),
            typed=True,
            has_inputs=False,
            next_step="start `claude` again (`claude mcp list` shows the server; a project's "
            "servers are approved once)",
        ),
        # Cursor: cursor.com/docs/mcp, "Configuration locations": ~/.cursor/mcp.json (global)
        # or .cursor/mcp.json (project), {"mcpServers": {NAME: {"command", "args", "env"}}}.
        HostSpec(
            "cursor",
            "Cursor",
            "mcpServers",
            ("user", "project"),
            typed=False,
            has_inputs=False,
            next_step="turn the server on in Cursor's MCP settings if it is not already",
        ),
        # VS Code: code.visualstudio.com/docs/copilot/reference/mcp-configuration: .vscode/mcp.json
        # in the workspace, or mcp.json in the user profile; {"servers": {NAME: {"type": "stdio",
        # "command", "args", "env"}}, "inputs": [...]}, `${input:ID}` prompting for secrets.
        HostSpec(
            "vscode",
            "VS Code",
            "servers",
            ("project", "user"),
            typed=True,
            has_inputs=True,
            next_step="start it from the MCP servers list (or the code lens in mcp.json)",
        ),
        # Gemini CLI: geminicli.com/docs/tools/mcp-server, "Configure the MCP server in
        # settings.json": ~/.gemini/settings.json (user) or .gemini/settings.json (project),
        # {"mcpServers": {NAME: {"command", "args", "env", "cwd"}}} beside its other settings.
        HostSpec(
            "gemini-cli",
            "Gemini CLI",
            "mcpServers",
            ("project", "user"),
            typed=False,
            has_inputs=False,
            next_step="start `gemini` again (`/mcp` lists the server)",
        ),
        # Goose: block.github.io/goose/docs/getting-started/using-extensions, "Config file":
        # ~/.config/goose/config.yaml (%APPDATA%\Block\goose\config\config.yaml on Windows),
        # YAML, {"extensions": {NAME: {"name", "type": "stdio", "cmd", "args", "envs",
        # "enabled", "timeout"}}} beside its other settings (GOOSE_PROVIDER...).
        HostSpec(
            "goose",
            "Goose",
            "extensions",
            ("user",),
            typed=True,
            has_inputs=False,
            next_step="start a new Goose session (`goose session`); the extension is enabled",
            file_format="yaml",
        ),
        # The common shape the hosts above share (and most others read): {"mcpServers": {...}}.
        HostSpec(
            "mcp-json",
            "mcp.json",
            "mcpServers",
            ("project",),
            typed=False,
            has_inputs=False,
            next_step="point your host at this file",
        ),
    )
}


def config_path(
    host: HostSpec,
    scope: Scope,
    *,
    home: Path,
    cwd: Path,
    platform: str,
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """Where `host` keeps the servers of `scope` on `platform` (`sys.platform`'s values)."""
    if host.name == "claude-desktop":
        return _app_config_dir(home, platform, environ) / "Claude" / "claude_desktop_config.json"
    if host.name == "claude-code":
        return home / ".claude.json" if scope == "user" else cwd / ".mcp.json"
    if host.name == "cursor":
        return (home if scope == "user" else cwd) / ".cursor" / "mcp.json"
    if host.name == "vscode":
        if scope == "user":
            return _app_config_dir(home, platform, environ) / "Code" / "User" / "mcp.json"
        return cwd / ".vscode" / "mcp.json"
    if host.name == "gemini-cli":
        return (home if scope == "user" else cwd) / ".gemini" / "settings.json"
    if host.name == "goose":
        if platform == "win32":
            return (
                _app_config_dir(home, platform, environ)
                / "Block"
                / "goose"
                / "config"
                / ("config.yaml")
            )
        # Goose keeps to the XDG layout on macOS too (~/.config/goose, not Library/)
        return _xdg_config_dir(home, environ) / "goose" / "config.yaml"
    return cwd / "mcp.json"


def _app_config_dir(home: Path, platform: str, environ: Mapping[str, str]) -> Path:
    """The folder desktop applications keep their settings in."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32":
        appdata = environ.get("APPDATA")
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    return _xdg_config_dir(home, environ)


def _xdg_config_dir(home: Path, environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME")
    # XDG Base Directory: a relative $XDG_CONFIG_HOME is invalid and must be ignored
    return Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
