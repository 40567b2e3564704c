"""docs/deploy.md, "AWS Lambda", works as written: its lambda_function.py, fed each Lambda
HTTP integration's documented event, lists and calls its tools without initialize, and its
`caller` tool reads the invocation's event."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _lambda_events import KINDS, FakeContext, answer, event, mcp_headers, request

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def block(name: str) -> str:
    found = dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S))
    return found[name]


@pytest.fixture
def function() -> Any:
    namespace: dict[str, Any] = {"__name__": "lambda_function"}
    exec(compile(block("lambda_function.py"), "<docs/deploy.md>", "exec"), namespace)  # our docs
    handler = namespace["handler"]
    try:
        yield handler
    finally:
        handler.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_pages_function_answers_each_integration(function: Any, kind: str) -> None:
    listed = function(event(kind, request("tools/list"), mcp_headers("tools/list")), FakeContext())
    assert [t["name"] for t in answer(listed)["result"]["tools"]] == ["forecast", "caller"]
    call = request("tools/call", {"name": "forecast", "arguments": {"city": "Oslo"}})
    called = function(event(kind, call, mcp_headers("tools/call", "forecast")), FakeContext())
    assert answer(called)["result"]["content"][0]["text"] == "Sunny in Oslo"


def test_its_caller_tool_reads_the_event(function: Any) -> None:
    call = request("tools/call", {"name": "caller", "arguments": {}})
    hdrs = {**mcp_headers("tools/call", "caller"), "user-agent": "agent/1"}
    called = function(event("function_url", call, hdrs), FakeContext())
    # The function URL fixture's sourceIp.
    assert answer(called)["result"]["content"][0]["text"] == "123.123.123.123 with agent/1"
