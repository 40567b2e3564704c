"""The MCP registry's `server.json` (schema 2025-12-11): what a server publishes to the
registry to say who it is, which package runs it and where it is deployed; and
`server_json_problems`, a document checked against the registry's published JSON Schema
(shipped in `schemas/`, its source and commit noted beside it).

Written by hand, as the Server Card types are: the registry specifies the format in its own
repository (modelcontextprotocol/registry, docs/reference/server-json/). The card's shapes
(`ServerDescription`, `Repository`, `Remote`, the inputs) come from this format, so they are
shared: one definition per shape. A server's name is reverse-DNS with one slash
(`io.github.user/weather`); the registry checks a PyPI package's ownership by the line
`mcp-name: <name>` in the package's README (its PyPI description), `MCP_NAME_PREFIX` below.
"""

from __future__ import annotations

import functools
from typing import Any, Final, Literal, cast

import msgspec

from mcpkit.types.server_card import CardInput, Remote, ServerDescription

__all__ = [
    "MCP_NAME_PREFIX",
    "REGISTRY_SCHEMA_URL",
    "Argument",
    "EnvironmentVariable",
    "Package",
    "ServerJson",
    "StdioTransport",
    "server_json_problems",
]

#: The `$schema` of the registry's newest published format, which `mcpkit registry` writes
#: and checks (the shipped `schemas/registry-server.schema.json` has it as `$id`).
REGISTRY_SCHEMA_URL: Final = (
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
)
#: What the registry looks for in a PyPI package's README, before the server's name.
MCP_NAME_PREFIX: Final = "mcp-name: "


class Argument(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A command-line argument: `positional` (its `value`, or a `value_hint` the user fills
    in) or `named` (`--flag`, `name`, with its `value`)."""

    type: Literal["positional", "named"]
    value: str | None = None
    value_hint: str | None = msgspec.field(default=None, name="valueHint")
    name: str | None = None
    description: str | None = None
    is_required: bool | None = msgspec.field(default=None, name="isRequired")


class EnvironmentVariable(CardInput, frozen=True, kw_only=True, omit_defaults=True):
    """An environment variable the server reads, which a client sets when it runs it."""

    name: str


class StdioTransport(msgspec.Struct, frozen=True, kw_only=True):
    """A package run as a subprocess, speaking MCP on its stdin and stdout."""

    type: Literal["stdio"] = "stdio"


class Package(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A package that runs the server: `registry_type` ("pypi") and `identifier` (the
    distribution's name) at `version`, run by `runtime_hint` ("uvx") with its arguments."""

    registry_type: str = msgspec.field(name="registryType")
    identifier: str
    version: str | None = None
    transport: StdioTransport
    runtime_hint: str | None = msgspec.field(default=None, name="runtimeHint")
    runtime_arguments: list[Argument] | None = msgspec.field(default=None, name="runtimeArguments")
    package_arguments: list[Argument] | None = msgspec.field(default=None, name="packageArguments")
    environment_variables: list[EnvironmentVariable] | None = msgspec.field(
        default=None, name="environmentVariables"
    )


class ServerJson(ServerDescription, frozen=True, kw_only=True, omit_defaults=True):
    """A registry entry: a `ServerDescription` whose `schema` is always
    `REGISTRY_SCHEMA_URL`, with the packages to install and the remotes to connect to."""

    packages: list[Package] | None = None
    remotes: list[Remote] | None = None


@functools.cache
def _validator() -> Any:
    import json
    from importlib import resources

    import jsonschema_rs  # (a dependency, loaded when a document is first checked)

    text = resources.files("mcpkit.types").joinpath("schemas/registry-server.schema.json")
    schema = json.loads(text.read_text(encoding="utf-8"))  # draft-07, as its `$schema` says
    return jsonschema_rs.Draft7Validator(schema, validate_formats=True)


def server_json_problems(document: object) -> list[str]:
    """What keeps `document` (decoded JSON) from being a `server.json` by the registry's
    schema, one line each: `<JSON path>: <the value and what is wrong> (rule: <the schema's
    rule>)`; empty when it is one. Where a value matches none of a list of shapes (a remote
    is streamable-http or sse), the problems of the shape it came nearest are said. A
    `$schema` other than `REGISTRY_SCHEMA_URL` is one too: the registry checks a document
    by the version it names, and this is the one mcpkit ships."""
    problems = [_line(error) for error in _errors(_validator().iter_errors(document))]
    if not isinstance(document, dict):
        return problems  # (the schema's: not an object)
    named = cast("dict[str, object]", document).get("$schema")
    if named != REGISTRY_SCHEMA_URL:
        problems.insert(
            0,
            f"/$schema: {named!r} is not the schema checked here "
            f"(rule: $schema is {REGISTRY_SCHEMA_URL})",
        )
    return problems


def _errors(errors: Any) -> list[Any]:
    found: list[Any] = []
    for error in errors:
        if _is_any_of(error) and error.kind.context:
            found.extend(_errors(min(error.kind.context, key=len)))
        else:
            found.append(error)
    return found


def _is_any_of(error: Any) -> bool:
    import jsonschema_rs

    return isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AnyOf)


def _line(error: Any) -> str:
    where = "/".join(str(part) for part in error.instance_path)
    rule = "/".join(str(part) for part in error.schema_path)
    return f"/{where}: {error.message} (rule: #/{rule})"
