"""MCP Apps (SEP-1865) and extensions (SEP-2133) end to end, in both protocol eras: views served
as ui:// resources with their settings, tools linked to them, the text-only fallback for a
client that renders no views, the host's typed reading, and extensions declared both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.apps import (
    HOST_EXTENSIONS,
    UI_EXTENSION,
    UI_RESOURCE_URI_KEY,
    VIEW_MIME_TYPE,
    Csp,
    Permissions,
    app_tools,
    model_tools,
    tool_ui,
    view_meta,
)
from mcpkit.errors import PeerError
from mcpkit.testing import raw_session
from mcpkit.types import TextResourceContents, Tool

ERAS = ["2025-11-25", "2026-07-28"]
HTML = "<!DOCTYPE html><html><body><p id='x'>hi</p></body></html>"


def weather_server() -> Server:
    server = Server("weather")

    @server.view(
        "ui://weather/dashboard",
        csp=Csp(connect_domains=("https://api.example.com",)),
        permissions=Permissions(clipboard_write={}),
        prefers_border=True,
    )
    def dashboard() -> str:
        """The weather dashboard."""
        return HTML

    @server.tool(view="ui://weather/dashboard")
    def forecast(city: str) -> str:
        """Tomorrow's weather."""
        return f"sunny in {city}"

    @server.tool(view="ui://weather/dashboard", visibility=["app"])
    def refresh(city: str) -> str:
        """Fresh numbers for the view."""
        return f"refreshed {city}"

    @server.tool()
    def plain() -> str:
        return "plain"

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_a_host_gets_views_tools_and_settings(era: str) -> None:
    async with Client(weather_server(), protocol=era, extensions=HOST_EXTENSIONS) as client:
        assert client.protocol_version == era
        assert client.server_extension(UI_EXTENSION) == {}
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"forecast", "refresh", "plain"}
        forecast = tools["forecast"]
        assert forecast.meta is not None
        assert forecast.meta["ui"] == {"resourceUri": "ui://weather/dashboard"}
        assert forecast.meta[UI_RESOURCE_URI_KEY] == "ui://weather/dashboard"  # deprecated
        ui = tool_ui(tools["refresh"])
        assert ui is not None and ui.visibility == ("app",) and not ui.for_model
        assert [t.name for t in model_tools(tools.values())] == ["forecast", "plain"]
        assert {t.name for t in app_tools(tools.values())} == {"forecast", "refresh", "plain"}
        assert tool_ui(tools["plain"]) is None
        # the view: listed with its type, read with its settings
        listed = {r.uri: r for r in await client.list_resources()}
        assert listed["ui://weather/dashboard"].mime_type == VIEW_MIME_TYPE
        read = await client.read_resource("ui://weather/dashboard")
        contents = read.contents[0]
        assert contents.mime_type == VIEW_MIME_TYPE and getattr(contents, "text", None) == HTML
        meta = view_meta(contents)
        assert meta is not None and meta.prefers_border is True
        assert meta.csp is not None and meta.csp.connect_domains == ("https://api.example.com",)
        assert meta.permissions is not None and meta.permissions.clipboard_write == {}
        # an app-only tool is callable by the host (for its view)
        result = await client.call_tool("refresh", {"city": "Oslo"})
        assert result.content[0].text == "refreshed Oslo"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_client_without_the_extension_gets_the_text_only_fallback(era: str) -> None:
    async with Client(weather_server(), protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"forecast", "plain"}  # no tool for views alone
        assert tools["forecast"].meta is None  # no UI metadata
        result = await client.call_tool("forecast", {"city": "Rome"})
        assert result.content[0].text == "sunny in Rome"  # type: ignore[union-attr]
        with pytest.raises(PeerError, match="Unknown tool: refresh"):
            await client.call_tool("refresh", {"city": "Rome"})


async def test_a_client_declaring_other_mime_types_only_renders_no_views() -> None:
    extensions = {UI_EXTENSION: {"mimeTypes": ["text/uri-list"]}}
    async with Client(weather_server(), extensions=extensions) as client:
        assert {t.name for t in await client.list_tools()} == {"forecast", "plain"}


