"""One agent framework's MCP adapter, probed; run by scripts/agent_frameworks.py, one child each.

`agent_probes.py NAME TARGETS_JSON` prints one JSON line: for each transport, what the
framework's adapter did with the four tools of scripts/agent_frameworks_server.py. Each
framework has an `Adapter`: the tools it made (the objects its agent loop hands a model),
the parameters schema a model gets for one, and a call made the way the loop makes it. Not
part of the test suite: the frameworks are not mcpkit's dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

TREE = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}
Kind = Literal["ok", "flagged", "raises"]


@dataclass
class Outcome:
    """What a framework's tool call gave its agent loop: a result, a result marked as an error
    (a status the loop reads), or an exception (which the loop turns into an error message)."""

    kind: Kind
    text: str


class Adapter:
    names: list[str]

    def schema(self, name: str) -> Any:
        raise NotImplementedError

    async def call(self, name: str, arguments: dict[str, Any]) -> Outcome:
        raise NotImplementedError


Opener = Callable[[dict[str, Any]], contextlib.AbstractAsyncContextManager[Adapter]]
PROBES: dict[str, Opener] = {}


def probe(name: str) -> Callable[[Opener], Opener]:
    def register(opener: Opener) -> Opener:
        PROBES[name] = opener
        return opener

    return register


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def failure(exc: BaseException) -> str:
    """The exception, and the deepest frame of an installed package it came through (which
    framework's converter recursed, for a RecursionError)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "-packages" in f.filename]
    where = ""
    if frames:
        package = frames[-1].filename.split("-packages/", 1)[1]
        where = f" (in {package}, {frames[-1].name})"
    return short(f"{type(exc).__name__}: {exc}", 240) + where


async def outcome(call: Awaitable[Outcome]) -> Outcome:
    try:
        return await asyncio.wait_for(call, 30)
    except Exception as exc:  # what the framework raised is the finding
        return Outcome("raises", failure(exc))


def error_verdict(got: Outcome) -> str:
    if got.kind == "ok":
        return f"a plain result (isError dropped): {got.text!r}"
    return f"{got.kind}: {got.text}"


def recursive_schema(adapter: Adapter) -> str:
    """The parameters schema the model gets for `count_nodes`, as the JSON a model API is sent."""
    try:
        schema = adapter.schema("count_nodes")
    except Exception as exc:
        return "making it raises " + failure(exc)
    try:
        return short(json.dumps(schema), 300)
    except ValueError as exc:  # a schema holding itself: no model API can be sent it
        return "not JSON: " + failure(exc)


async def questions(open_adapter: Opener, target: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        async with open_adapter(target) as adapter:
            found["lists"] = ", ".join(sorted(adapter.names))
            add = await outcome(adapter.call("add", {"a": 2, "b": 3}))
            found["add"] = f"{add.kind}: {add.text}"
            if "count_nodes" in adapter.names:
                found["schema"] = recursive_schema(adapter)
                nodes = await outcome(adapter.call("count_nodes", {"tree": TREE}))
                found["recursive"] = f"{nodes.kind}: {nodes.text}"
            else:
                found["recursive"] = "not listed"
            found["error"] = error_verdict(await outcome(adapter.call("lookup", {"key": "k1"})))
            weather = await outcome(adapter.call("forecast", {"city": "Paris"}))
            found["structured"] = f"{weather.kind}: {weather.text}"
    except Exception as exc:
        found["connect"] = failure(exc)
    return found


async def main(name: str, targets: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    import agent_probes_frameworks  # noqa: F401  (registers the probes)

    opener = PROBES[name]
    answer: dict[str, Any] = {}
    for transport, pair in targets.items():
        answer[transport] = {server: await questions(opener, pair[server]) for server in pair}
    return answer


if __name__ == "__main__":
    sys.modules.setdefault("agent_probes", sys.modules["__main__"])
    result = asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
    print(json.dumps(result), flush=True)
