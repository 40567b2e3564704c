"""Skills (SEP-2640) on the client: listing fetches nothing, loading reads SKILL.md and checks
its size, digest and frontmatter against the entry, and supporting files are read lazily,
verified, and only when the entry lists them."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from mcpkit import Client, Server
from mcpkit.errors import LocalProtocolError, PeerError, SkillVerificationFailed
from mcpkit.server.catalog.resources import make_resource
from mcpkit.types.skills import Skill

SKILL_MD = """---
name: pdf-processing
description: Extract, fill, and assemble PDF documents
---

Fill forms as `references/FORMS.md` says.
"""
URI = "skill://pdf-processing/SKILL.md"
FORMS = "skill://pdf-processing/references/FORMS.md"


def skill_server() -> Server:
    server = Server("skills")
    server.add_skill(SKILL_MD, files={"references/FORMS.md": "# Forms\n"})
    return server


def serve_instead(server: Server, uri: str, text: str) -> None:
    """Have `uri` read as `text` from now on, whatever the skill's entry says."""

    def tampered() -> str:
        return text

    spec = make_resource(tampered, uri, mime_type="text/markdown")
    server.resources.add(uri, spec, replace=True)


class Reads:
    """The resources/read requests a client sends (its `on_message` tap)."""

    def __init__(self) -> None:
        self.uris: list[str] = []

    def __call__(self, direction: str, data: bytes) -> None:
        message = msgspec.json.decode(data)
        if direction == "sent" and message.get("method") == "resources/read":
            self.uris.append(message["params"]["uri"])


async def test_listing_reads_no_file_and_each_file_is_read_when_needed() -> None:
    reads = Reads()
    async with Client(skill_server(), on_message=reads) as client:
        (entry,) = await client.list_skills()
        assert reads.uris == []
        loaded = await client.load_skill(entry)
        assert reads.uris == [URI]
        assert loaded.name == "pdf-processing" and loaded.text == SKILL_MD
        assert loaded.root == "skill://pdf-processing"
        assert await loaded.read_text("references/FORMS.md") == "# Forms\n"
        assert reads.uris == [URI, FORMS]


async def test_a_skill_loads_from_its_uri_alone() -> None:
    async with Client(skill_server()) as client:
        loaded = await client.load_skill(URI)
        assert loaded.frontmatter["description"] == "Extract, fill, and assemble PDF documents"
        with pytest.raises(PeerError) as info:
            await client.load_skill("skill://unknown/SKILL.md")
        assert info.value.code == -32602


@pytest.mark.parametrize(
    ("served", "reason", "message"),
    [
        (SKILL_MD.replace("Fill", "Kill"), "digest", "hashes to sha256:"),
        (SKILL_MD + "more\n", "size", "is 132 bytes, not the 127 its skill entry says"),
    ],
)
async def test_a_skill_md_that_is_not_what_the_entry_says_is_refused(
    served: str, reason: str, message: str
) -> None:
    server = skill_server()
    reads = Reads()
    async with Client(server, on_message=reads) as client:
        (entry,) = await client.list_skills()
        serve_instead(server, URI, served)
        with pytest.raises(SkillVerificationFailed, match=message) as info:
            await client.load_skill(entry)
    assert (info.value.uri, info.value.reason) == (URI, reason)
    assert reads.uris == [URI]  # and nothing after the refusal


async def test_a_frontmatter_that_differs_from_the_entry_is_refused() -> None:
    # The file matches its digest, but the entry describes the skill otherwise: the user
    # approved what the entry says, so the skill must not load (Frontmatter Verification).
    async with Client(skill_server()) as client:
        (entry,) = await client.list_skills()
        other = {**entry.frontmatter, "description": "Exfiltrate credentials", "license": "MIT"}
        forged = msgspec.structs.replace(entry, frontmatter=other)
        with pytest.raises(SkillVerificationFailed, match=r"differs .* in description, license"):
            await client.load_skill(forged)


async def test_a_supporting_file_is_verified_and_an_unlisted_one_never_fetched() -> None:
    server = skill_server()
    reads = Reads()
    async with Client(server, on_message=reads) as client:
        loaded = await client.load_skill(URI)
        serve_instead(server, FORMS, "# Farms\n")  # same size, other bytes
        with pytest.raises(SkillVerificationFailed) as info:
            await loaded.read(FORMS)
        assert info.value.reason == "digest"
        with pytest.raises(SkillVerificationFailed, match="refresh the entry") as unlisted:
            await loaded.read("references/NEW.md")
        assert unlisted.value.reason == "unlisted"
    assert reads.uris == [URI, FORMS]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uri": "skill://pdf-processing/README.md"}, "does not end in /SKILL.md"),
        ({"frontmatter": {"name": "other", "description": "d"}}, "is not the last segment"),
        ({"frontmatter": {"name": "pdf-processing"}}, "has no description"),
        ({"resources": []}, "does not list the skill's own SKILL.md"),
    ],
)
async def test_an_invalid_entry_is_refused_before_anything_is_read(
    change: dict[str, object], message: str
) -> None:
    reads = Reads()
    async with Client(skill_server(), on_message=reads) as client:
        (entry,) = await client.list_skills()
        bad = msgspec.structs.replace(entry, **change)
        with pytest.raises(SkillVerificationFailed, match=message) as info:
            await client.load_skill(bad)
    assert info.value.reason == "entry" and reads.uris == []


async def test_a_dynamic_skill_is_loaded_with_its_frontmatter_checked() -> None:
    async with Client(skill_server()) as client:
        (entry,) = await client.list_skills()
        dynamic = Skill(uri=entry.uri, frontmatter=entry.frontmatter, resources="dynamic")
        loaded = await client.load_skill(dynamic)
        # No digests to check a file against: what the server serves is what is read.
        assert await loaded.read("references/FORMS.md") == b"# Forms\n"
        forged = {**entry.frontmatter, "description": "other"}
        with pytest.raises(SkillVerificationFailed, match="in description"):
            await client.load_skill(msgspec.structs.replace(dynamic, frontmatter=forged))


async def test_skills_calls_need_the_servers_declaration() -> None:
    async with Client(Server("plain")) as client:
        with pytest.raises(LocalProtocolError, match="did not declare the skills extension"):
            await client.list_skills()
        with pytest.raises(LocalProtocolError):
            await client.read_directory("skill://x")


def test_digests_are_of_the_raw_bytes() -> None:
    entry = skill_server().skills.get(URI)
    assert entry is not None
    assert isinstance(entry.entry.resources, list)
    skill_md = entry.entry.resources[0]
    assert skill_md.digest == "sha256:" + hashlib.sha256(SKILL_MD.encode()).hexdigest()
    assert skill_md.size == len(SKILL_MD.encode())
