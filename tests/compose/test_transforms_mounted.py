"""Tool transforms of tools that live elsewhere, through `Client` in both eras: a mounted
server's (`mount(tool_names=, transforms=)`, `transform_tool` of a mounted name), a mounted
`ProxyServer`'s, an OpenAPI operation's, and a task tool's, with the Context (progress,
asking) and the mounted server's middleware working through the derived tool."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi import FastAPI

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer
from mcpkit.server import Arg, ToolTransform
from mcpkit.server.middleware import CallNext
from mcpkit.types import CallToolResult, ElicitRequestParams, ElicitResult, Tool

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 20.0


def weather() -> tuple[Server, list[str]]:
    """A server with a tool that reports progress, asks, and names the server it runs in;
    its middleware notes the calls it sees."""
    server = Server("weather")
    seen: list[str] = []

    async def note(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            seen.append(f"{ctx.server.name}:{params.name}")
        return await call_next(params)

    server.add_middleware(note)

    @server.tool
    async def forecast(city: str, ctx: Context, days: int = 1, units: str = "metric") -> str:
        """The forecast of a city."""
        await ctx.progress(1, total=1, message="fetched")
        if city == "ask":
            answer = await ctx.elicit("Which city?", ["Oslo", "Lima"])
            city = str(answer.data)
        return f"{city} for {days} day(s) in {units}, from {ctx.server.name}"

    @server.tool(task=True)
    async def season(city: str, ctx: Context) -> str:
        """The season's outlook of a city (a task, if the client likes)."""
        await ctx.progress(1, total=1, message="averaged")
        return f"mild in {city}, from {ctx.server.name}"

    @server.tool
    def alerts(region: str) -> str:
        return f"no alerts in {region}"

    return server, seen


def _text(result: CallToolResult) -> str:
    return str(getattr(result.content[0], "text", ""))


def _answer_oslo(params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"value": "Oslo"})


@pytest.mark.parametrize("era", ERAS)
async def test_a_mount_renames_and_transforms_tools_that_run_in_their_own_server(
    era: str,
) -> None:
    child, seen = weather()
    front = Server("front")
    front.mount(
        child,
        "w",
        tool_names={"alerts": "weather_alerts"},
        transforms={
            "forecast": ToolTransform(
                description="Tomorrow's weather.",
                arguments={"city": Arg(name="place"), "days": Arg(hide=True, value=2)},
            )
        },
    )
    progress: list[float] = []
    client = Client(front, protocol=era, elicitation_handler=_answer_oslo)
    async with asyncio.timeout(WAIT), client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"w_forecast", "w_season", "weather_alerts"}
        forecast = tools["w_forecast"]
        assert forecast.description == "Tomorrow's weather."
        assert set(forecast.input_schema["properties"]) == {"place", "units"}
        result = await client.call_tool(
            "w_forecast", {"place": "Lima"}, progress=lambda p, t, m: progress.append(p)
        )
        assert _text(result) == "Lima for 2 day(s) in metric, from weather"
        asked = await client.call_tool("w_forecast", {"place": "ask"})
        assert _text(asked) == "Oslo for 2 day(s) in metric, from weather"
        alerts = await client.call_tool("weather_alerts", {"region": "north"})
        assert _text(alerts) == "no alerts in north"
    assert progress == [1]
    # the mounted server's middleware saw each call, by the tool's own name
    assert seen[0] == "weather:forecast" and seen[-1] == "weather:alerts"


