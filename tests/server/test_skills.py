"""Skills (SEP-2640) on the server: declared from text, a file or a directory, served as
skill:// resources with entries, skills/list, skills/get and resources/directory/read."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.errors import PeerError, SkillError
from mcpkit.types.skills import SKILLS_EXTENSION

PDF = """---
name: pdf-processing
description: Extract, fill, and assemble PDF documents
license: Apache-2.0
metadata:
  version: "2.1.0"
  reviewed: true
---

# PDF processing

Fill forms as `references/FORMS.md` says.
"""


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pdf_server(**options: Any) -> Server:
    server = Server("skills", **options)
    server.add_skill(PDF, files={"references/FORMS.md": "# Forms\n", "logo.png": b"\x89PNG\0"})
    return server


async def test_an_entry_carries_the_frontmatter_and_every_file_with_digest_and_size() -> None:
    async with Client(pdf_server()) as client:
        (skill,) = await client.list_skills()
    assert skill.uri == "skill://pdf-processing/SKILL.md"
    assert skill.frontmatter == {
        "name": "pdf-processing",
        "description": "Extract, fill, and assemble PDF documents",
        "license": "Apache-2.0",
        "metadata": {"version": "2.1.0", "reviewed": True},
    }
    assert isinstance(skill.resources, list)
    files = {f.uri: (f.digest, f.size) for f in skill.resources}
    assert files == {
        "skill://pdf-processing/SKILL.md": (sha(PDF.encode()), len(PDF.encode())),
        "skill://pdf-processing/logo.png": (sha(b"\x89PNG\0"), 5),
        "skill://pdf-processing/references/FORMS.md": (sha(b"# Forms\n"), 8),
    }


async def test_the_extension_and_resources_are_declared_and_files_are_resources() -> None:
    async with Client(pdf_server(features=["tools"])) as client:
        caps = client.server_capabilities
        assert caps.extensions == {SKILLS_EXTENSION: {"directoryRead": True}}
        assert caps.resources is not None  # skill files are read with resources/read
        listed = {r.uri: r for r in await client.list_resources()}
        skill_md = listed["skill://pdf-processing/SKILL.md"]
        assert (skill_md.name, skill_md.mime_type) == ("pdf-processing", "text/markdown")
        assert skill_md.description == "Extract, fill, and assemble PDF documents"
        png = await client.read_resource("skill://pdf-processing/logo.png")
        assert png.contents[0].blob == "iVBORwA="  # type: ignore[union-attr]  # not UTF-8: a blob


async def test_a_server_without_skills_knows_no_skills_method() -> None:
    async with Client(Server("plain")) as client:
        assert client.server_capabilities.extensions is None
        with pytest.raises(PeerError) as info:
            await client.request("skills/list", {})
        assert info.value.code == -32601


async def test_skills_get_answers_a_served_skill_and_32602_for_any_other() -> None:
    server = pdf_server()
    server.add_skill(
        "---\nname: refunds\ndescription: Refund per policy\n---\nBody\n", prefix="acme/billing"
    )
    async with Client(server) as client:
        skill = await client.get_skill("skill://acme/billing/refunds/SKILL.md")
        assert skill.frontmatter["name"] == "refunds"
        with pytest.raises(PeerError) as info:
            await client.get_skill("skill://acme/billing/chargebacks/SKILL.md")
        assert info.value.code == -32602
        assert "No skill is served at skill://acme/billing/chargebacks/SKILL.md" in str(info.value)


async def test_skills_list_pages_whole_entries() -> None:
    server = Server("many", page_size=2)
    for n in range(5):
        server.add_skill(f"---\nname: skill-{n}\ndescription: number {n}\n---\n")
    async with Client(server) as client:
        first = await client.list_skills_page()
        assert len(first.skills) == 2 and first.next_cursor
        names = [s.frontmatter["name"] for s in await client.list_skills()]
    assert names == [f"skill-{n}" for n in range(5)]


async def test_directory_read_lists_direct_children_and_refuses_a_file() -> None:
    server = Server("dirs")
    server.add_skill(PDF, files={"templates/invoice.md": "i", "templates/eu/vat.md": "v"})
    async with Client(server) as client:
        root = await client.read_directory("skill://pdf-processing")
        assert [(r.uri, r.mime_type) for r in root] == [
            ("skill://pdf-processing/SKILL.md", "text/markdown"),
            ("skill://pdf-processing/templates", "inode/directory"),
        ]
        templates = await client.read_directory("skill://pdf-processing/templates")
        assert [r.name for r in templates] == ["eu", "invoice.md"]
        for not_a_directory in ("skill://pdf-processing/SKILL.md", "skill://elsewhere"):
            with pytest.raises(PeerError) as info:
                await client.read_directory(not_a_directory)
            assert info.value.code == -32602 and "not a directory" in str(info.value)


def test_a_skill_directory_is_served_whole(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "SKILL.md").write_text("---\nname: tooling\ndescription: Tools\n---\n")
    (tmp_path / "scripts" / "run.py").write_text("print('hi')\n")
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / ".env").write_text("SECRET=1\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("not the skill's")
    (tmp_path / "leak.txt").symlink_to(outside)
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "alias.py").symlink_to(tmp_path / "scripts" / "run.py")
    server = Server("dir")
    spec = server.add_skill(tmp_path, prefix="team")
    assert spec.uri == "skill://team/tooling/SKILL.md"
    # Hidden files, caches, and links that leave the skill or lead to a directory stay out.
    assert [f.path for f in spec.files] == ["SKILL.md", "alias.py", "scripts/run.py"]
    assert "skill://team/tooling/scripts/run.py" in server.resources
    server.remove_skill(spec.uri)
    assert len(server.skills) == 0 and len(server.resources) == 0
    outside.unlink()


def test_a_skill_md_file_and_the_decorator(tmp_path: Path) -> None:
    path = tmp_path / "SKILL.md"
    path.write_text(PDF)
    server = Server("file")
    assert server.add_skill(path).name == "pdf-processing"

    @server.skill(prefix="gen", files={"a.txt": "a"})
    def generated() -> str:
        return "---\nname: generated\ndescription: Built by a function\n---\n"

    assert server.skills.get("skill://gen/generated/SKILL.md") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no frontmatter\n", "does not begin with a YAML frontmatter block"),
        ("---\ndescription: d\n---\n", "the skill name None breaks"),
        ("---\nname: Bad_Name\ndescription: d\n---\n", "'Bad_Name' breaks the Agent Skills"),
        ("---\nname: a--b\ndescription: d\n---\n", "naming rules"),
        ("---\nname: ok\n---\n", "has no description"),
        ("---\nname: ok\ndescription: &x d\n---\n", "line 3: YAML anchors are not supported"),
    ],
)
def test_a_malformed_skill_is_refused_when_added(text: str, message: str) -> None:
    with pytest.raises(SkillError, match=message):
        Server("bad").add_skill(text)


def test_files_outside_the_skill_and_skills_over_the_limits_are_refused() -> None:
    server = Server("bad")
    for path in ("../x.md", "/etc/passwd", "a/./b"):
        with pytest.raises(SkillError, match="not a path inside the skill"):
            server.add_skill(PDF, files={path: "x"})
    with pytest.raises(SkillError, match="513 files"):
        server.add_skill(PDF, files={f"f{n}.txt": "" for n in range(512)})
    with pytest.raises(SkillError, match="bytes; hosts need accept only 16777216"):
        server.add_skill(PDF, files={"big.bin": b"\0" * (16 * 1024 * 1024)})
    server.add_skill(PDF)
    with pytest.raises(ValueError, match=r"already served at skill://pdf-processing/SKILL\.md"):
        server.add_skill(PDF)
    server.add_resource(lambda: "x", "skill://taken/notes.md")
    with pytest.raises(ValueError, match=r"a resource is already registered at skill://taken/"):
        server.add_skill("---\nname: taken\ndescription: d\n---\n", files={"notes.md": "n"})
    assert server.skills.get("skill://taken/SKILL.md") is None
    assert "skill://taken/SKILL.md" not in server.resources
