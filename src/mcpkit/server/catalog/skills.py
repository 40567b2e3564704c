"""Skills (the `io.modelcontextprotocol/skills` extension, SEP-2640): a server's skills, built
once from a SKILL.md and its supporting files, and the directories their files make.

A skill is added from SKILL.md text, a SKILL.md file or a skill directory
(`server.add_skill`, `@server.skill`). Each of its files becomes an ordinary resource at
`skill://<prefix>/<name>/<path>`, read with resources/read; `skills/list` and `skills/get`
answer its entry (the frontmatter as JSON, every file with its SHA-256 digest and size), and
`resources/directory/read` lists the skill's directories (`handlers.skills` answers them).
The entry is computed when the skill is added: the bytes served are the bytes digested.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

import msgspec

from mcpkit.errors import SkillError
from mcpkit.protocol.frontmatter import parse_frontmatter
from mcpkit.protocol.skill_rules import (
    MAX_RESOURCES_PER_SKILL,
    MAX_SKILL_BYTES,
    SKILL_FILE,
    check_name,
    digest_of,
)
from mcpkit.server.catalog.resources import ResourceSpec, make_resource
from mcpkit.types import (
    BlobResourceContents,
    Resource,
    ServerCapabilities,
    ServerCapabilitiesResources,
    TextResourceContents,
)
from mcpkit.types.skills import (
    DIRECTORY_MIME_TYPE,
    SKILLS_EXTENSION,
    Skill,
    SkillResource,
)

__all__ = [
    "FileSource",
    "SkillFile",
    "SkillSource",
    "SkillSpec",
    "Skills",
    "with_skills",
    "make_skill",
]

#: What a skill is made from: SKILL.md text (a `str`), or a `Path` to a SKILL.md file or to
#: a skill directory holding one.
SkillSource = str | os.PathLike[str]
#: A supporting file given by hand: its text, its bytes, or a `Path` to read them from.
FileSource = str | bytes | os.PathLike[str]
_MARKDOWN: Final = "text/markdown"
# Left out when a directory is read, besides hidden names (a leading dot: .git, .env):
# bytecode caches.
_SKIPPED: Final = frozenset({"__pycache__"})


@dataclass(frozen=True, slots=True)
class SkillFile:
    """One file of a skill: where it is in the skill, its bytes and their type."""

    path: str  # relative to the skill's directory, '/'-separated
    data: bytes
    mime_type: str | None


@dataclass(slots=True)
class SkillSpec:
    """A skill as served: its SKILL.md URI, directory, name, frontmatter, files and entry."""

    uri: str
    root: str
    name: str
    frontmatter: dict[str, Any]
    files: tuple[SkillFile, ...]
    entry: Skill = field(init=False)
    #: Each file as a resource, in the order of `files`; the SKILL.md's named and described
    #: by its frontmatter (SEP-2640, "Resource Metadata").
    resources: tuple[ResourceSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        listed = [
            SkillResource(uri=self.file_uri(f), digest=digest_of(f.data), size=len(f.data))
            for f in self.files
        ]
        self.entry = Skill(uri=self.uri, frontmatter=self.frontmatter, resources=listed)
        self.resources = tuple(self._resource(f) for f in self.files)

    def file_uri(self, file: SkillFile) -> str:
        return f"{self.root}/{file.path}"

    def _resource(self, file: SkillFile) -> ResourceSpec:
        is_skill_md = file.path == SKILL_FILE
        return make_resource(
            _reader(self.file_uri(file), file),
            self.file_uri(file),
            name=self.name if is_skill_md else PurePosixPath(file.path).name,
            description=str(self.frontmatter["description"]) if is_skill_md else None,
            mime_type=file.mime_type,
            size=len(file.data),
        )


def _reader(uri: str, file: SkillFile) -> Any:
    """The function a file's resource reads: its bytes as text when they are UTF-8, else as a
    blob (so that the client hashes exactly the bytes the entry's digest covers)."""
    try:
        contents: TextResourceContents | BlobResourceContents = TextResourceContents(
            uri=uri, mime_type=file.mime_type, text=file.data.decode("utf-8")
        )
    except UnicodeDecodeError:
        contents = BlobResourceContents(
            uri=uri, mime_type=file.mime_type, blob=base64.b64encode(file.data).decode("ascii")
        )

    def read() -> list[TextResourceContents | BlobResourceContents]:
        return [contents]

    read.__doc__ = f"{file.path} of a skill"
    return read


def make_skill(
    source: SkillSource,
    *,
    prefix: str | None = None,
    files: Mapping[str, FileSource] | None = None,
    scheme: str = "skill",
) -> SkillSpec:
    """Build a skill from `source` (see `SkillSource`), with the supporting `files` given by
    their paths in the skill (`{"references/FORMS.md": Path(...)}`), served under
    `<scheme>://<prefix>/<name>/` (no prefix by default). SkillError for a SKILL.md without
    a valid name and description, a file outside the skill, or a skill over the limits every
    host accepts (512 files, 16 MiB)."""
    where = f"skill {source!r}" if not isinstance(source, str) else "skill"
    collected = _collect(source)
    for path, given in (files or {}).items():
        collected[_relative(path, where)] = _read(given)
    text = collected[SKILL_FILE].decode("utf-8", errors="strict")
    frontmatter = parse_frontmatter(text)
    name = check_name(frontmatter.get("name"), where)
    where = f"skill {name!r}"
    if not isinstance(frontmatter.get("description"), str) or not frontmatter["description"]:
        raise SkillError(f"{where}: SKILL.md frontmatter has no description")
    _check_limits(where, collected)
    segments = [s for s in (prefix or "").strip("/").split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise SkillError(f"{where}: prefix {prefix!r} has a '.' or '..' segment")
    root = f"{scheme}://{'/'.join([*segments, name])}"
    ordered = [SKILL_FILE, *sorted(p for p in collected if p != SKILL_FILE)]
    skill_files = tuple(SkillFile(p, collected[p], _mime_type(p)) for p in ordered)
    return SkillSpec(f"{root}/{SKILL_FILE}", root, name, frontmatter, skill_files)


def _collect(source: SkillSource) -> dict[str, bytes]:
    if isinstance(source, str):
        return {SKILL_FILE: source.encode("utf-8")}
    path = Path(source)
    if path.is_file():
        return {SKILL_FILE: path.read_bytes()}
    if not path.is_dir():
        raise SkillError(f"skill {str(path)!r}: no such file or directory")
    if not (path / SKILL_FILE).is_file():
        raise SkillError(f"skill directory {str(path)!r} has no {SKILL_FILE}")
    found: dict[str, bytes] = {}
    for file in sorted(_walk(path, path)):
        found[file.relative_to(path).as_posix()] = file.read_bytes()
    return found


def _walk(directory: Path, top: Path) -> Iterator[Path]:
    """The files a skill directory serves: not hidden ones (a leading dot), not bytecode
    caches, and no symbolic link that leaves the skill or leads to a directory (a link
    must not serve what is outside the skill, nor walk in circles)."""
    for entry in directory.iterdir():
        if entry.name.startswith(".") or entry.name in _SKIPPED:
            continue
        if entry.is_symlink():
            if entry.is_file() and entry.resolve().is_relative_to(top.resolve()):
                yield entry
        elif entry.is_dir():
            yield from _walk(entry, top)
        elif entry.is_file():
            yield entry


def _relative(path: str, where: str) -> str:
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments) or "\\" in path:
        raise SkillError(f"{where}: file path {path!r} is not a path inside the skill")
    return path


def _read(given: FileSource) -> bytes:
    if isinstance(given, str):
        return given.encode("utf-8")
    if isinstance(given, bytes):
        return given
    return Path(given).read_bytes()


def _mime_type(path: str) -> str | None:
    if path.endswith(".md"):
        return _MARKDOWN
    return mimetypes.guess_type(path, strict=False)[0]


def _check_limits(where: str, files: Mapping[str, bytes]) -> None:
    if len(files) > MAX_RESOURCES_PER_SKILL:
        raise SkillError(
            f"{where} has {len(files)} files; hosts need accept only "
            f"{MAX_RESOURCES_PER_SKILL} (SEP-2640, Limits)"
        )
    total = sum(len(data) for data in files.values())
    if total > MAX_SKILL_BYTES:
        raise SkillError(
            f"{where} is {total} bytes; hosts need accept only {MAX_SKILL_BYTES} (SEP-2640, Limits)"
        )


class Skills:
    """A server's skills by the URI of their SKILL.md, in the order they were added, and the
    directories their files make (each level of a skill's path is one)."""

    def __init__(self) -> None:
        self._by_uri: dict[str, SkillSpec] = {}
        self._directories: dict[str, dict[str, Resource]] | None = None

    def add(self, spec: SkillSpec) -> None:
        if spec.uri in self._by_uri:
            raise ValueError(f"a skill is already served at {spec.uri}")
        self._by_uri[spec.uri] = spec
        self._directories = None

    def remove(self, uri: str) -> SkillSpec:
        try:
            spec = self._by_uri.pop(uri)
        except KeyError:
            raise KeyError(f"no skill is served at {uri}") from None
        self._directories = None
        return spec

    def get(self, uri: str) -> SkillSpec | None:
        return self._by_uri.get(uri)

    def __iter__(self) -> Iterator[SkillSpec]:
        return iter(list(self._by_uri.values()))

    def __len__(self) -> int:
        return len(self._by_uri)

    def directory(self, uri: str) -> list[Resource] | None:
        """The direct children of directory `uri`, sorted by URI; None if it is no directory."""
        if self._directories is None:
            self._directories = self._index()
        children = self._directories.get(uri)
        return None if children is None else [children[k] for k in sorted(children)]

    def _index(self) -> dict[str, dict[str, Resource]]:
        index: dict[str, dict[str, Resource]] = {}
        for spec in self._by_uri.values():
            scheme, _, path = spec.root.partition("://")
            for file, wire in zip(spec.files, spec.resources, strict=True):
                segments = [*path.split("/"), *file.path.split("/")]
                for depth in range(1, len(segments)):
                    parent = f"{scheme}://{'/'.join(segments[:depth])}"
                    child = f"{scheme}://{'/'.join(segments[: depth + 1])}"
                    if depth + 1 == len(segments):
                        entry = wire.wire
                    else:
                        entry = Resource(
                            uri=child, name=segments[depth], mime_type=DIRECTORY_MIME_TYPE
                        )
                    index.setdefault(parent, {})[child] = entry
        return index


def with_skills(capabilities: ServerCapabilities, skills: Skills) -> ServerCapabilities:
    """`capabilities` declaring the skills extension where there are skills (SEP-2640,
    Capability Negotiation): its settings inline under its identifier, `directoryRead` since
    every directory of a served skill answers resources/directory/read, and `resources`,
    through which the files are read."""
    if not len(skills):
        return capabilities
    extensions = {**(capabilities.extensions or {}), SKILLS_EXTENSION: {"directoryRead": True}}
    resources = capabilities.resources or ServerCapabilitiesResources(list_changed=True)
    return msgspec.structs.replace(capabilities, extensions=extensions, resources=resources)
