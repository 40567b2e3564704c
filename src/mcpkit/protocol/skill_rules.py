"""The rules of the skills extension (SEP-2640) that both sides apply, as plain functions:
skill names and URIs, digests, and the checks a host makes on what it reads.

A skill is a directory whose SKILL.md is at `<scheme>://<skill-path>/SKILL.md`, the last
segment of `<skill-path>` being the skill's name ("Resource Mapping"). Its entry lists every
file with a SHA-256 digest and a size ("Resources"); a host verifies each file it reads
against them, compares a SKILL.md's frontmatter with the entry's, and refuses a file the entry
does not list ("Integrity and Verification"). Every failure is a `SkillVerificationFailed`
whose message says what differed.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn

from mcpkit.errors import SkillError, SkillVerificationFailed
from mcpkit.protocol.frontmatter import parse_frontmatter, same_json
from mcpkit.types.skills import DYNAMIC, Skill, SkillResource

__all__ = [
    "MAX_RESOURCES_PER_SKILL",
    "MAX_SKILL_BYTES",
    "SKILL_FILE",
    "check_entry",
    "check_name",
    "digest_of",
    "listed_file",
    "skill_root",
    "verify_file",
    "verify_frontmatter",
]

#: The file that makes a directory a skill; its URI is the skill's URI ("Resource Mapping").
SKILL_FILE: Final = "SKILL.md"
#: The limits every host accepts ("Limits"): files per skill, and their total bytes.
MAX_RESOURCES_PER_SKILL: Final = 512
MAX_SKILL_BYTES: Final = 16 * 1024 * 1024
# Agent Skills naming rules: 1-64 of a-z, 0-9 and '-', no '-' first, last or doubled.
_NAME: Final = re.compile(r"(?!.*--)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?\Z")
# Lowercase hex only, as `digest_of` writes it: digests are compared as strings, so an
# uppercase one would never match even for the right bytes, and is refused up front.
_DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}\Z")


def digest_of(data: bytes) -> str:
    """The digest of a file's raw bytes, as entries carry it: `sha256:<64 lowercase hex>`."""
    import hashlib  # (here, not at the top: most servers never load hashlib)

    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_name(name: object, where: str) -> str:
    """`name` if it is a valid skill name; SkillError saying which rule it breaks.

    The name becomes a path segment and, on hosts, a directory name: the narrow alphabet
    keeps out separators, dots and case clashes between file systems. `where` says which
    skill or file the name came from, for the message.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise SkillError(
            f"{where}: the skill name {name!r} breaks the Agent Skills naming rules (1 to 64 "
            "lowercase letters, digits and hyphens, no hyphen first, last or doubled)"
        )
    return name


def skill_root(uri: str) -> str | None:
    """The skill directory of a SKILL.md URI (`skill://a/b/SKILL.md` -> `skill://a/b`);
    None when `uri` names no SKILL.md under at least one path segment."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme:
        return None
    # Empty segments (`skill://a//SKILL.md`) are refused: they would make two URIs for one
    # directory, and the "file inside the skill" test below is by prefix.
    segments = rest.split("/")
    if len(segments) < 2 or segments[-1] != SKILL_FILE or not all(segments[:-1]):
        return None
    return uri[: -len(SKILL_FILE) - 1]