async def test_a_views_file_is_read_at_each_read(tmp_path: Path) -> None:
    page = tmp_path / "view.html"
    page.write_text("<html>one</html>")
    server = Server("files")
    server.add_view("ui://files/view", page, csp=Csp(resource_domains=("https://cdn.example",)))
    async with Client(server, extensions=HOST_EXTENSIONS) as client:
        first = (await client.read_resource("ui://files/view")).contents[0]
        page.write_text("<html>two</html>")
        second = (await client.read_resource("ui://files/view")).contents[0]
        assert getattr(first, "text", None) == "<html>one</html>"
        assert getattr(second, "text", None) == "<html>two</html>"
        assert view_meta(second) is not None


async def test_views_from_a_string_a_package_and_an_async_function_with_a_context() -> None:
    server = Server("sources")
    server.add_view("ui://s/inline", HTML)  # no settings: no _meta.ui at all
    server.add_view("ui://s/package", ("mcpkit", "py.typed"))

    @server.view("ui://s/async")
    async def greeting(ctx: Context) -> str:
        return f"<html>{ctx.client_info.name if ctx.client_info else '?'}</html>"

    async with Client(server, name="host-a") as client:
        inline = (await client.read_resource("ui://s/inline")).contents[0]
        assert inline.meta is None and view_meta(inline) is None
        assert (await client.read_resource("ui://s/package")).contents[
            0
        ].mime_type == VIEW_MIME_TYPE
        made = (await client.read_resource("ui://s/async")).contents[0]
        assert getattr(made, "text", None) == "<html>host-a</html>"


