"""`tags=` and `version=` on tools, resources, templates and prompts: kept on the spec and
shown to clients in `_meta` (docs/compose.md, "Tags and visibility"), in both eras."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.server.catalog.visibility.tags import TAGS_META_KEY, VERSION_META_KEY

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def labelled() -> Server:
    server = Server("labelled")

    @server.tool(tags=["search", "public"], version="2")
    def find(text: str) -> str:
        return text

    @server.tool(meta={"com.example/owner": "ops"})
    def plain() -> str:
        return "plain"

    @server.resource("notes://today", tags={"notes"}, version="1.0")
    def today() -> str:
        return "today"

    @server.resource("notes://day/{day}", tags=("notes", "by-day"))
    def day(day: str) -> str:
        return day

    @server.prompt(tags=["writing"], version="3", meta={"com.example/owner": "docs"})
    def review(text: str) -> str:
        return text

    return server


def test_specs_keep_the_tags_as_a_frozenset_and_the_version() -> None:
    server = labelled()
    find = server.tools.get("find")
    assert find is not None
    assert find.tags == frozenset({"search", "public"})
    assert find.version == "2"
    plain = server.tools.get("plain")
    assert plain is not None
    assert (plain.tags, plain.version) == (frozenset(), None)
    resource = server.resources.get("notes://today")
    assert resource is not None
    assert (resource.tags, resource.version) == (frozenset({"notes"}), "1.0")
    template = server.templates.get("notes://day/{day}")
    assert template is not None
    assert (template.tags, template.version) == (frozenset({"notes", "by-day"}), None)
    prompt = server.prompts.get("review")
    assert prompt is not None
    assert (prompt.tags, prompt.version) == (frozenset({"writing"}), "3")


@pytest.mark.parametrize("era", ERAS)
async def test_clients_see_tags_and_version_in_meta(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(labelled(), protocol=era) as client:
        tools = {t.name: t.meta for t in await client.list_tools()}
        assert tools["find"] == {TAGS_META_KEY: ["public", "search"], VERSION_META_KEY: "2"}
        assert tools["plain"] == {"com.example/owner": "ops"}  # nothing added to it
        (resource,) = await client.list_resources()
        assert resource.meta == {TAGS_META_KEY: ["notes"], VERSION_META_KEY: "1.0"}
        (template,) = await client.list_resource_templates()
        assert template.meta == {TAGS_META_KEY: ["by-day", "notes"]}
        (prompt,) = await client.list_prompts()
        assert prompt.meta == {
            "com.example/owner": "docs",
            TAGS_META_KEY: ["writing"],
            VERSION_META_KEY: "3",
        }


@pytest.mark.parametrize("era", ERAS)
async def test_mounted_components_keep_their_tags(era: str) -> None:
    parent = Server("parent")
    parent.mount(labelled(), namespace="kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        tools = {t.name: t.meta for t in await client.list_tools()}
        assert tools["kid_find"] == {TAGS_META_KEY: ["public", "search"], VERSION_META_KEY: "2"}
    found = parent.tools.get("kid_find")
    assert found is not None
    assert (found.tags, found.version) == (frozenset({"search", "public"}), "2")


def test_the_meta_keys_follow_the_spec_key_format() -> None:
    # basic/index "_meta": a prefix of dot-separated labels, then "/", then a name; a prefix
    # whose second label is "modelcontextprotocol" or "mcp" is reserved.
    for key in (TAGS_META_KEY, VERSION_META_KEY):
        prefix, _, name = key.partition("/")
        labels = prefix.split(".")
        assert labels[1] not in ("modelcontextprotocol", "mcp")
        assert all(label[0].isalpha() and label[-1].isalnum() for label in labels)
        assert name[0].isalnum() and name[-1].isalnum()


@pytest.mark.parametrize(
    ("register", "message"),
    [
        (lambda s: s.add_tool(lambda: 1, name="t", tags="public"), "tags={'public'}"),
        (lambda s: s.add_prompt(lambda: "p", name="p", tags="x"), "tags={'x'}"),
        (lambda s: s.add_resource(lambda: "r", "notes://r", tags="x"), "tags={'x'}"),
        (lambda s: s.add_tool(lambda: 1, name="t", tags=[1]), "a tag is a string"),
        (lambda s: s.add_tool(lambda: 1, name="t", tags=[""]), "non-empty"),
        (lambda s: s.add_resource(lambda d: d, "n://{d}", version=2), "version is a string"),
        (lambda s: s.add_prompt(lambda: "p", name="p", version=""), "non-empty"),
    ],
)
def test_bad_tags_and_versions_are_refused_where_they_are_given(
    register: Any, message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        register(Server("s"))


def test_a_misspelt_option_is_refused_with_the_right_name() -> None:
    server = Server("s")
    with pytest.raises(TypeError, match="did you mean 'tags'"):
        server.tool(tag=["x"])  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="did you mean 'version'"):
        server.add_prompt(lambda: "p", name="p", versoin="1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="did you mean 'tags'"):
        server.resource("notes://x", tagz=["x"])  # type: ignore[call-arg]


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_proxy_keeps_the_labels_its_upstream_sent(era: str) -> None:
    from mcpkit import ProxyServer

    parent = Server("parent")
    parent.mount(ProxyServer(labelled()), namespace="up")
    parent.disable(tags={"search", "notes", "writing"})
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        assert [t.name for t in await client.list_tools()] == ["up_plain"]
        assert await client.list_resources() == []
        assert await client.list_resource_templates() == []
        assert await client.list_prompts() == []
        tool = parent.tools.get("up_plain")
        assert tool is not None and tool.tags == frozenset()
        parent.enable(version="2")
        found = parent.tools.get("up_find")
        assert found is not None
        assert (found.tags, found.version) == (frozenset({"search", "public"}), "2")
        assert (await client.call_tool("up_find", {"text": "x"})).content[0].text == "x"  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["fastmcp", "_fastmcp"])
def test_a_proxied_fastmcp_servers_labels_are_read_from_its_own_meta(key: str) -> None:
    # FastMCP sends a component's tags and version in `_meta.fastmcp` (`_fastmcp` before):
    # a mounted proxy of it can then be enabled and disabled by them as an mcpkit one is.
    from mcpkit.server.catalog.tools import make_tool
    from mcpkit.server.catalog.visibility.tags import labelled_as_sent

    def find(text: str) -> str:
        return text

    sent = make_tool(find, meta={key: {"tags": ["search"], "version": "3"}})
    read = labelled_as_sent(sent)
    assert (read.tags, read.version) == (frozenset({"search"}), "3")
    assert labelled_as_sent(make_tool(find, meta={key: "not labels"})).tags == frozenset()
