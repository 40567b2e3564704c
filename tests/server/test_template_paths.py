"""Resource template values are screened for path traversal before the function sees them: a
`..` segment, an absolute path, a NUL, and (for a form that cannot carry `/`) an encoded
separator are refused with invalid params, each form keeping what it is meant to carry, unless
the template says `allow_paths=True`; read through `Client` in both eras (docs/server.md,
"Resources")."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.types import TextResourceContents

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def library() -> tuple[Server, list[str]]:
    """A server with one template per form; `reached` lists each value a function was given."""
    server = Server("library")
    reached: list[str] = []

    def echo(value: str) -> str:
        reached.append(value)
        return value

    @server.resource("notes://shelf/{name}")
    def note(name: str) -> str:
        return echo(name)

    @server.resource("files://{+path}")
    def file(path: str) -> str:
        return echo(path)

    @server.resource("tree://root{/parts*}")
    def tree(parts: str) -> str:
        return echo(parts)

    @server.resource("find://notes{?q}")
    def find(q: str) -> str:
        return echo(q)

    @server.resource("raw://{+path}", allow_paths=True)
    def raw(path: str) -> str:
        return echo(path)

    return server, reached


SERVED = [
    ("notes://shelf/groceries.txt", "groceries.txt"),
    ("notes://shelf/a%20b", "a b"),
    ("notes://shelf/v1..2", "v1..2"),  # dots inside a name are no segment
    ("files://docs/2026/plan.md", "docs/2026/plan.md"),
    ("tree://root/a/b/c", "a/b/c"),
    ("find://notes?q=and%2For", "and/or"),  # a query may hold a slash
    ("raw://../outside", "../outside"),  # allow_paths: as matched
    ("raw:///etc/hosts", "/etc/hosts"),
]
REFUSED = [
    ("notes://shelf/..", "'..' path segment"),
    ("notes://shelf/..%2F..%2Fetc%2Fpasswd", "path separator"),
    ("notes://shelf/a%5Cb", "path separator"),  # an encoded backslash
    ("notes://shelf/a%00b", "NUL"),
    ("files://docs/../../etc/passwd", "'..' path segment"),
    ("files://docs/%2E%2E/secret", "'..' path segment"),
    ("files:///etc/passwd", "absolute path"),
    ("files://%2Fetc%2Fpasswd", "absolute path"),
    ("files://C:%5Cwindows", "absolute path"),
    ("files://docs%5C..%5Csecret", "'..' path segment"),
    ("tree://root/a/../../b", "'..' path segment"),
    ("find://notes?q=..%2F..%2Fsecret", "'..' path segment"),
    ("raw://a%00b", "NUL"),  # allow_paths keeps NUL refused
]


@pytest.mark.parametrize("protocol", ERAS)
async def test_values_a_form_carries_are_read(protocol: str) -> None:
    server, reached = library()
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        for uri, value in SERVED:
            (contents,) = (await client.read_resource(uri)).contents
            assert isinstance(contents, TextResourceContents)
            assert contents.text == value, uri
    assert reached == [value for _, value in SERVED]


@pytest.mark.parametrize("protocol", ERAS)
async def test_traversing_values_are_refused_before_the_function(protocol: str) -> None:
    server, reached = library()
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        for uri, why in REFUSED:
            with pytest.raises(McpError) as caught:
                await client.read_resource(uri)
            assert caught.value.code == -32602, uri
            assert why in caught.value.message, (uri, caught.value.message)
    assert reached == []


def test_allow_paths_is_a_template_s_and_a_bool() -> None:
    server = Server("mistakes")
    with pytest.raises(TypeError, match="a fixed URI has none"):
        server.add_resource(lambda: "x", "notes://fixed", allow_paths=True)
    with pytest.raises(TypeError, match="True or False"):
        server.add_resource(lambda path: path, "files://{+path}", allow_paths="yes")  # type: ignore[arg-type]