def test_bad_views_and_links_are_refused_where_they_are_written(tmp_path: Path) -> None:
    server = Server("bad")
    with pytest.raises(ValueError, match="ui://"):
        server.add_view("https://example.com/x", HTML)
    with pytest.raises(ValueError, match="fixed ui://"):
        server.add_view("ui://bad/{id}", HTML)
    with pytest.raises(FileNotFoundError):
        server.add_view("ui://bad/missing", tmp_path / "nope.html")
    with pytest.raises(FileNotFoundError):
        server.add_view("ui://bad/missing2", ("mcpkit", "nope.html"))
    with pytest.raises(ValueError, match="view must be a ui://"):
        server.add_tool(lambda: "x", name="t1", view="https://example.com")
    with pytest.raises(TypeError, match="visibility is a list"):
        server.add_tool(lambda: "x", name="t2", visibility="app")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'model' and/or 'app'"):
        server.add_tool(lambda: "x", name="t3", visibility=["agent"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'model' and/or 'app'"):
        server.add_tool(lambda: "x", name="t4", visibility=[])


async def test_a_mounted_servers_tools_point_at_its_views_where_they_are_served() -> None:
    outer = Server("outer")
    outer.mount(weather_server(), "w")
    async with Client(outer, extensions=HOST_EXTENSIONS) as client:
        tools = {t.name: t for t in await client.list_tools()}
        ui = tool_ui(tools["w_forecast"])
        assert ui is not None and ui.resource_uri is not None
        assert client.server_extension(UI_EXTENSION) == {}  # the mounted server's extension
        read = await client.read_resource(ui.resource_uri)
        assert getattr(read.contents[0], "text", None) == HTML


# ---------------------------------------------------------------- extensions


@pytest.mark.parametrize("era", ERAS)
async def test_extensions_are_declared_both_ways_in_both_eras(era: str) -> None:
    server = Server("ext")
    server.declare_extension("com.example/audit", {"level": 2})
    seen: list[Any] = []

    @server.tool()
    def check(ctx: Context) -> str:
        seen.append(ctx.client_extension("com.example/trace"))
        seen.append(ctx.client_extension("com.example/absent"))
        return "ok"

    trace = {"com.example/trace": {"sample": 0.5}}
    async with Client(server, protocol=era, extensions=trace) as client:
        assert client.server_extension("com.example/audit") == {"level": 2}
        assert client.server_extension("com.example/absent") is None
        await client.call_tool("check", {})
    assert seen == [{"sample": 0.5}, None]


def test_extension_identifiers_and_settings_are_checked() -> None:
    server = Server("ids")
    for bad in ["audit", "/audit", "com.example/", "a/b/c"]:
        with pytest.raises(ValueError, match="vendor-prefix/name"):
            server.declare_extension(bad)
    with pytest.raises(ValueError, match="vendor-prefix/name"):
        Client(server, extensions={"audit": {}})
    with pytest.raises(ValueError, match="settings mapping"):
        Client(server, extensions={"com.example/x": ["not", "a", "mapping"]})  # type: ignore[dict-item]


def audit_server(seen: list[Any]) -> Server:
    server = Server("audit")

    async def log_entry(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        seen.append((ctx.client_extension("com.example/audit"), params))
        return {"stored": len(seen)}

    def count(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return {"count": len(seen)}

    server.declare_extension(
        "com.example/audit", {"level": 2}, methods={"audit/log": log_entry, "audit/count": count}
    )
    return server


@pytest.mark.parametrize("era", ERAS)
async def test_an_extension_adds_requests_served_to_clients_that_declared_it(era: str) -> None:
    seen: list[Any] = []
    server = audit_server(seen)
    declared = {"com.example/audit": {"v": 1}}
    methods = ["audit/log", "audit/count"]
    async with Client(
        server, protocol=era, extensions=declared, extension_methods=methods
    ) as client:
        # (a 2026-07-28 result also says `resultType`, as every result of that revision)
        assert (await client.request("audit/log", {"line": "hi"}))["stored"] == 1
        assert (await client.request("audit/count", {}))["count"] == 1
    assert seen == [({"v": 1}, {"line": "hi"})]
    # a client that did not declare the extension is refused, as its era says
    async with Client(server, protocol=era, extension_methods=methods) as client:
        with pytest.raises(PeerError) as refused:
            await client.request("audit/log", {"line": "no"})
        code = -32021 if era == "2026-07-28" else -32601
        assert refused.value.code == code and "com.example/audit" in str(refused.value)
    assert len(seen) == 1


def test_extension_methods_are_checked_when_declared() -> None:
    server = Server("bad-methods")
    with pytest.raises(ValueError, match="method of the protocol"):
        server.declare_extension("com.example/x", methods={"tools/call": lambda c, p: {}})
    with pytest.raises(ValueError, match="cannot name a request"):
        server.declare_extension("com.example/x", methods={"notifications/x": lambda c, p: {}})
    with pytest.raises(TypeError, match="not callable"):
        server.declare_extension("com.example/x", methods={"x/y": "nope"})  # type: ignore[dict-item]
    server.declare_extension("com.example/x", methods={"x/y": lambda c, p: {}})
    with pytest.raises(ValueError, match=r"com\.example/x's already"):
        server.declare_extension("com.example/z", methods={"x/y": lambda c, p: {}})
    assert "x/y" in server.extension_handlers


async def test_a_handler_returning_something_else_than_an_object_is_an_internal_error() -> None:
    server = Server("odd")
    server.declare_extension("com.example/odd", methods={"odd/one": lambda c, p: [1, 2]})
    async with Client(
        server, extensions={"com.example/odd": {}}, extension_methods=["odd/one"]
    ) as client:
        with pytest.raises(PeerError) as failed:
            await client.request("odd/one", {})
        assert failed.value.code == -32603


def test_a_hosts_reading_of_malformed_ui_metadata_is_none_not_an_exception() -> None:
    def tool(meta: Any) -> Tool:
        return Tool(name="t", input_schema={"type": "object"}, meta=meta)

    assert tool_ui(tool({"ui": "ui://x"})) is None  # not an object
    assert tool_ui(tool({"ui": {"visibility": "app"}})) is None  # not a list
    assert tool_ui(tool({"ui": {"visibility": ["agent"]}})) is None  # not a visibility
    flat = tool_ui(tool({UI_RESOURCE_URI_KEY: "ui://x/v"}))  # the deprecated key alone
    assert flat is not None and flat.resource_uri == "ui://x/v" and flat.for_model
    assert tool_ui(tool({UI_RESOURCE_URI_KEY: 5})) is None
    for ui in ["x", {"csp": "none"}, {"csp": {"connectDomains": "https://a"}}, {"domain": 5}]:
        contents = TextResourceContents(uri="ui://x/v", text="", meta={"ui": ui})
        assert view_meta(contents) is None, ui


async def test_an_extension_request_whose_params_are_no_object_is_invalid_params() -> None:
    server = audit_server([])
    declared = {"extensions": {"com.example/audit": {}}}
    async with raw_session(server, capabilities=declared) as peer:
        answer = await peer.request("audit/log", [1, 2, 3])
        assert answer["error"]["code"] == -32602