@pytest.mark.parametrize("era", ERAS)
async def test_a_derived_task_tool_is_still_one(era: str) -> None:
    child, _ = weather()
    front = Server("front")
    front.mount(child, "w", transforms={"season": ToolTransform(name="outlook")})
    async with asyncio.timeout(WAIT), Client(front, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        outlook = tools["outlook"].execution
        assert outlook is not None and outlook.task_support == "optional"
        assert tools["w_forecast"].execution is None
        result = await client.call_tool("outlook", {"city": "Oslo"}, task=True)
        assert _text(result) == "mild in Oslo, from weather"


async def test_a_task_of_a_derived_tool_reports_progress() -> None:
    child, _ = weather()
    front = Server("front")
    front.mount(child, "w", transforms={"season": ToolTransform(name="outlook")})
    progress: list[float] = []
    async with asyncio.timeout(WAIT), Client(front, protocol="2025-11-25") as client:
        task = await client.call_tool_as_task(
            "outlook", {"city": "Lima"}, progress=lambda p, t, m: progress.append(p)
        )
        final = await task.wait()
        assert final.status == "completed"
        assert _text(await task.result()) == "mild in Lima, from weather"
    assert progress == [1]


@pytest.mark.parametrize("era", ERAS)
async def test_transform_tool_of_a_mounted_name_replaces_it_live_or_keeps_it(era: str) -> None:
    child, seen = weather()
    front = Server("front")
    front.mount(child, "w")
    front.transform_tool("w_alerts", name="alerts", arguments={"region": Arg(name="area")})
    front.transform_tool(
        "w_forecast",
        name="oslo",
        keep_original=True,
        arguments={"city": Arg(hide=True, value="Oslo")},
    )
    async with asyncio.timeout(WAIT), Client(front, protocol=era) as client:
        listed = {t.name for t in await client.list_tools()}
        assert listed == {"alerts", "w_forecast", "w_season", "oslo"}
        assert _text(await client.call_tool("alerts", {"area": "west"})) == "no alerts in west"
        oslo = await client.call_tool("oslo", {})
        assert _text(oslo) == "Oslo for 1 day(s) in metric, from weather"

        @child.tool
        def tides(port: str) -> str:
            return f"high tide at {port}"

        # the mounted server's list is still live
        assert "w_tides" in {t.name for t in await client.list_tools()}
        child.remove_tool("alerts")
        assert "alerts" not in {t.name for t in await client.list_tools()}
    assert seen == ["weather:alerts", "weather:forecast"]


async def test_a_mount_refuses_names_and_transforms_that_do_not_fit() -> None:
    child, _ = weather()
    with pytest.raises(ValueError, match="has no tool 'forcast'"):
        Server("front").mount(child, "w", tool_names={"forcast": "f"})
    with pytest.raises(ValueError, match="no argument 'town'"):
        Server("front").mount(
            child, "w", transforms={"forecast": ToolTransform(arguments={"town": Arg()})}
        )
    with pytest.raises(ValueError, match="two names"):
        Server("front").mount(
            child,
            "w",
            tool_names={"alerts": "a"},
            transforms={"alerts": ToolTransform(name="b")},
        )
    assert child.mounted_in is None  # nothing refused was mounted
    front = Server("front")
    front.mount(child, "w")
    with pytest.raises(ValueError, match="no argument 'area'"):
        front.transform_tool("w_alerts", arguments={"area": Arg(name="zone")})
    shown = front.tools.get("w_alerts")  # still shown, as it was
    assert shown is not None and set(shown.wire.input_schema["properties"]) == {"region"}


async def test_a_transform_function_applies_to_every_tool_of_a_mount() -> None:
    child, _ = weather()

    def metric_only(tool: Tool) -> ToolTransform | None:
        if "units" not in tool.input_schema.get("properties", {}):
            return None
        return ToolTransform(arguments={"units": Arg(hide=True, value="imperial")})

    front = Server("front")
    front.mount(child, "w", transforms=metric_only)
    async with asyncio.timeout(WAIT), Client(front) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools["w_forecast"].input_schema["properties"]) == {"city", "days"}
        assert set(tools["w_alerts"].input_schema["properties"]) == {"region"}
        result = await client.call_tool("w_forecast", {"city": "Lima"})
        assert _text(result) == "Lima for 1 day(s) in imperial, from weather"


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_proxys_tools_are_renamed_and_transformed(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    child, _ = weather()
    front = Server("front")
    front.mount(
        ProxyServer(child),
        "up",
        tool_names={"alerts": "up_warnings", "gone": "never"},
        transforms={"forecast": ToolTransform(arguments={"city": Arg(name="place")})},
    )
    progress: list[float] = []
    client = Client(front, protocol=era, elicitation_handler=_answer_oslo)
    with caplog.at_level(logging.WARNING, logger="mcpkit.server"):
        async with asyncio.timeout(WAIT), client:
            tools = {t.name: t for t in await client.list_tools()}
            assert set(tools) == {"up_forecast", "up_season", "up_warnings"}
            assert set(tools["up_forecast"].input_schema["properties"]) == {
                "place",
                "days",
                "units",
            }
            result = await client.call_tool(
                "up_forecast", {"place": "Lima"}, progress=lambda p, t, m: progress.append(p)
            )
            assert _text(result) == "Lima for 1 day(s) in metric, from weather"
            asked = await client.call_tool("up_forecast", {"place": "ask"})
            assert _text(asked) == "Oslo for 1 day(s) in metric, from weather"
            warned = await client.call_tool("up_warnings", {"region": "east"})
            assert _text(warned) == "no alerts in east"
    assert progress == [1]
    assert "has no tool 'gone'" in caplog.text  # a proxy's tools are known once listed


def shop_app() -> FastAPI:
    app = FastAPI(title="Shop", version="1.0.0")
    items = {1: {"id": 1, "name": "kettle", "price": 30.0}}

    @app.get("/items/{item_id}", operation_id="get_item")
    async def get_item(item_id: int, currency: str = "EUR") -> dict[str, Any]:
        return {**items[item_id], "currency": currency}

    return app


@pytest.mark.parametrize("era", ERAS)
async def test_an_openapi_tool_is_transformed_by_itself_or_mounted(era: str) -> None:
    shop = Server.from_fastapi(shop_app())
    shop.transform_tool(
        "get_item",
        name="item",
        arguments={"item_id": Arg(name="id"), "currency": Arg(hide=True, value="NOK")},
    )
    front = Server("front")
    front.mount(
        Server.from_fastapi(shop_app()),
        "shop",
        transforms={"get_item": ToolTransform(arguments={"currency": Arg(default="USD")})},
    )
    async with asyncio.timeout(WAIT):
        async with Client(shop, protocol=era) as client:
            (tool,) = await client.list_tools()
            assert tool.name == "item" and tool.input_schema["required"] == ["id"]
            result = await client.call_tool("item", {"id": 1})
            assert result.structured_content is not None
            assert result.structured_content["currency"] == "NOK"
        async with Client(front, protocol=era) as client:
            (tool,) = await client.list_tools()
            assert tool.input_schema["properties"]["currency"]["default"] == "USD"
            result = await client.call_tool("shop_get_item", {"item_id": 1})
            assert result.structured_content == {
                "id": 1,
                "name": "kettle",
                "price": 30.0,
                "currency": "USD",
            }
            missing = await client.call_tool("shop_get_item", {"item_id": 7})
            assert missing.is_error  # the API's error, as the original gives it


async def test_a_renamed_tool_that_disappears_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    child, _ = weather()
    front = Server("front")
    front.mount(child, "w", tool_names={"alerts": "warnings"})
    async with asyncio.timeout(WAIT), Client(front) as client:
        assert "warnings" in {t.name for t in await client.list_tools()}
        child.remove_tool("alerts")
        assert "warnings" not in {t.name for t in await client.list_tools()}
    assert "mounted server 'weather' has no tool 'alerts'" in caplog.text


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_a_mount_derived_is_derived_from_again(era: str) -> None:
    child, seen = weather()
    front = Server("front")
    front.mount(child, "w", tool_names={"alerts": "warnings"})
    front.transform_tool(
        "warnings", name="north_warnings", arguments={"region": Arg(hide=True, value="north")}
    )
    async with asyncio.timeout(WAIT), Client(front, protocol=era) as client:
        names = {t.name for t in await client.list_tools()}
        assert "north_warnings" in names and "warnings" not in names
        result = await client.call_tool("north_warnings", {})
        assert _text(result) == "no alerts in north"
        with pytest.raises(Exception, match="Unknown tool"):
            await client.call_tool("warnings", {"region": "south"})
    assert seen == ["weather:alerts"]


async def test_a_proxied_tool_whose_transform_does_not_fit_is_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child, _ = weather()
    front = Server("front")
    front.mount(
        ProxyServer(child),
        "up",
        transforms={"alerts": ToolTransform(arguments={"area": Arg(name="zone")})},
    )
    async with asyncio.timeout(WAIT), Client(front) as client:
        names = {t.name for t in await client.list_tools()}
    assert names == {"up_forecast", "up_season"}  # not shown untransformed
    assert "mounted tool 'alerts' is not shown: tool 'up_alerts' has no argument 'area'" in (
        caplog.text
    )


@pytest.mark.parametrize("era", ERAS)
async def test_a_hidden_value_cannot_be_overridden_through_an_open_schema(era: str) -> None:
    # A proxied tool's schema may let any property through: the derived one still refuses
    # the names it hides or renamed.
    upstream = Server("upstream")

    @upstream.tool(input_schema={"type": "object", "properties": {"key": {"type": "string"}}})
    def whoami(key: str = "", name: str = "") -> str:
        return f"key={key} name={name}"

    front = Server("front")
    front.mount(
        ProxyServer(upstream),
        transforms={"whoami": ToolTransform(arguments={"key": Arg(hide=True, value="secret")})},
    )
    async with asyncio.timeout(WAIT), Client(front, protocol=era) as client:
        allowed = await client.call_tool("whoami", {"name": "ada"})
        assert _text(allowed) == "key=secret name=ada"
        refused = await client.call_tool("whoami", {"key": "mine"})
        assert refused.is_error
        assert _text(refused) == "Invalid arguments for tool 'whoami': it has no argument 'key'"


async def test_a_renamed_tool_the_mounted_server_disables_shows_when_enabled() -> None:
    child, _ = weather()
    child.disable("alerts")
    front = Server("front")
    front.mount(child, "w", tool_names={"alerts": "warnings"})  # known, though disabled
    async with asyncio.timeout(WAIT), Client(front) as client:
        assert "warnings" not in {t.name for t in await client.list_tools()}
        child.enable("alerts")
        assert "warnings" in {t.name for t in await client.list_tools()}
        assert _text(await client.call_tool("warnings", {"region": "x"})) == "no alerts in x"


@pytest.mark.parametrize("era", ERAS)
async def test_transforms_at_two_levels_of_mounts_compose(era: str) -> None:
    child, seen = weather()
    middle = Server("middle")
    middle.mount(child, "w", tool_names={"alerts": "warnings"})
    top = Server("top")
    top.mount(
        middle,
        "m",
        transforms={"warnings": ToolTransform(arguments={"region": Arg(name="zone")})},
    )
    top.transform_tool(
        "m_w_forecast", name="lima", arguments={"city": Arg(hide=True, value="Lima")}
    )
    async with asyncio.timeout(WAIT), Client(top, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert {"m_warnings", "lima", "m_w_season"} <= set(tools)
        assert set(tools["m_warnings"].input_schema["properties"]) == {"zone"}
        warned = await client.call_tool("m_warnings", {"zone": "south"})
        assert _text(warned) == "no alerts in south"
        lima = await client.call_tool("lima", {"units": "imperial"})
        assert _text(lima) == "Lima for 1 day(s) in imperial, from weather"
    assert seen == ["weather:alerts", "weather:forecast"]
