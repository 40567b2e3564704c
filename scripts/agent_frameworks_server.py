"""The server scripts/agent_frameworks.py connects each agent framework to.

Four tools, one per question the harness asks: `add` (a plain call), `count_nodes` (an input
schema that refers to itself), `lookup` (a `ToolError`: a result with `isError: true`) and
`forecast` (structured output). `server` is as a user writes it; `prefixed` is the same
with `tool_error_prefix=True`. Served with `mcpkit run scripts/agent_frameworks_server.py`
(`:prefixed` for the other one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from mcpkit import Server, ToolError


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


class Forecast(TypedDict):
    city: str
    celsius: int


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def count_nodes(tree: Node) -> int:
    """Count the nodes of a tree."""
    return 1 + sum(count_nodes(child) for child in tree.children)


def lookup(key: str) -> str:
    """Look a key up."""
    raise ToolError(f"no entry {key!r}")


def forecast(city: str) -> Forecast:
    """Today's weather in a city."""
    return {"city": city, "celsius": 21}


def build(name: str, *, tool_error_prefix: bool) -> Server:
    made = Server(name, tool_error_prefix=tool_error_prefix)
    for tool in (add, count_nodes, lookup, forecast):
        made.tool()(tool)
    return made


server = build("agents-check", tool_error_prefix=False)
prefixed = build("agents-check-prefixed", tool_error_prefix=True)