def check_entry(skill: Skill) -> None:
    """Refuse an entry a host must not load (reason "entry"): a `uri` that names no SKILL.md,
    a last path segment other than `frontmatter.name`, a frontmatter without name and
    description, or a `resources` list that leaves out the SKILL.md, lists a file twice, has a
    file outside the skill's directory or a malformed digest or size."""
    root = skill_root(skill.uri)
    if root is None:
        _entry(skill.uri, f"the entry's uri {skill.uri!r} does not end in /{SKILL_FILE}")
    # The name in the URI and in the frontmatter must agree: a host that lists skills by one
    # and loads them by the other would otherwise load a different skill than it showed.
    name = skill.frontmatter.get("name")
    if name != root.rsplit("/", 1)[-1]:
        _entry(skill.uri, f"frontmatter.name {name!r} is not the last segment of {skill.uri!r}")
    description = skill.frontmatter.get("description")
    if not isinstance(description, str) or not description:
        _entry(skill.uri, "the entry's frontmatter has no description")
    # A dynamic skill lists no files (its content is made on request): nothing to check.
    if skill.resources == DYNAMIC:
        return
    seen: set[str] = set()
    for file in skill.resources:
        if file.uri in seen:
            _entry(skill.uri, f"resources lists {file.uri} twice")
        seen.add(file.uri)
        # Prefix with the slash: `skill://a/b` must not claim files of `skill://a/bc`.
        if file.uri != skill.uri and not file.uri.startswith(root + "/"):
            _entry(skill.uri, f"resources lists {file.uri}, outside the skill's directory")
        if not _DIGEST.match(file.digest) or file.size < 0:
            _entry(skill.uri, f"resources gives {file.uri} a malformed digest or size")
    # The SKILL.md itself must be listed: it is the file a host reads first, and without a
    # digest it could not be verified like the others.
    if skill.uri not in seen:
        _entry(skill.uri, f"resources does not list the skill's own {SKILL_FILE}")


def listed_file(skill: Skill, uri: str) -> SkillResource | None:
    """The entry's record of file `uri`; SkillVerificationFailed ("unlisted") when the entry
    lists files and `uri` is not one of them; None for a dynamic skill (nothing to check)."""
    if skill.resources == DYNAMIC:
        return None
    # An unlisted file is refused, not read unchecked: with no digest to hold it to, a server
    # (or anyone between) could add instructions the host never agreed to load.
    for file in skill.resources:
        if file.uri == uri:
            return file
    raise SkillVerificationFailed(
        uri,
        "unlisted",
        f"{uri} is not a file of the skill {skill.uri} as its entry lists them; refresh the "
        "entry (skills/get) if the skill changed",
    )


def verify_file(listed: SkillResource, data: bytes) -> None:
    """Check a file's bytes against its entry: its size first, then its digest.

    Size first because it costs nothing and its message is clearer (a truncated download
    shows as "N bytes, not M"); the digest catches any change of the same size.
    """
    if len(data) != listed.size:
        raise SkillVerificationFailed(
            listed.uri,
            "size",
            f"{listed.uri} is {len(data)} bytes, not the {listed.size} its skill entry says; "
            "its content must not be used",
        )
    digest = digest_of(data)
    if digest != listed.digest:
        raise SkillVerificationFailed(
            listed.uri,
            "digest",
            f"{listed.uri} hashes to {digest}, not the {listed.digest} its skill entry says; "
            "its content must not be used",
        )


def verify_frontmatter(skill: Skill, text: str) -> None:
    """Check that the fetched SKILL.md `text` has the frontmatter of the entry, field by
    field (SkillVerificationFailed "frontmatter" naming the fields that differ)."""
    # Compared field by field as JSON values (same_json), not as text: the same frontmatter
    # may be written with other quoting or key order, and only a change of meaning counts.
    # A field missing on either side counts as a difference.
    try:
        fetched = parse_frontmatter(text)
    except SkillError as exc:
        raise SkillVerificationFailed(skill.uri, "frontmatter", f"{skill.uri}: {exc}") from None
    differ = sorted(
        key
        for key in fetched.keys() | skill.frontmatter.keys()
        if key not in fetched
        or key not in skill.frontmatter
        or not same_json(fetched[key], skill.frontmatter[key])
    )
    if differ:
        raise SkillVerificationFailed(
            skill.uri,
            "frontmatter",
            f"{skill.uri}: the frontmatter of the file differs from its skill entry's in "
            f"{', '.join(differ)}; the skill must not be loaded",
        )


def _entry(uri: str, why: str) -> NoReturn:
    """Refuse the skill entry at `uri` (reason "entry"): the whole skill, not one file."""
    raise SkillVerificationFailed(uri, "entry", f"invalid skill entry: {why}")
