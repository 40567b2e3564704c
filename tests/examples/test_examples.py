"""Every example server works through the real client (in memory here; the demo client
also runs over stdio in tests/examples/test_demo.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mcpkit import Client, McpError
from mcpkit.protocol import codes
from mcpkit.types import Root

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_tools_example() -> None:
    server = load("tools").server
    seen: list[float] = []
    async with Client(server) as client:
        assert (await client.call_tool("add", {"a": 2, "b": 2})).structured_content == {"result": 4}
        f = await client.call_tool("forecast", {"city": "Oslo", "days": 2})
        assert f.structured_content == {"city": "Oslo", "celsius": 20.5, "sky": "clear"}
        assert (await client.call_tool("forecast", {"city": " "})).is_error is True
        assert (await client.call_tool("forecast", {"city": "x", "days": 9})).is_error is True
        counted = await client.call_tool(
            "count_to", {"n": 3}, progress=lambda p, t, m: seen.append(p)
        )
        assert counted.content[0].text == "counted to 3" and seen == [1, 2, 3]
        assert (await client.call_tool("red_dot")).content[0].type == "image"


async def test_resources_example() -> None:
    module = load("resources")
    updates: list[Any] = []
    async with Client(module.server, on_notification=lambda m, p: updates.append(m)) as client:
        cfg = await client.read_resource("config://app")
        assert cfg.contents[0].text == '{"theme":"dark","retries":3}'
        assert (await client.read_resource("notes://welcome")).contents[0].text == "Hello!"
        with pytest.raises(McpError) as missing:
            await client.read_resource("notes://nope")
        # docs/eras.md: the same refusal is -32602 from 2026-07-28 on.
        assert client.protocol_version == "2026-07-28"
        assert missing.value.code == codes.INVALID_PARAMS
        done = await client.complete({"template": "notes://{name}"}, "name", "t")
        assert done.completion.values == ["todo"]
        await client.subscribe("notes://todo")
        await client.call_tool("write_note", {"name": "todo", "body": "done"})
        await client.call_tool("publish_readme")
        await client.ping()
        assert "notifications/resources/updated" in updates
        assert "docs://readme" in {r.uri for r in await client.list_resources()}
    async with Client(module.server, protocol="2025-11-25") as client:
        with pytest.raises(McpError) as missing:
            await client.read_resource("notes://nope")
        assert missing.value.code == codes.RESOURCE_NOT_FOUND


async def test_prompts_example() -> None:
    async with Client(load("prompts").server) as client:
        got = await client.get_prompt("review", {"code": "x", "language": "go"})
        assert got.messages[0].content.text == "Please review this go code:\nx"
        assert len((await client.get_prompt("debate", {"topic": "tabs"})).messages) == 3
        langs = await client.complete({"prompt": "review"}, "language", "r")
        assert langs.completion.values == ["rust"]
        topics = await client.complete({"prompt": "debate"}, "topic", "t")
        assert topics.completion.values == ["tabs", "types", "tests"]


async def test_client_features_example() -> None:
    server = load("client_features").server
    async with Client(
        server,
        sampling_handler=lambda p: {
            "role": "assistant",
            "model": "m",
            "content": {"type": "text", "text": "short"},
        },
        elicitation_handler=lambda p: {"action": "accept", "content": {"name": "Bo"}},
        url_elicitation_handler=lambda p: {"action": "accept"},
        roots=[Root(uri="file:///tmp", name="tmp")],
    ) as client:
        assert (await client.call_tool("summarize", {"text": "long"})).content[0].text == "short"
        assert (await client.call_tool("book_table")).content[
            0
        ].text == "booked 2 indoor seats for Bo"
        assert (await client.call_tool("link_account")).content[0].text == "link: accept"
        assert (await client.call_tool("workspace")).structured_content == {
            "result": ["file:///tmp"]
        }


async def test_lifespan_example() -> None:
    async with Client(load("lifespan").server) as client:
        assert (await client.call_tool("role", {"user": "alice"})).content[0].text == "admin"


async def test_everything_example_through_the_demo_client() -> None:
    demo = load("client")
    everything = load("everything")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        await demo.main(everything.server)
    text = out.getvalue()
    for expected in [
        "connected to everything 1.0.0",
        "add(2, 3) -> structured {'result': 5}",
        "divide by zero -> b must not be zero",
        "sign_up -> Ada, 36, red",
        "connect_account -> connect: accept",
        "notes://todo -> Done!",
        "notifications/tools/list_changed",
        "greet -> Hello, world!",
        "ping ok",
    ]:
        assert expected in text, f"{expected!r} not in demo output:\n{text}"


async def test_skills_example() -> None:
    server = load("skills").server
    async with Client(server) as client:
        skills = {s.uri: s for s in await client.list_skills()}
        assert sorted(skills) == [
            "skill://release-notes/SKILL.md",
            "skill://team/triage/SKILL.md",
        ]
        notes = await client.load_skill("skill://release-notes/SKILL.md")
        assert notes.frontmatter["metadata"] == {"audience": "maintainers"}
        sections = await notes.read_text("references/SECTIONS.md")
        assert sections.startswith("Features, Fixes")
        triage = await client.load_skill(skills["skill://team/triage/SKILL.md"])
        assert "bug, feature, question" in triage.text


async def test_apps_example() -> None:
    from mcpkit.apps import HOST_EXTENSIONS, VIEW_MIME_TYPE, model_tools, tool_ui, view_meta

    server = load("apps").server
    async with Client(server, extensions=HOST_EXTENSIONS) as client:
        tools = await client.list_tools()
        assert [t.name for t in model_tools(tools)] == ["forecast"]
        ui = tool_ui(tools[0])
        assert ui is not None and ui.resource_uri == "ui://forecast/view"
        view = (await client.read_resource("ui://forecast/view")).contents[0]
        assert view.mime_type == VIEW_MIME_TYPE and "ui/initialize" in view.text
        meta = view_meta(view)
        assert meta is not None and meta.prefers_border is True and meta.csp is None
        fresh = await client.call_tool("refresh_forecast", {"city": "Oslo"})
        assert fresh.structured_content["days"][0]["celsius"] == 19.0
    async with Client(server) as client:  # no MCP Apps: the same forecast, as text
        assert [t.name for t in await client.list_tools()] == ["forecast"]
        text = (await client.call_tool("forecast", {"city": "Oslo"})).content[0].text
        assert '"city":"Oslo"' in text


async def test_everything_files_sends_its_blocks_once() -> None:
    async with Client(load("everything").server) as client:
        tool = next(t for t in await client.list_tools() if t.name == "files")
        assert tool.output_schema is None  # annotated with the content types it returns
        result = await client.call_tool("files")
        assert result.structured_content is None
        assert [b.type for b in result.content] == ["text", "resource_link", "resource"]
