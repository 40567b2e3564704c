"""The wire types of the skills extension (`io.modelcontextprotocol/skills`, SEP-2640).

Written by hand: the extension's shapes are not in the base schema that `scripts/gen_types.py`
generates the other types from. They follow its conventions (snake_case attributes, the wire
names as `name=`, `_meta` as `meta`, unset optional fields left out of the JSON).

The extension adds three methods, listed in `SKILLS_METHODS` for the protocol sessions of both
sides (`extension_methods`): `skills/list` and `skills/get`, which every declaring server
answers, and `resources/directory/read`, which a server declaring `directoryRead` answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

import msgspec

from mcpkit.types import Resource
from mcpkit.types.methods import Direction, MethodInfo

__all__ = [
    "DIRECTORY_MIME_TYPE",
    "DYNAMIC",
    "GetSkillRequestParams",
    "GetSkillResult",
    "ListSkillsRequestParams",
    "ListSkillsResult",
    "ReadResourceDirectoryRequestParams",
    "ReadResourceDirectoryResult",
    "SKILLS_EXTENSION",
    "SKILLS_METHODS",
    "Skill",
    "SkillResource",
]

#: The extension's identifier, the key of `capabilities.extensions` that declares it.
SKILLS_EXTENSION: Final = "io.modelcontextprotocol/skills"
#: `Skill.resources` of a skill whose files are generated, so that no digests can be given.
DYNAMIC: Final = "dynamic"
#: The mimeType of a directory resource (a skill's root, a subdirectory of it).
DIRECTORY_MIME_TYPE: Final = "inode/directory"


class SkillResource(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """One file of a skill: its URI, and the digest (`sha256:<64 hex>`) and size (bytes) of
    its raw content."""

    uri: str
    digest: str
    size: int


class Skill(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """The entry of one skill: the URI of its SKILL.md, that file's YAML frontmatter as a
    JSON object (name and description always in it), and every file of the skill with its
    digest, or "dynamic"."""

    uri: str
    frontmatter: dict[str, Any]
    resources: list[SkillResource] | Literal["dynamic"]


class ListSkillsRequestParams(
    msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    cursor: str | None = None


class ListSkillsResult(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """The answer to `skills/list`: one page of entries (an entry is never split)."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    skills: list[Skill]
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    # 2026-07-28 (CacheableResult): how long the listing stays fresh.
    ttl_ms: int | None = msgspec.field(default=None, name="ttlMs")
    cache_scope: str | None = msgspec.field(default=None, name="cacheScope")


class GetSkillRequestParams(
    msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class GetSkillResult(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """The answer to `skills/get`: the entry of the skill whose SKILL.md is `uri`."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    skill: Skill
    ttl_ms: int | None = msgspec.field(default=None, name="ttlMs")
    cache_scope: str | None = msgspec.field(default=None, name="cacheScope")


class ReadResourceDirectoryRequestParams(
    msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str
    cursor: str | None = None


class ReadResourceDirectoryResult(
    msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    """The answer to `resources/directory/read`: the directory's direct children, files as
    ordinary resources and subdirectories with mimeType `inode/directory`."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    resources: list[Resource]
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")


_C2S: Final[frozenset[Direction]] = frozenset({"client_to_server"})


def _request(method: str, params: type[msgspec.Struct], result: type[msgspec.Struct]) -> MethodInfo:
    return MethodInfo(method=method, kind="request", direction=_C2S, params=params, result=result)


#: The extension's methods, for `Session(extension_methods=...)` on either side.
SKILLS_METHODS: Final[Mapping[str, MethodInfo]] = MappingProxyType(
    {
        info.method: info
        for info in (
            _request("skills/list", ListSkillsRequestParams, ListSkillsResult),
            _request("skills/get", GetSkillRequestParams, GetSkillResult),
            _request(
                "resources/directory/read",
                ReadResourceDirectoryRequestParams,
                ReadResourceDirectoryResult,
            ),
        )
    }
)
