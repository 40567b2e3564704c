"""The wire types of MCP Server Cards (the experimental `io.modelcontextprotocol/server-card`
extension, SEP-2127): a static document saying who a remote server is and where and how to
connect to it, fetched before connecting; and `card_problems`, a document checked against the
extension's published JSON Schema (shipped in `schemas/`, its source noted beside it).

Written by hand: the extension is specified in its own repository (experimental-ext-server-card,
`schema.ts`), not in the base schema. The types follow the generated types' conventions
(snake_case attributes, the wire names as `name=`, unset optional fields left out of the JSON).
A card lists no primitives and no capabilities: those are the live connection's to say.
"""

from __future__ import annotations

import functools
from typing import Any, Final, Literal

import msgspec

from mcpkit.types import Icon

__all__ = [
    "CARD_MEDIA_TYPE",
    "CARD_SCHEMA_URL",
    "CARD_SUFFIX",
    "CATALOG_MEDIA_TYPE",
    "CATALOG_PATH",
    "SERVER_CARD_EXTENSION",
    "CardHeader",
    "CardInput",
    "Remote",
    "Repository",
    "ServerCard",
    "ServerDescription",
    "card_problems",
]

#: The extension's identifier.
SERVER_CARD_EXTENSION: Final = "io.modelcontextprotocol/server-card"
#: The one `$schema` a card may name (schema.ts: the `/v1/` family).
CARD_SCHEMA_URL: Final = "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json"
#: The media type a card is served and asked for with (docs/discovery.md of the extension).
CARD_MEDIA_TYPE: Final = "application/mcp-server-card+json"
#: What a card's reserved location appends to the server's Streamable HTTP URL.
CARD_SUFFIX: Final = "/server-card"
#: Where a host publishes its AI Catalog for domain-level discovery, and its media type.
CATALOG_PATH: Final = "/.well-known/ai-catalog.json"
CATALOG_MEDIA_TYPE: Final = "application/ai-catalog+json"


class CardInput(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A value a client supplies or is given for a remote's URL variable or header."""

    description: str | None = None
    is_required: bool | None = msgspec.field(default=None, name="isRequired")
    is_secret: bool | None = msgspec.field(default=None, name="isSecret")
    format: Literal["string", "number", "boolean", "filepath"] | None = None
    default: str | None = None
    placeholder: str | None = None
    value: str | None = None
    choices: list[str] | None = None


class CardHeader(CardInput, frozen=True, kw_only=True, omit_defaults=True):
    """An HTTP header sent to a remote (`Authorization`, say), its `value` a template over
    its `variables`."""

    name: str
    variables: dict[str, CardInput] | None = None


class Remote(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One endpoint of the server: its transport, URL (a template over `variables`), the
    headers it takes, and the protocol revisions it speaks there."""

    type: Literal["streamable-http", "sse"]
    url: str
    headers: list[CardHeader] | None = None
    variables: dict[str, CardInput] | None = None
    supported_protocol_versions: list[str] | None = msgspec.field(
        default=None, name="supportedProtocolVersions"
    )


class Repository(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where the server's source is (`source`: the forge, "github")."""

    url: str
    source: str
    subfolder: str | None = None
    id: str | None = None


class ServerDescription(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What a Server Card and a registry `server.json` both say of a server, in the order
    both write it: which document (`schema`, written out: a default would be left out of
    the JSON), its reverse-DNS `name` with one slash (`io.example/weather`), version,
    description, and how it presents itself."""

    schema: str = msgspec.field(name="$schema")
    name: str
    version: str
    description: str
    title: str | None = None
    website_url: str | None = msgspec.field(default=None, name="websiteUrl")
    repository: Repository | None = None
    icons: list[Icon] | None = None


class ServerCard(ServerDescription, frozen=True, kw_only=True, omit_defaults=True):
    """A Server Card: a `ServerDescription` whose `schema` is always `CARD_SCHEMA_URL`, with
    the remotes to connect to."""

    remotes: list[Remote] | None = None
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


@functools.cache
def _validator() -> Any:
    import json
    from importlib import resources

    import jsonschema_rs  # (a dependency, loaded when a card is first checked)

    text = resources.files("mcpkit.types").joinpath("schemas/server-card.schema.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    schema["$ref"] = "#/$defs/ServerCard"
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def card_problems(document: object) -> list[str]:
    """What keeps `document` (decoded JSON) from being a Server Card by the extension's
    schema, each as `<JSON path>: <what is wrong>`; empty when it is one."""
    problems: list[str] = []
    for error in _validator().iter_errors(document):
        where = "/".join(str(part) for part in error.instance_path)
        problems.append(f"/{where}: {error.message}")
    return problems
