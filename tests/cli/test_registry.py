"""`mcpkit registry init` and `mcpkit registry validate` (the MCP registry's server.json, schema
2025-12-11 shipped with mcpkit): a server.json made for examples/everything.py served over HTTP
validates and says what its Server Card says; a broken one is refused line by line; an
existing file and a README's mcp-name line are never written twice."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import msgspec
import pytest
from _examples import EXAMPLES, fresh_example
from _verbs import acli, cli

from mcpkit import Server
from mcpkit.server.serving.card_publishing import build_card
from mcpkit.server.serving.registry_entry import (
    EntryRefused,
    Project,
    build_server_json,
    read_project,
    server_module,
)
from mcpkit.types.server_json import REGISTRY_SCHEMA_URL, server_json_problems

from _serving import serving  # isort: skip

NAME = "io.github.example/everything"
REPOSITORY = "https://github.com/example/everything"
EVERYTHING = str(EXAMPLES / "everything.py")
#: The fields a Server Card and a server.json share (card_publishing.listing).
SHARED = ("name", "version", "description", "title", "websiteUrl", "repository", "icons")


def project_file(folder: Path, script: str = "everything:main") -> Path:
    """A pyproject.toml shipping examples/everything.py as `everything-mcp` 1.0.0."""
    path = folder / "pyproject.toml"
    path.write_text(
        '[project]\nname = "everything-mcp"\nversion = "1.0.0"\n'
        'description = "Every MCP feature."\n'
        f'[project.urls]\nRepository = "{REPOSITORY}"\n'
        f'[project.scripts]\neverything-mcp = "{script}"\n',
        encoding="utf-8",
    )
    return path


def everything() -> Server:
    return fresh_example("everything.py", "cli_registry_everything")


async def test_init_for_everything_over_http_validates_and_says_what_its_card_says(
    tmp_path: Path,
) -> None:
    server = everything()
    async with serving(server.http_app()) as base:
        url = base + "/mcp"
        # The card names the URL the server is served at, known once it serves: a second app
        # of the same server, made after publish_card, serves that card.
        server.publish_card(NAME, url, repository=REPOSITORY)
        async with serving(server.http_app()) as carded:
            card_url = carded + "/mcp"
            out = tmp_path / "server.json"
            made = await acli(
                "registry", "init", EVERYTHING, "--name", NAME, "--url", url,
                "--pyproject", str(project_file(tmp_path)), "--out", str(out),
            )  # fmt: skip
            checked = await acli("registry", "validate", str(out))
            card = await acli("card", card_url, "--json")
    assert made.code == 0, made.err
    assert "add this line to the README that PyPI shows (the registry checks it): " in made.out
    assert f"<!-- mcp-name: {NAME} -->" in made.out
    assert checked.code == 0, checked.err
    assert f"valid against {REGISTRY_SCHEMA_URL}" in checked.out
    document = json.loads(out.read_text())
    assert document["remotes"] == [{"type": "streamable-http", "url": url}]
    assert document["packages"][0]["identifier"] == "everything-mcp"
    assert card.code == 0, card.err
    shown = json.loads(card.out)
    assert {key: document.get(key) for key in SHARED} == {key: shown.get(key) for key in SHARED}
    assert shown["remotes"][0]["url"] == url


def test_the_card_and_server_json_of_a_server_share_one_source(tmp_path: Path) -> None:
    server = everything()
    server.publish_card(NAME, "https://mcp.example.com/mcp", repository=REPOSITORY)
    published = server.published_card
    assert published is not None
    card = msgspec.to_builtins(build_card(server.info, published))
    entry = msgspec.to_builtins(build_server_json(server, read_project(project_file(tmp_path))))
    assert server_json_problems(entry) == []
    assert {key: entry.get(key) for key in SHARED} == {key: card.get(key) for key in SHARED}
    assert entry["description"] == "A tour of every MCP feature mcpkit offers."
    assert entry["remotes"] == [{"type": "streamable-http", "url": "https://mcp.example.com/mcp"}]


def test_validate_refuses_a_broken_file_one_line_per_problem(tmp_path: Path) -> None:
    broken = tmp_path / "server.json"
    broken.write_text(
        json.dumps(
            {
                "$schema": REGISTRY_SCHEMA_URL,
                "description": "A server.",
                "version": "1.0.0",
                "packages": [
                    {
                        "registryType": "pypi",
                        "identifier": "weather",
                        "version": "latest",
                        "transport": {"type": "stdio"},
                    }
                ],
                "remotes": [{"type": "streamable-http", "url": "ftp://mcp.example.com/mcp"}],
            }
        )
    )
    ran = cli("registry", "validate", str(broken))
    assert ran.code == 1
    lines = ran.err.splitlines()
    assert len(lines) == 3, ran.err
    assert all(line.startswith(f"error: {broken}: /") for line in lines)
    missing, version, remote = lines
    assert '"name" is a required property' in missing
    assert "(rule: #/definitions/ServerDetail/required)" in missing
    assert '/packages/0/version: {"const":"latest"} is not allowed for "latest"' in version
    assert '/remotes/0/url: "ftp://mcp.example.com/mcp" does not match' in remote
    assert "(rule: #/definitions/StreamableHttpTransport/properties/url/pattern)" in remote


def test_validate_names_another_schema_version_and_usage_errors_exit_2(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {
                "$schema": "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json",
                "name": "io.github.example/weather",
                "description": "Forecasts.",
                "version": "1.0.0",
            }
        )
    )
    ran = cli("registry", "validate", str(old))
    assert ran.code == 1
    assert "/$schema: " in ran.err and "2025-09-29" in ran.err
    assert REGISTRY_SCHEMA_URL in ran.err
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert cli("registry", "validate", str(not_json)).code == 1
    absent = cli("registry", "validate", str(tmp_path / "absent.json"))
    assert absent.code == 2
    assert "is not a file" in absent.err
    assert cli("registry").code == 2


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "server.json"
    out.write_text("{}")
    common = ("registry", "init", EVERYTHING, "--name", NAME, "--out", str(out))
    pyproject = ("--pyproject", str(project_file(tmp_path)))
    refused = cli(*common, *pyproject)
    assert refused.code == 2
    assert "--out" in refused.err and "--force" in refused.err
    assert out.read_text() == "{}"
    forced = cli(*common, *pyproject, "--force")
    assert forced.code == 0, forced.err
    assert server_json_problems(json.loads(out.read_text())) == []


def test_the_mcp_name_line_is_added_once(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Everything\n\nEvery MCP feature.\n")
    line = f"<!-- mcp-name: {NAME} -->"
    args = ("registry", "init", EVERYTHING, "--name", NAME, "--out", str(tmp_path / "s.json"))
    rest = ("--pyproject", str(project_file(tmp_path)), "--readme", str(readme), "--force")
    first = cli(*args, *rest)
    second = cli(*args, *rest)
    assert first.code == 0 and second.code == 0, first.err + second.err
    assert f"{readme}: added {line}" in first.out
    assert f"{readme}: already has {line}" in second.out
    assert readme.read_text() == f"# Everything\n\nEvery MCP feature.\n\n{line}\n"
    written = (tmp_path / "s.json").read_text()
    other = cli(*args[:4], "io.github.someone/else", *args[5:], *rest)
    assert other.code == 1
    assert f"already says mcp-name: {NAME}, not io.github.someone/else" in other.err
    assert readme.read_text().count("mcp-name:") == 1
    assert (tmp_path / "s.json").read_text() == written  # nothing written on a refusal


def test_the_package_runs_the_project_script_or_mcpkit_run(tmp_path: Path) -> None:
    server = everything()
    own = build_server_json(server, read_project(project_file(tmp_path)), name=NAME)
    assert own.packages is not None
    assert (own.packages[0].runtime_hint, own.packages[0].package_arguments) == ("uvx", None)
    root = tmp_path / "project"
    (root / "src" / "weather").mkdir(parents=True)
    served = read_project(project_file(root, "mcpkit.cli.main:main"))
    entry = build_server_json(server, served, name=NAME, target=str(root / "src/weather/app.py"))
    assert entry.packages is not None
    arguments = msgspec.to_builtins(entry.packages[0].package_arguments)
    assert arguments == [
        {"type": "positional", "value": "run"},
        {"type": "positional", "value": "weather.app"},
    ]
    assert server_module("weather.app:server", root) == "weather.app:server"
    with pytest.raises(EntryRefused, match="is not in the project"):
        server_module(EVERYTHING, root)


def test_what_init_cannot_honour_is_refused_naming_the_fix(tmp_path: Path) -> None:
    server = everything()
    project = read_project(project_file(tmp_path))
    no_script = Project(tmp_path, "weather", "1.0.0", None, None, {})
    with pytest.raises(EntryRefused, match=r"add \[project.scripts\] weather = "):
        build_server_json(server, no_script, name=NAME)
    with pytest.raises(EntryRefused, match=r"give --name io.github.USER/NAME"):
        build_server_json(server, project)
    with pytest.raises(EntryRefused, match=r"give the project's pyproject.toml .* or --url"):
        build_server_json(server, None, name=NAME)
    server.publish_card(NAME, "https://mcp.example.com/mcp")
    with pytest.raises(EntryRefused, match="is not the card's"):
        build_server_json(server, project, url="https://elsewhere.example.com/mcp")
    server.publish_card(NAME, "https://mcp.example.com/mcp", repository=REPOSITORY + "-fork")
    with pytest.raises(EntryRefused, match=r"repository .*-fork.* is not pyproject.toml's"):
        build_server_json(server, project)
    server.publish_card(NAME, "https://mcp.example.com/mcp", repository=REPOSITORY + "/")
    assert build_server_json(server, project).repository is not None  # one URL, a slash apart
    bare = Server("bare", version="1.0.0")
    with pytest.raises(EntryRefused, match=r"Server\(description=...\).*'Every MCP feature.'"):
        build_server_json(bare, project, name=NAME)
    bad = tmp_path / "bad.toml"
    bad.write_text('[project]\nname = "x"\nversion = 3\n')
    with pytest.raises(EntryRefused, match=r"project\.version must be a string, not 3"):
        read_project(bad)
    bad.write_text('[project]\nname = "x"\nversion = "1"\n[project.scripts]\nx = 1\n')
    with pytest.raises(EntryRefused, match=r"project\.scripts\.x must be a string"):
        read_project(bad)
    bad.write_text('[project]\nname = "x"\ndynamic = ["version"]\n')
    with pytest.raises(EntryRefused, match="dynamic and the project is not installed"):
        read_project(bad)
    installed = tmp_path / "installed.toml"
    installed.write_text('[project]\nname = "msgspec"\ndynamic = ["version"]\n')
    assert read_project(installed).version == metadata.version("msgspec")
    bad.write_text('[project]\nname = "x"\n')
    with pytest.raises(EntryRefused, match=r"has no \[project\] version"):
        read_project(bad)
    out = tmp_path / "server.json"
    unnamed = cli(
        "registry", "init", EVERYTHING, "--name", "weather", "--out", str(out),
        "--pyproject", str(project_file(tmp_path)),
    )  # fmt: skip
    assert unnamed.code == 1
    assert 'the server.json made would not be valid: /name: "weather" does not match' in unnamed.err
    assert not out.exists()
    env = cli("registry", "init", EVERYTHING, "--name", NAME, "--env", "not a name")
    assert env.code == 2
    assert "--env 'not a name'" in env.err


def test_environment_variables_are_listed_on_the_package(tmp_path: Path) -> None:
    out = tmp_path / "server.json"
    ran = cli(
        "registry", "init", EVERYTHING, "--name", NAME, "--out", str(out),
        "--pyproject", str(project_file(tmp_path)),
        "--env", "WEATHER_UNITS=metric or imperial", "--secret-env", "WEATHER_API_KEY",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    package = json.loads(out.read_text())["packages"][0]
    assert package["environmentVariables"] == [
        {"name": "WEATHER_UNITS", "description": "metric or imperial", "isRequired": True},
        {"name": "WEATHER_API_KEY", "isRequired": True, "isSecret": True},
    ]
