"""`Server.mount`: names and URIs rewritten both ways, served live, collisions, cycles and
nesting refused or stacked as docs/server.md ("Composing servers") says."""

from __future__ import annotations

import logging

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.protocol import codes
from mcpkit.proxy import ProxyServer
from mcpkit.server.mount import Mount


def make_child(name: str = "notes") -> Server:
    child = Server(name)

    @child.tool
    def add(a: int, b: int) -> int:
        return a + b

    @child.resource("notes://today")
    def today() -> str:
        return "buy milk"

    @child.resource("file:///etc/{name}")
    def etc(name: str) -> str:
        return f"file {name}"

    @child.prompt
    def greet(who: str) -> str:
        return f"hello {who}"

    return child


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("notes://today", "notes://x/today"),
        ("file:///etc/hosts", "file://x//etc/hosts"),
        ("urn:isbn:123", "urn:x/isbn:123"),
        ("ui://widget/{id}", "ui://x/widget/{id}"),
        ("https://example.com/a", "https://example.com/a"),  # a client may fetch it itself
    ],
)
def test_uris_keep_their_scheme_and_come_back_unchanged(uri: str, shown: str) -> None:
    mount = Mount(Server("p"), Server("c"), "x")
    assert mount.uri(uri) == shown
    assert mount.original_uri(shown) == uri


def test_uris_the_mount_does_not_show_have_no_original() -> None:
    mount = Mount(Server("p"), Server("c"), "x")
    assert mount.original_uri("notes://y/today") is None
    assert mount.original_uri("no scheme here") is None
    assert mount.uri("{+whole}") is None  # a template with no scheme to keep
    assert Mount(Server("p"), Server("c"), None).uri("{+whole}") == "{+whole}"


async def test_everything_is_served_under_the_namespace() -> None:
    parent = Server("parent")
    parent.mount(make_child(), namespace="kid")
    async with Client(parent) as client:
        assert [t.name for t in await client.list_tools()] == ["kid_add"]
        assert [p.name for p in await client.list_prompts()] == ["kid_greet"]
        assert [r.uri for r in await client.list_resources()] == ["notes://kid/today"]
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates] == ["file://kid//etc/{name}"]
        result = await client.call_tool("kid_add", {"a": 2, "b": 3})
        assert result.structured_content == {"result": 5}
        read = await client.read_resource("notes://kid/today")
        assert read.contents[0].uri == "notes://kid/today"
        assert read.contents[0].text == "buy milk"  # type: ignore[union-attr]
        matched = await client.read_resource("file://kid//etc/hosts")
        assert matched.contents[0].text == "file hosts"  # type: ignore[union-attr]
        assert matched.contents[0].uri == "file://kid//etc/hosts"
        prompt = await client.get_prompt("kid_greet", {"who": "ada"})
        assert prompt.messages[0].content.text == "hello ada"  # type: ignore[union-attr]


async def test_unknown_names_and_uris_under_the_namespace_are_refused_as_usual() -> None:
    parent = Server("parent")
    parent.mount(make_child(), namespace="kid")
    # (resource not found is -32002 in a 2025-11-25 session; -32602 from 2026-07-28 on)
    async with Client(parent, protocol="2025-11-25") as client:
        with pytest.raises(McpError) as info:
            await client.call_tool("kid_nope", {})
        assert info.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as info:
            await client.read_resource("notes://kid/nope")
        assert info.value.code == codes.RESOURCE_NOT_FOUND
        with pytest.raises(McpError) as info:
            await client.read_resource("notes://today")  # the child's URI is not the parent's
        assert info.value.code == codes.RESOURCE_NOT_FOUND
        with pytest.raises(McpError):
            await client.get_prompt("greet", {"who": "x"})


async def test_a_separator_may_be_chosen() -> None:
    parent = Server("parent")
    parent.mount(make_child(), namespace="kid", separator=".")
    async with Client(parent) as client:
        assert [t.name for t in await client.list_tools()] == ["kid.add"]
        assert (await client.call_tool("kid.add", {"a": 1, "b": 1})).is_error is not True


async def test_what_is_added_to_or_removed_from_the_child_later_shows_at_once() -> None:
    parent, child = Server("parent"), make_child()
    parent.mount(child, namespace="kid")
    child.add_tool(lambda: "late", name="late")
    child.add_resource(lambda: "n", "notes://new")
    async with Client(parent) as client:
        assert [t.name for t in await client.list_tools()] == ["kid_add", "kid_late"]
        assert (await client.call_tool("kid_late", {})).content[0].text == "late"  # type: ignore[union-attr]
        assert "notes://kid/new" in [r.uri for r in await client.list_resources()]
        child.remove_tool("add")
        assert [t.name for t in await client.list_tools()] == ["kid_late"]
        with pytest.raises(McpError):
            await client.call_tool("kid_add", {"a": 1, "b": 1})


async def test_without_a_namespace_names_stay_and_the_parent_keeps_its_own() -> None:
    parent, child = Server("parent"), make_child()

    @parent.tool
    def own() -> str:
        return "own"

    parent.mount(child)
    async with Client(parent) as client:
        assert [t.name for t in await client.list_tools()] == ["own", "add"]
        assert (await client.read_resource("notes://today")).contents[0].uri == "notes://today"


