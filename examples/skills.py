"""Skills (SEP-2640): a server that ships the instructions for using it, as Agent Skills.

Run it with `mcpkit run examples/skills.py`; a client lists the skills with `list_skills()`
and loads one with `load_skill(uri)` (docs/skills.md).
"""

from __future__ import annotations

from mcpkit import Server

server = Server("skills-example", version="1.0.0")

# A skill from SKILL.md text, with one supporting file given by its path in the skill.
server.add_skill(
    """---
name: release-notes
description: Write the release notes of a version from its merged changes
license: MIT
metadata:
  audience: maintainers
---

# Release notes

1. Call the `merged_changes` tool with the version.
2. Group the changes as `references/SECTIONS.md` says, newest first.
""",
    files={"references/SECTIONS.md": "Features, Fixes, Deprecations; one line each.\n"},
)


# A skill whose SKILL.md a function builds, under an organizational prefix: served at
# skill://team/triage/SKILL.md. The function runs once, when the skill is added.
@server.skill(prefix="team")
def triage() -> str:
    labels = ", ".join(["bug", "feature", "question"])
    return (
        "---\nname: triage\ndescription: Label a new issue and ask for what it lacks\n---\n\n"
        f"Pick one label of {labels}; ask for a reproduction when a bug has none.\n"
    )


@server.tool()
def merged_changes(version: str) -> list[str]:
    """The changes merged for `version`, one line each."""
    return [f"{version}: faster start-up", f"{version}: fix the retry loop"]
