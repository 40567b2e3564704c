"""The `tags=` and `version=` options of tools, resources, templates and prompts: checked once
at registration, kept on the spec, and shown to clients in the item's `_meta`.

Both go under mcpkit's own `_meta` prefix (basic/index, "`_meta`": a prefix whose second
label is neither `modelcontextprotocol` nor `mcp` is free for implementations to use), so a
client can read them and no other key of the user's `meta=` is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, TypeVar, cast

__all__ = [
    "TAGS_META_KEY",
    "VERSION_META_KEY",
    "labelled_as_sent",
    "tag_set",
    "version_of",
    "with_labels",
]

#: The `_meta` key of an item's tags: a sorted JSON array of strings.
TAGS_META_KEY: Final = "io.mcpkit/tags"
#: The `_meta` key of an item's version: a string.
VERSION_META_KEY: Final = "io.mcpkit/version"
#: Where a FastMCP server sends its components' tags and version (a proxied one's are read).
_FASTMCP_META_KEYS: Final = ("fastmcp", "_fastmcp")


def tag_set(where: str, tags: Iterable[str] | None) -> frozenset[str]:
    """The `tags=` option as a set of non-empty strings; TypeError or ValueError naming
    `where` for a mistake (a single string, which would be taken letter by letter)."""
    if tags is None:
        return frozenset()
    if isinstance(tags, str):
        raise TypeError(f"{where}: give tags as a collection, such as tags={{{tags!r}}}")
    found = frozenset(tags)
    for tag in found:
        if not isinstance(tag, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"{where}: a tag is a string, not {tag!r}")
        if not tag:
            raise ValueError(f"{where}: a tag is a non-empty string")
    return found


def version_of(where: str, version: str | None) -> str | None:
    """The `version=` option: a non-empty string, or None."""
    if version is None:
        return None
    if not isinstance(version, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{where}: version is a string such as '2', not {version!r}")
    if not version:
        raise ValueError(f"{where}: version is a non-empty string, or None")
    if version[0] in "<>=!":  # (what starts a range in `server.enable(version=...)`)
        raise ValueError(f"{where}: a version does not start with {version[0]!r}")
    return version


def with_labels(
    meta: Mapping[str, Any] | None, tags: frozenset[str], version: str | None
) -> dict[str, Any] | None:
    """`meta` (the user's own `_meta`) with the tags and version added where there are some;
    None when there is nothing at all, so an unlabelled item's wire shape is unchanged."""
    if not tags and version is None:
        return dict(meta) if meta is not None else None
    merged = dict(meta or {})
    if tags:
        merged[TAGS_META_KEY] = sorted(tags)  # sorted: a set's order differs per process
    if version is not None:
        merged[VERSION_META_KEY] = version
    return merged


class _Spec(Protocol):
    """A spec with a wire item (`ToolSpec`, `ResourceSpec`, `TemplateSpec`, `PromptSpec`)."""

    @property
    def wire(self) -> Any: ...


S = TypeVar("S", bound=_Spec)


def labelled_as_sent(spec: S) -> S:
    """`spec` with the tags and version its wire item's `_meta` carries, as another mcpkit
    server, or a FastMCP one, sent them (a proxied server's components keep their labels); as
    it is when the `_meta` holds none, or holds them in another shape."""
    meta: Mapping[str, object] | None = spec.wire.meta
    if not meta:
        return spec
    tags = meta.get(TAGS_META_KEY)
    version = meta.get(VERSION_META_KEY)
    if tags is None and version is None:
        # A FastMCP server's own: `_meta.fastmcp` (`_fastmcp` in its older releases).
        for key in _FASTMCP_META_KEYS:
            theirs = meta.get(key)
            if isinstance(theirs, dict):
                labels = cast("dict[str, object]", theirs)
                tags, version = labels.get("tags"), labels.get("version")
                break
    # Sent by another server, so only taken when well formed: a malformed label is dropped
    # rather than refusing a component the other server serves.
    found: dict[str, Any] = {}
    if isinstance(tags, list):
        sent = cast("list[object]", tags)
        names = [t for t in sent if isinstance(t, str) and t]
        if names and len(names) == len(sent):
            found["tags"] = frozenset(names)
    if isinstance(version, str) and version and version[0] not in "<>=!":
        found["version"] = version
    # (`replace` wants a dataclass type; every spec is one, which the Protocol cannot say)
    return dataclasses.replace(spec, **found) if found else spec  # type: ignore[type-var]
