"""`mcpkit.proxy.from_config` refuses, before anything starts, a config it cannot serve as
written: unknown keys, bad values, names that cannot be namespaces, variables it cannot
expand; and expands `${NAME}`, `${NAME:-default}` and `${env:NAME}` as Claude Code, Cursor
and VS Code do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpkit.proxy import ConfigError, from_config
from mcpkit.proxy.config import expand, parse_server
from mcpkit.transports.stdio_client import StdioParameters

ENV = {"TOKEN": "t0k", "EMPTY": "", "HOST": "example.com"}


def refused(config: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        from_config(config)
    return str(caught.value)


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"command": "x", "envFile": ".env"}, "server 'a' of the config has the key 'envFile'"),
        ({"url": "http://h/mcp", "args": []}, "has the key 'args'"),
        ({"command": "x", "disabled": True}, "has the key 'disabled'"),
        ({"command": "x", "url": "http://h/mcp"}, "has both command and url"),
        ({"args": ["x"]}, "has neither command"),
        ({"type": "websocket", "url": "ws://h"}, "type 'websocket' is not one mcpkit speaks"),
        ({"type": "sse"}, "type 'sse' needs url"),
        ({"type": "http", "transport": "sse", "url": "http://h"}, "type and transport"),
        ({"command": "x", "args": "y"}, "args is a JSON str, not a list"),
        ({"command": "x", "env": {"N": 1}}, "env.N is a JSON int, not a string"),
        ({"command": ""}, "command is empty"),
        ({"url": "ftp://h/mcp"}, "server 'a' of the config: "),
        ("not an object", "server 'a' of the config is a JSON str"),
    ],
)
def test_an_entry_it_cannot_serve_is_refused_naming_it(entry: Any, said: str) -> None:
    assert said in refused({"mcpServers": {"a": entry}})


def test_a_name_that_cannot_be_a_namespace_is_refused() -> None:
    said = refused({"mcpServers": {"my server": {"command": "x"}}})
    assert "server 'my server' of the config: its name is the namespace" in said
    assert "invalid namespace 'my server'" in said


def test_the_servers_object_must_be_there_once(tmp_path: Path) -> None:
    assert 'has neither "mcpServers" nor "servers"' in refused({"preferences": {}})
    assert "has both" in refused({"mcpServers": {}, "servers": {}})
    assert "not an object of servers" in refused({"mcpServers": []})
    assert "is not JSON" in refused("{nope")
    assert "cannot read the config" in refused(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[]")
    assert "is a JSON list, not an object" in refused(tmp_path / "list.json")


def test_other_top_level_keys_are_the_clients_own_and_left_alone() -> None:
    server = from_config({"globalShortcut": "Ctrl+Space", "mcpServers": {}}, name="quiet")
    assert server.name == "quiet" and server.mounts == ()


def test_variables_are_expanded_as_the_clients_document() -> None:
    assert expand("Bearer ${TOKEN}", ENV, "w") == "Bearer t0k"
    assert expand("${env:HOST}/mcp", ENV, "w") == "example.com/mcp"
    assert expand("${MISSING:-https://x}/mcp", ENV, "w") == "https://x/mcp"
    assert expand("${EMPTY:-fallback}", ENV, "w") == "fallback"  # as in the shell
    assert expand("$TOKEN and $$ stay", ENV, "w") == "$TOKEN and $$ stay"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("${MISSING}", "w: ${MISSING} names MISSING, which is not set"),
        ("${env:MISSING}", "w: ${env:MISSING} names MISSING, which is not set"),
        ("${input:api-key}", "${input:api-key} is a VS Code input"),
        ("${workspaceFolder}/x", "names workspaceFolder, which is not set"),
        ("${1bad}", "${1bad} is not a variable mcpkit expands"),
    ],
)
def test_a_variable_it_cannot_expand_is_an_error_naming_it(value: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        expand(value, ENV, "w")
    assert said in str(caught.value)


def test_every_field_that_holds_text_is_expanded() -> None:
    command = parse_server(
        "c",
        {
            "command": "${HOST}",
            "args": ["-t=${TOKEN}"],
            "env": {"K": "${TOKEN}"},
            "cwd": "/${HOST}",
        },
        ENV,
    )
    assert command.target == StdioParameters(
        command="example.com", args=["-t=t0k"], env={"K": "t0k"}, cwd="/example.com"
    )
    remote = parse_server(
        "r",
        {"type": "http", "url": "https://${HOST}/mcp", "headers": {"A": "Bearer ${TOKEN}"}},
        ENV,
    )
    assert (remote.target, remote.headers) == ("https://example.com/mcp", {"A": "Bearer t0k"})
    missing = {"url": "https://h/mcp", "headers": {"Authorization": "Bearer ${NO_TOKEN}"}}
    with pytest.raises(ConfigError, match=r"server 'r' of the config, headers.Authorization"):
        parse_server("r", missing, ENV)
