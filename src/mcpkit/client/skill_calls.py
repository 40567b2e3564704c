"""The client's calls for skills (the `io.modelcontextprotocol/skills` extension, SEP-2640).

Listing a server's skills fetches no file: a skill's SKILL.md is read when it is loaded
(`load_skill`), and a supporting file when it is read (`LoadedSkill.read`), each checked
against the skill's entry (size, digest, and for SKILL.md its frontmatter) before it is
returned; a file the entry does not list is refused. A check that fails raises
`SkillVerificationFailed` and nothing of the content is returned ("Integrity and
Verification": unverified content must not be used).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from mcpkit.client.calls import FeatureCalls
from mcpkit.client.pages import MAX_PAGES, all_pages
from mcpkit.errors import LocalProtocolError, SkillVerificationFailed
from mcpkit.protocol.skill_rules import check_entry, listed_file, skill_root, verify_file
from mcpkit.protocol.skill_rules import verify_frontmatter as check_frontmatter
from mcpkit.types import BlobResourceContents, Resource, TextResourceContents
from mcpkit.types.skills import (
    SKILLS_EXTENSION,
    GetSkillResult,
    ListSkillsResult,
    ReadResourceDirectoryResult,
    Skill,
)

if TYPE_CHECKING:
    from mcpkit.client.request_path import RequestPath

__all__ = ["LoadedSkill", "SkillCalls"]

_MAX_PAGES: Final = MAX_PAGES


class SkillCalls:
    """The skills extension's calls, on the client's path (a skill's files are read with the
    feature calls' `read_resource`); `Client` holds one."""

    def __init__(self, requests: RequestPath[Any], features: FeatureCalls) -> None:
        self._requests = requests
        self.features = features

    def _skills_settings(self) -> dict[str, Any]:
        extensions = self._requests.era.server_capabilities.extensions
        settings = (extensions or {}).get(SKILLS_EXTENSION)
        if settings is None:
            # SEP-2640: clients call skills/* only after the server declared the extension.
            raise LocalProtocolError(
                f"the server did not declare the skills extension ({SKILLS_EXTENSION})"
            )
        return settings

    async def list_skills(self, *, max_pages: int = _MAX_PAGES) -> list[Skill]:
        """Every skill the server lists (each page of skills/list). Reads no skill file.
        An empty or partial listing does not mean a skill is not served: `get_skill` and
        `load_skill` take a URI the listing lacks."""
        return await all_pages(self.list_skills_page, "skills", max_pages)

    async def list_skills_page(self, cursor: str | None = None) -> ListSkillsResult:
        self._skills_settings()
        params = {"cursor": cursor} if cursor is not None else {}
        # (the result type named: a 2026-07-28 client decodes by it, not by a session table)
        result: ListSkillsResult = await self._requests.request(
            "skills/list", params, result_type=ListSkillsResult
        )
        return result

    async def get_skill(self, uri: str) -> Skill:
        """The current entry of the skill whose SKILL.md is at `uri` (skills/get); PeerError
        -32602 when the server serves no such skill."""
        self._skills_settings()
        result: GetSkillResult = await self._requests.request(
            "skills/get", {"uri": uri}, result_type=GetSkillResult
        )
        return result.skill

    async def read_directory(self, uri: str, *, max_pages: int = _MAX_PAGES) -> list[Resource]:
        """The direct children of directory resource `uri` (resources/directory/read):
        files, and subdirectories with mimeType `inode/directory`. LocalProtocolError when
        the server did not declare `directoryRead`."""
        if self._skills_settings().get("directoryRead") is not True:
            raise LocalProtocolError(
                "the server did not declare the skills extension's directoryRead"
            )

        def fetch(cursor: str | None) -> Awaitable[ReadResourceDirectoryResult]:
            params = {"uri": uri, **({"cursor": cursor} if cursor else {})}
            return self._requests.request(
                "resources/directory/read", params, result_type=ReadResourceDirectoryResult
            )

        return await all_pages(fetch, "resources", max_pages)

    async def load_skill(self, skill: Skill | str) -> LoadedSkill:
        """Load a skill: from its entry (from `list_skills`), or from its SKILL.md's URI (its
        entry is then fetched with skills/get). Checks the entry, reads the SKILL.md, and
        verifies its size, digest and frontmatter against the entry; reads nothing else.
        SkillVerificationFailed when any of it fails: the skill must not be used."""
        entry = skill if isinstance(skill, Skill) else await self.get_skill(skill)
        check_entry(entry)
        data = await _verified_read(self.features, entry, entry.uri)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SkillVerificationFailed(
                entry.uri, "frontmatter", f"{entry.uri} is not UTF-8 text"
            ) from None
        check_frontmatter(entry, text)
        return LoadedSkill(entry, text, self)


@dataclass(slots=True)
class LoadedSkill:
    """A skill loaded from a server: its entry (held while the skill is used) and its
    verified SKILL.md. `read` fetches a supporting file, verified against the entry."""

    entry: Skill
    text: str
    _calls: SkillCalls = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.entry.frontmatter["name"])

    @property
    def frontmatter(self) -> dict[str, Any]:
        return self.entry.frontmatter

    @property
    def root(self) -> str:
        """The skill's directory: relative references in SKILL.md resolve against it."""
        root = skill_root(self.entry.uri)
        assert root is not None  # check_entry made sure of it
        return root

    def resolve(self, path: str) -> str:
        """The URI of `path`, relative to the skill's directory (or a URI already)."""
        return path if "://" in path else f"{self.root}/{path.lstrip('/')}"

    async def read(self, path: str) -> bytes:
        """The bytes of the skill's file `path` (relative, as SKILL.md refers to it, or its
        URI), verified against the held entry; SkillVerificationFailed for a file the entry
        does not list (not fetched) or content that is not what it says."""
        uri = self.resolve(path)
        return await _verified_read(self._calls.features, self.entry, uri)

    async def read_text(self, path: str) -> str:
        return (await self.read(path)).decode("utf-8")


async def _verified_read(client: FeatureCalls, entry: Skill, uri: str) -> bytes:
    listed = listed_file(entry, uri)  # before the read: an unlisted file is never fetched
    result = await client.read_resource(uri)
    data = _contents_bytes(uri, result.contents)
    if listed is not None:
        verify_file(listed, data)
    return data


def _contents_bytes(uri: str, contents: list[TextResourceContents | BlobResourceContents]) -> bytes:
    """The raw bytes of a read: its text as UTF-8, or its blob decoded."""
    chosen = next((c for c in contents if c.uri == uri), contents[0] if contents else None)
    if chosen is None:
        raise SkillVerificationFailed(uri, "size", f"reading {uri} returned no contents")
    if isinstance(chosen, TextResourceContents):
        return chosen.text.encode("utf-8")
    try:
        return base64.b64decode(chosen.blob, validate=True)
    except binascii.Error:
        raise SkillVerificationFailed(uri, "digest", f"{uri}'s blob is not base64") from None
