"""One agent framework's MCP adapter, probed; run by scripts/agent_frameworks.py and
scripts/downstream, one child each.

`agent_probes.py NAME TARGETS_JSON` prints one JSON line: for each transport and server of
TARGETS_JSON, what the framework's adapter did with the tools it names (see `questions`). Each
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


def check(verdict: str, detail: str) -> dict[str, str]:
    return {"verdict": verdict, "detail": detail}


def converted(adapter: Adapter, name: str) -> dict[str, str]:
    """The parameters schema the model gets for tool `name`, as the JSON a model API is sent;
    it works when the framework made the tool and the schema encodes."""
    if name not in adapter.names:
        return check("fails", "not listed")
    try:
        schema = adapter.schema(name)
    except Exception as exc:
        return check("fails", "making it raises " + failure(exc))
    try:
        return check("works", short(json.dumps(schema), 300))
    except ValueError as exc:  # a schema holding itself: no model API can be sent it
        return check("fails", "not JSON: " + failure(exc))


def call_verdict(call: dict[str, Any], got: Outcome) -> str:
    """A call works when its result holds the text it should. For a tool error, the flag is
    kept when the loop is told the call failed (a flagged result or an exception it turns into
    an error message) and dropped when the text comes as a plain result."""
    if call["expect"] not in got.text:
        return "fails"
    if call.get("error"):
        return "flag dropped" if got.kind == "ok" else "flag kept"
    return "works" if got.kind == "ok" else "fails"


async def questions(open_adapter: Opener, target: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the framework did with one server: `target` says how to reach it (`connect`), the
    tools whose schema should convert (`convert`) and the calls to make (`calls`: tool,
    arguments, the text the result should hold, whether it is a tool error)."""
    found: dict[str, dict[str, str]] = {}
    try:
        async with open_adapter(target["connect"]) as adapter:
            found["connect"] = check("works", ", ".join(sorted(adapter.names)))
            for name in target["convert"]:
                found[f"convert {name}"] = converted(adapter, name)
            for call in target["calls"]:
                name = call["tool"]
                if name not in adapter.names:
                    found[f"call {name}"] = check("fails", "not listed")
                    continue
                got = await outcome(adapter.call(name, call["arguments"]))
                found[f"call {name}"] = check(call_verdict(call, got), f"{got.kind}: {got.text}")
    except Exception as exc:
        found["connect"] = check("fails", failure(exc))
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
