"""`version=` of `server.enable()`/`disable()`: an exact version or a range of dotted numeric
versions, in both eras (docs/compose.md, "Tags and visibility")."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.server.catalog.visibility.versions import in_version_filter

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


@pytest.mark.parametrize(
    ("wanted", "version", "picked"),
    [
        ("2", "2", True),
        ("2", "2.0", False),  # an exact version is compared as written
        (">=2", "2.0", True),
        (">=2", "1.10", False),
        (">1.9", "1.10", True),  # part by part, as numbers
        ("<2", "1.99.3", True),
        (">=1.2,<2", "1.5", True),
        (">=1.2,<2", "2", False),
        ("!=3", "3.0.0", False),
        ("==3", "3.0", True),
        ("<2", None, False),  # no version: in no range
        ("<2", "beta", False),  # not dotted numbers: in no range
    ],
)
def test_ranges(wanted: str, version: str | None, picked: bool) -> None:
    assert in_version_filter(wanted, version) is picked


def versioned() -> Server:
    server = Server("versioned")
    for number in ("1", "1.5", "2", "10"):
        server.add_tool(lambda: "ok", name=f"v{number.replace('.', '_')}", version=number)
    server.add_tool(lambda: "ok", name="unversioned")
    return server


@pytest.mark.parametrize("era", ERAS)
async def test_retiring_the_versions_below_one(era: str) -> None:
    server = versioned()
    server.disable(version="<2")
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert [t.name for t in await client.list_tools()] == ["v2", "v10", "unversioned"]
        with pytest.raises(McpError):
            await client.call_tool("v1_5", {})
        server.enable(version=">=1.5,<2", only=True)
        assert [t.name for t in await client.list_tools()] == ["v1_5"]


@pytest.mark.parametrize(
    ("version", "error", "message"),
    [
        (">=two", ValueError, "is not a version range"),
        (">=2,", ValueError, "is not a version range"),
        ("", TypeError, "version is a string"),
    ],
)
def test_bad_ranges_are_refused(version: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        versioned().disable(version=version)


def test_a_component_version_cannot_look_like_a_range() -> None:
    with pytest.raises(ValueError, match="does not start with '>'"):
        Server("s").add_tool(lambda: 1, name="t", version=">2")
