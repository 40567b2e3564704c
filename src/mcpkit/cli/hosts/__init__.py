"""What `mcpkit install` knows about MCP hosts: where each keeps its servers, the shape of an
entry there, and how to change that file without losing anything else in it."""

from __future__ import annotations

from mcpkit.cli.hosts.config_file import (
    ConfigError,
    add_server,
    load_config,
    render_config,
    write_config,
)
from mcpkit.cli.hosts.envfile import parse_env_file, parse_env_options
from mcpkit.cli.hosts.formats import (
    HOSTS,
    HostSpec,
    Scope,
    config_path,
    launch_command,
    server_entry,
)

__all__ = [
    "HOSTS",
    "ConfigError",
    "HostSpec",
    "Scope",
    "add_server",
    "config_path",
    "launch_command",
    "load_config",
    "parse_env_file",
    "parse_env_options",
    "render_config",
    "server_entry",
    "write_config",
]
