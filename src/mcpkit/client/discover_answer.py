"""What a server answers the client's `server/discover` probe (2026-07-28): its result, read
leniently (`Discovered`: the revisions it speaks, its capabilities, identity and
instructions), or an error that names a modern server and the revision it wants
(basic/versioning, "Backward Compatibility"). Apart from `mcpkit.client.request_terms`, which
sends every modern request, because only choosing the era at connect
(`mcpkit.client.discover`) reads these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

import msgspec

from mcpkit.client.results import read_result
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.modern import SERVER_INFO_KEY
from mcpkit.types import Implementation, ServerCapabilities
from mcpkit.types.methods import MODERN_REVISIONS

__all__ = [
    "Discovered",
    "is_modern_error",
    "modern_choice",
    "modern_wanted",
    "read_discover",
    "supported_of",
]

#: The error codes only a modern server sends (basic/index, Error Codes): one of
#: them names a modern server, which must not be spoken to with `initialize`.
_MODERN_CODES: Final = frozenset({codes.HEADER_MISMATCH, codes.MISSING_REQUIRED_CLIENT_CAPABILITY})


class Discovered(msgspec.Struct, kw_only=True):
    """What `server/discover` said (server/discover, DiscoverResult): the revisions the server
    speaks, its capabilities, its identity and instructions."""

    supported_versions: list[str] = msgspec.field(
        default_factory=lambda: list[str](), name="supportedVersions"
    )
    capabilities: ServerCapabilities = msgspec.field(default_factory=ServerCapabilities)
    instructions: str | None = None
    server_info: Implementation | None = None
    ttl_ms: float | None = None


class _RawDiscover(msgspec.Struct):
    supported_versions: list[str] = msgspec.field(
        default_factory=lambda: list[str](), name="supportedVersions"
    )
    capabilities: ServerCapabilities = msgspec.field(default_factory=ServerCapabilities)
    instructions: str | None = None
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    # Not in the schema, which puts it in `_meta`; some servers send it here all the same.
    server_info: Implementation | None = msgspec.field(default=None, name="serverInfo")
    ttl_ms: float | None = msgspec.field(default=None, name="ttlMs")


_DISCOVER: Final = msgspec.json.Decoder(_RawDiscover)


def read_discover(raw: bytes) -> Discovered:
    """A `server/discover` result, read leniently (an McpError if it is not one at all)."""
    found = read_result(_DISCOVER, raw, "server/discover")
    info = found.server_info
    meta_info = (found.meta or {}).get(SERVER_INFO_KEY)
    if meta_info is not None:
        try:
            info = msgspec.convert(meta_info, Implementation)
        except msgspec.ValidationError:
            pass  # self-reported, for display only (server/discover): never fatal
    return Discovered(
        supported_versions=found.supported_versions,
        capabilities=found.capabilities,
        instructions=found.instructions,
        server_info=info,
        ttl_ms=found.ttl_ms,
    )


def is_modern_error(exc: McpError) -> bool:
    """Whether an error to our probe comes from a modern server (basic/versioning,
    Backward Compatibility): one of the codes only this revision defines."""
    return exc.code in _MODERN_CODES or exc.code == codes.UNSUPPORTED_PROTOCOL_VERSION


def supported_of(exc: McpError) -> list[str]:
    """The `supported` list of an `UnsupportedProtocolVersionError`, or []."""
    data: object = exc.data
    if not isinstance(data, Mapping):
        return []
    found = cast("Mapping[str, object]", data).get("supported")
    if not isinstance(found, list):
        return []
    return [v for v in cast("list[object]", found) if isinstance(v, str)]


def modern_wanted(exc: McpError) -> str | None:
    """The modern revision we speak that an `UnsupportedProtocolVersionError` (-32022)
    lists among those its server speaks, or None (another error, or only older revisions)."""
    if exc.code != codes.UNSUPPORTED_PROTOCOL_VERSION:
        return None
    return modern_choice(supported_of(exc))


def modern_choice(versions: list[str]) -> str | None:
    """The newest modern revision we speak among `versions`, or None."""
    for revision in MODERN_REVISIONS:
        if revision in versions:
            return revision
    return None