def test_a_collision_at_mount_time_is_refused() -> None:
    parent = Server("parent")

    @parent.tool
    def add(a: int) -> int:
        return a

    with pytest.raises(ValueError, match="its tool 'add' would be 'add', which 'parent'"):
        parent.mount(make_child())
    other = Server("other")
    other.mount(make_child("one"), namespace="x")
    with pytest.raises(ValueError, match="'x_add'"):
        other.mount(make_child("two"), namespace="x")


async def test_a_collision_that_appears_later_is_won_by_the_parent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent, child = Server("parent"), make_child()
    parent.mount(child)

    @parent.tool
    def add(a: int, b: int) -> str:
        return "the parent's"

    with caplog.at_level(logging.WARNING, "mcpkit.server"):
        async with Client(parent) as client:
            assert [t.name for t in await client.list_tools()] == ["add"]
            result = await client.call_tool("add", {"a": 1, "b": 2})
            assert result.content[0].text == "the parent's"  # type: ignore[union-attr]
    assert "mounted tool 'add' is hidden" in caplog.text


def test_mounted_items_are_removed_where_they_live() -> None:
    parent = Server("parent")
    parent.mount(make_child(), namespace="kid")
    with pytest.raises(KeyError, match="comes from a mounted server: remove it there"):
        parent.remove_tool("kid_add")
    with pytest.raises(KeyError, match="comes from a mounted server"):
        parent.remove_resource("file://kid//etc/{name}")


@pytest.mark.parametrize("namespace", ["", "a b", "x/y", "é", "x" * 65])
def test_a_namespace_must_fit_tool_names_and_uris(namespace: str) -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        Server("p").mount(make_child(), namespace=namespace)


def test_a_tool_name_made_too_long_is_refused_at_mount_time() -> None:
    child = Server("c")
    child.add_tool(lambda: 1, name="t" * 128)
    with pytest.raises(ValueError, match="has no valid name there"):
        Server("p").mount(child, namespace="x")


def test_a_template_without_a_scheme_cannot_be_namespaced() -> None:
    child = Server("c")
    child.add_resource(lambda whole: whole, "{+whole}")
    with pytest.raises(ValueError, match=r"resource template '\{\+whole\}' has no valid name"):
        Server("p").mount(child, namespace="x")
    Server("p").mount(child)  # without a namespace it is served as it is


def test_mounting_itself_or_a_cycle_is_refused() -> None:
    a, b, c = Server("a"), Server("b"), Server("c")
    with pytest.raises(ValueError, match="'a' cannot mount itself"):
        a.mount(a, namespace="x")
    a.mount(b, namespace="b")
    b.mount(c, namespace="c")
    with pytest.raises(ValueError, match="'c' cannot mount 'a', which contains it"):
        c.mount(a, namespace="a")


def test_a_server_is_mounted_in_one_parent() -> None:
    child = make_child()
    Server("one").mount(child, namespace="x")
    with pytest.raises(ValueError, match="already mounted in 'one'"):
        Server("two").mount(child, namespace="x")


async def test_nested_mounts_stack_their_prefixes() -> None:
    a, b, c = Server("a"), Server("b"), make_child("c")
    b.mount(c, namespace="c")
    a.mount(b, namespace="b")
    async with Client(a) as client:
        assert [t.name for t in await client.list_tools()] == ["b_c_add"]
        assert (await client.call_tool("b_c_add", {"a": 1, "b": 2})).structured_content == {
            "result": 3
        }
        assert [r.uri for r in await client.list_resources()] == ["notes://b/c/today"]
        read = await client.read_resource("file://b/c//etc/x")
        assert read.contents[0].text == "file x"  # type: ignore[union-attr]
        assert read.contents[0].uri == "file://b/c//etc/x"
        prompt = await client.get_prompt("b_c_greet", {"who": "a"})
        assert prompt.messages[0].content.text == "hello a"  # type: ignore[union-attr]


async def test_the_parent_declares_what_the_mounted_server_has() -> None:
    parent = Server("parent")
    parent.mount(make_child(), namespace="kid")
    async with Client(parent) as client:
        caps = client.server_capabilities
        assert caps.tools is not None and caps.resources is not None and caps.prompts is not None


def test_a_hidden_entry_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    parent, child = Server("parent"), make_child()
    parent.mount(child)
    parent.add_tool(lambda: 0, name="add")
    with caplog.at_level(logging.WARNING, "mcpkit.server"):
        for i in range(3):
            child.add_tool(lambda: 0, name=f"more{i}")
            assert len(parent.tools.items()) == 1 + 1 + i  # rebuilt after each change
    assert caplog.text.count("mounted tool 'add' is hidden") == 1


def test_a_proxy_is_mounted_but_mounts_nothing() -> None:
    proxy = ProxyServer(make_child())
    Server("parent").mount(proxy, namespace="up")  # tests/proxy/test_proxy_mounted.py
    with pytest.raises(TypeError, match=r"a proxy .* cannot mount servers beside it"):
        proxy.mount(make_child(), namespace="x")
