"""Skills (the `io.modelcontextprotocol/skills` extension, SEP-2640): a server's skills, built
once from a SKILL.md and its supporting files, and the directories their files make.

A skill is added from SKILL.md text, a SKILL.md file or a skill directory
(`server.add_skill`, `@server.skill`). Each of its files becomes an ordinary resource at
`skill://<prefix>/<name>/<path>`, read with resources/read; `skills/list` and `skills/get`
answer its entry (the frontmatter as JSON, every file with its SHA-256 digest and size), and
`resources/directory/read` lists the skill's directories (`handlers.skills` answers them).
The entry is computed when the skill is added: the bytes served are the bytes digested.

Mistakes are refused with SkillError when the skill is added, naming it: a SKILL.md without
a valid name or description, a file path outside the skill, a prefix with dot segments, or
a skill past SEP-2640's limits (`protocol.skill_rules`). A skill directory serves only what
is inside it: hidden files and symbolic links that lead out of it are left out.
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
    mime_type: str | None  # None when the name says nothing (then left out on the wire)


@dataclass(slots=True)
class SkillSpec:
    """A skill as served: its SKILL.md URI, directory, name, frontmatter, files and entry."""

    uri: str
    #: The skill's directory URI, `<scheme>://<prefix>/<name>`, without a trailing '/'.
    root: str
    name: str
    frontmatter: dict[str, Any]
    #: SKILL.md first, then the others sorted by path: the order every listing shows.
    files: tuple[SkillFile, ...]
    #: What skills/list and skills/get answer; made once, from the bytes that are served.
    entry: Skill = field(init=False)
    #: Each file as a resource, in the order of `files`; the SKILL.md's named and described
    #: by its frontmatter (SEP-2640, "Resource Metadata").
    resources: tuple[ResourceSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Each file's digest and size are taken from the very bytes its resource serves,
        # so a client that checks a file against the entry always finds them equal.
        listed = [
            SkillResource(uri=self.file_uri(f), digest=digest_of(f.data), size=len(f.data))
            for f in self.files
        ]
        self.entry = Skill(uri=self.uri, frontmatter=self.frontmatter, resources=listed)
        self.resources = tuple(self._resource(f) for f in self.files)

    def file_uri(self, file: SkillFile) -> str:
        """The URI `file` is read at: its path under the skill's directory."""
        return f"{self.root}/{file.path}"

    def _resource(self, file: SkillFile) -> ResourceSpec:
        """`file` as an ordinary resource, so any client reads it with resources/read, the
        skills extension or not."""
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
    blob (so that the client hashes exactly the bytes the entry's digest covers). UTF-8
    text is re-encoded to the same bytes, so either form keeps the digest true."""
    try:
        contents: TextResourceContents | BlobResourceContents = TextResourceContents(
            uri=uri, mime_type=file.mime_type, text=file.data.decode("utf-8")
        )
    except UnicodeDecodeError:
        contents = BlobResourceContents(
            uri=uri, mime_type=file.mime_type, blob=base64.b64encode(file.data).decode("ascii")
        )

    # The contents are made once: every read answers the same object.
    def read() -> list[TextResourceContents | BlobResourceContents]:
        return [contents]

    # The resource's description in a listing (`make_resource` takes a docstring's summary).
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
    host accepts (512 files, 16 MiB).

    Every file is read here, once: the entry's digests are of these bytes, and a file that
    changes on disk later is not served changed under an old digest.
    """
    # SKILL.md text names no place; the skill's own name replaces this once it is read.
    where = f"skill {source!r}" if not isinstance(source, str) else "skill"
    collected = _collect(source)
    # A file given by hand wins over one of the same path in the directory.
    for path, given in (files or {}).items():
        collected[_relative(path, where)] = _read(given)
    # SKILL.md is UTF-8 text (Agent Skills); other bytes fail here, when the skill is added.
    text = collected[SKILL_FILE].decode("utf-8", errors="strict")
    frontmatter = parse_frontmatter(text)
    name = check_name(frontmatter.get("name"), where)
    where = f"skill {name!r}"
    if not isinstance(frontmatter.get("description"), str) or not frontmatter["description"]:
        raise SkillError(f"{where}: SKILL.md frontmatter has no description")
    _check_limits(where, collected)
    # A dot segment would make a URI that a client's normalisation rewrites into another
    # skill's place, or out of the scheme's root.
    segments = [s for s in (prefix or "").strip("/").split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise SkillError(f"{where}: prefix {prefix!r} has a '.' or '..' segment")
    root = f"{scheme}://{'/'.join([*segments, name])}"
    ordered = [SKILL_FILE, *sorted(p for p in collected if p != SKILL_FILE)]
    skill_files = tuple(SkillFile(p, collected[p], _mime_type(p)) for p in ordered)
    return SkillSpec(f"{root}/{SKILL_FILE}", root, name, frontmatter, skill_files)


def _collect(source: SkillSource) -> dict[str, bytes]:
    """The files of `source` by their '/'-separated path in the skill: SKILL.md alone for
    text or a file, every file `_walk` finds for a directory. SkillError for a path that is
    neither, or a directory without a SKILL.md."""
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
            # Resolved in full, so a chain of links is judged by where it finally leads.
            if entry.is_file() and entry.resolve().is_relative_to(top.resolve()):
                yield entry
        elif entry.is_dir():
            yield from _walk(entry, top)
        elif entry.is_file():
            yield entry


def _relative(path: str, where: str) -> str:
    """`path` if it names a file inside the skill; SkillError otherwise. Empty and dot
    segments would reach outside the skill's directory URI, and a backslash is a separator
    to a Windows client that saves the file."""
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments) or "\\" in path:
        raise SkillError(f"{where}: file path {path!r} is not a path inside the skill")
    return path


def _read(given: FileSource) -> bytes:
    """The bytes of a file given by hand: text is served as UTF-8."""
    if isinstance(given, str):
        return given.encode("utf-8")
    if isinstance(given, bytes):
        return given
    return Path(given).read_bytes()


def _mime_type(path: str) -> str | None:
    """A file's MIME type by its name. Markdown is named here: `mimetypes` reads the
    system's tables, and not every system knows `.md`."""
    if path.endswith(".md"):
        return _MARKDOWN
    return mimetypes.guess_type(path, strict=False)[0]


def _check_limits(where: str, files: Mapping[str, bytes]) -> None:
    """SkillError for a skill past what SEP-2640 says every host accepts: a skill served
    beyond it would load in some hosts and not in others."""
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
        # Directory URI -> its children by URI; built at the first directory read after a
        # change, since skills are added in bursts as a server starts.
        self._directories: dict[str, dict[str, Resource]] | None = None

    def add(self, spec: SkillSpec) -> None:
        """Serve `spec`; ValueError if a skill is already served at its URI."""
        if spec.uri in self._by_uri:
            raise ValueError(f"a skill is already served at {spec.uri}")
        self._by_uri[spec.uri] = spec
        self._directories = None

    def remove(self, uri: str) -> SkillSpec:
        """Stop serving the skill at `uri` and return it; KeyError naming `uri` if none is."""
        try:
            spec = self._by_uri.pop(uri)
        except KeyError:
            raise KeyError(f"no skill is served at {uri}") from None
        self._directories = None
        return spec

    def get(self, uri: str) -> SkillSpec | None:
        """The skill whose SKILL.md is at `uri`, if one is served."""
        return self._by_uri.get(uri)

    def __iter__(self) -> Iterator[SkillSpec]:
        # Over a copy: a skill may be added or removed while a listing is being written.
        return iter(list(self._by_uri.values()))

    def __len__(self) -> int:
        # (`with_skills` asks it: a server with no skill declares no extension)
        return len(self._by_uri)

    def directory(self, uri: str) -> list[Resource] | None:
        """The direct children of directory `uri`, sorted by URI; None if it is no directory."""
        if self._directories is None:
            self._directories = self._index()
        children = self._directories.get(uri)
        return None if children is None else [children[k] for k in sorted(children)]

    def _index(self) -> dict[str, dict[str, Resource]]:
        """Every directory of every skill's path, from the scheme's root down, with its
        children: a file's own resource where it is the last segment, else a directory
        entry (`DIRECTORY_MIME_TYPE`). Skills under one prefix share its directories."""
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
    # A server with no resources of its own still serves the skills' files as resources;
    # listChanged since a skill added or removed while serving changes that list.
    resources = capabilities.resources or ServerCapabilitiesResources(list_changed=True)
    return msgspec.structs.replace(capabilities, extensions=extensions, resources=resources)
