"""The server scripts/agent_frameworks.py connects each agent framework to.

Four tools, one per question the harness asks: `add` (a plain call), `count_nodes` (an input
schema that refers to itself), `lookup` (a `ToolError`: a result with `isError: true`) and
`forecast` (structured output). `server` is as a user writes it; `workaround` is the same
with both workarounds docs/agents.md names: `tool_error_prefix=True`, and a tree taken as a
plain JSON object (`dict[str, Any]`) instead of a recursive type. Served with
`mcpkit run scripts/agent_frameworks_server.py` (`:workaround` for the other one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from mcpkit import Server, ToolError


@dataclass
class TreeNode:
    name: str
    children: list[TreeNode] = field(default_factory=list)


class Forecast(TypedDict):
    city: str
    celsius: int


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def count_nodes(tree: TreeNode) -> int:
    """Count the nodes of a tree."""
    return 1 + sum(count_nodes(child) for child in tree.children)


def count_nodes_flat(tree: dict[str, Any]) -> int:
    """Count the nodes of a tree: {"name": ..., "children": [trees]}."""
    return 1 + sum(count_nodes_flat(child) for child in tree.get("children", []))


def lookup(key: str) -> str:
    """Look a key up."""
    raise ToolError(f"no entry {key!r}")


def forecast(city: str) -> Forecast:
    """Today's weather in a city."""
    return {"city": city, "celsius": 21}


def build(name: str, *, workaround: bool) -> Server:
    made = Server(name, tool_error_prefix=workaround)
    for tool in (add, lookup, forecast):
        made.tool()(tool)
    made.tool(name="count_nodes")(count_nodes_flat if workaround else count_nodes)
    return made


server = build("agents-check", workaround=False)
workaround = build("agents-check-workaround", workaround=True)
