"""Tool names every provider takes (ToolNames), and the adapters' plain edges: the SDK
missing, a toolset of named tools, a step limit below one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from _tools_server import tools_server

from mcpkit import Client
from mcpkit.llm import (
    AnthropicSampling,
    GeminiConversation,
    OpenAIChatSampling,
    ToolNames,
    Toolset,
    run_tool_loop,
)

# Anthropic and OpenAI: ^[a-zA-Z0-9_-]{1,64}$; Gemini: a letter or underscore first.
EVERY_API = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{0,63}")


def test_valid_names_are_kept_and_others_rewritten_reversibly() -> None:
    server_names = [
        "add", "notes.read", "notes_read", "2fa-check", "a" * 70, "a" * 69 + "b", "x.y", "x_y",
        "weather/today", "ünïcode",
    ]  # fmt: skip
    names = ToolNames(server_names)
    api = [names.to_api(n) for n in server_names]
    assert all(EVERY_API.fullmatch(a) for a in api), api
    assert len(set(api)) == len(server_names)
    assert [names.to_mcp(a) for a in api] == server_names
    # a valid name keeps its spelling even when a rewritten one would collide with it
    assert names.to_api("notes_read") == "notes_read" and names.to_api("x_y") == "x_y"
    assert names.to_api("notes.read").startswith("notes_read_")
    assert names.to_api("2fa-check") == "_2fa-check"
    assert names.to_mcp("never-given") is None


def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("anthropic", "openai", "google.genai"):
        monkeypatch.setitem(sys.modules, module, None)
    missing = r"this needs {}, which is not installed: pip install 'mcpkit\[{}\]'$"
    with pytest.raises(ImportError, match=missing.format("anthropic", "anthropic")):
        AnthropicSampling(model="claude")
    with pytest.raises(ImportError, match=missing.format("openai", "openai")):
        OpenAIChatSampling(model="gpt")
    with pytest.raises(ImportError, match=missing.format("google-genai", "gemini")):
        GeminiConversation(Toolset.__new__(Toolset), "hi", model="gemini")


async def test_a_toolset_of_named_tools_refuses_an_unknown_name() -> None:
    async with Client(tools_server()) as client:
        only = await Toolset.load(client, only=["add", "notes.read"])
        assert [name for name, _ in only.api_tools()] == ["add", "notes_read"]
        with pytest.raises(ValueError, match="no tool named ad"):
            await Toolset.load(client, only=["add", "ad"])
        bad = await only.call("add", "{not json")
        assert bad.is_error and "not valid JSON" in bad.content[0].text  # type: ignore[union-attr]
        listed = await only.call("add", "[1, 2]")
        assert listed.is_error and "JSON object" in listed.content[0].text  # type: ignore[union-attr]


async def test_the_step_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        await run_tool_loop(None, max_steps=0)  # type: ignore[arg-type]


def test_importing_the_adapters_loads_no_sdk() -> None:
    sdks = ("anthropic", "openai", "google")
    code = (
        "import sys, mcpkit.llm; "
        f"print(','.join(m for m in sys.modules if m.split('.')[0] in {sdks!r}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "", f"import mcpkit.llm loaded: {loaded}"
