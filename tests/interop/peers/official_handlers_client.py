"""Run a plan of calls against the handlers server with the official Python SDK's client.

Usage: official_handlers_client.py MODE PLAN_JSON URL
       official_handlers_client.py MODE PLAN_JSON COMMAND [ARG...]

MODE is the client's `mode=` (`legacy`: the initialize handshake, 2025-11-25; `auto`:
server/discover first; or a pinned revision, `2026-07-28`). PLAN_JSON names the connections
(each with a bearer token or none) and the steps: `list` (tools/list), `schema` (a tool's
input schema as listed), `call` (tools/call, with `args` and `_meta`), `overflow` (a call
whose result links its overflow, read page by page with resources/read), `read` (the
first page an earlier overflow step linked, or `uri`), `prompt` (prompts/get of `name` with
`args`) and `approve` (the approval link an earlier
call's result gave, opened and approved as a browser does). Prints the summary every handlers client
prints (peers/handlers_ts_client.mjs, the same plan) and exits 0; on any failure it prints
the error and exits 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from typing import Any

import mcp_types as types
import peer_main
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

__all__ = ["run_plan"]

NAME = types.Implementation(name="official-handlers", version="1.0.0")
OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
NEXT_PAGE = re.compile(r"\[page \d+ of \d+; the next: (\S+)\]$")
APPROVAL_LINK = re.compile(r"open (https?://\S+) and approve")
FORM_FIELD = re.compile(r'name="(\w)" value="([^"]+)"')


def wire(model: Any) -> Any:
    """The JSON the SDK's pydantic model stands for, with the wire's camelCase names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def texts(result: Any) -> list[str]:
    return [block["text"] for block in wire(result).get("content", []) if block["type"] == "text"]


class Connections:
    """The plan's connections, each opened when a step first needs it."""

    def __init__(self, mode: str, target: list[str], plan: dict[str, Any]) -> None:
        self.mode = mode
        self.target = target
        self.conns: dict[str, dict[str, Any]] = plan["connections"]
        self.open: dict[str, Client] = {}
        self.stack = contextlib.AsyncExitStack()

    async def get(self, name: str) -> Client:
        if name not in self.open:
            self.open[name] = await self.stack.enter_async_context(self._client(name))
        return self.open[name]

    def _client(self, name: str) -> Client:
        conn = self.conns[name]
        # `form_unanswered`: it declares elicitation (the SDK does, given a callback) and
        # answers every question "method not found".
        options: dict[str, Any] = {"mode": self.mode, "client_info": NAME}
        if conn.get("form_unanswered"):
            options["elicitation_callback"] = unanswered
        if not self.target[0].startswith("http"):
            command, *args = self.target
            server = StdioServerParameters(command=command, args=args, env=dict(os.environ))
            return Client(server, read_timeout_seconds=10.0, **options)
        import httpx2

        token = conn.get("token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx2.AsyncClient(headers=headers, timeout=10.0)
        self.stack.push_async_callback(http.aclose)
        transport = streamable_http_client(self.target[0], http_client=http)
        return Client(transport, read_timeout_seconds=10.0, **options)


async def unanswered(context: Any, params: Any) -> types.ErrorData:
    return types.ErrorData(code=-32601, message="Method not found")


async def overflow(client: Client, step: dict[str, Any]) -> dict[str, Any]:
    """Call the tool, then read its linked overflow page after page."""
    result = wire(await client.call_tool(step["tool"], step.get("args", {})))
    blocks = result["content"]
    link = next(block for block in blocks if block["type"] == "resource_link")
    joined, uri, pages = blocks[0]["text"], link["uri"], 0
    while uri:
        contents = wire(await client.read_resource(uri))["contents"]
        pages += 1
        uri = None
        if (match := NEXT_PAGE.match(contents[-1].get("text", ""))) is not None:
            uri, contents = match.group(1), contents[:-1]
        joined += "".join(part["text"] for part in contents)
    return {"joined": joined, "pages": pages, "link_mime": link.get("mimeType"), "uri": link["uri"]}


async def approve(text: str) -> dict[str, Any]:
    """Open the approval link in `text` and press Approve, as the user's browser does (its
    POST carries the page's origin)."""
    import httpx2

    link = APPROVAL_LINK.search(text)
    assert link is not None, text
    scheme, _, rest = link[1].partition("://")
    origin = f"{scheme}://{rest.split('/')[0]}"
    async with httpx2.AsyncClient(timeout=10.0) as web:
        page = await web.get(link[1])
        fields = dict(FORM_FIELD.findall(page.text))
        posted = await web.post(
            link[1], data={**fields, "decision": "approve"}, headers={"origin": origin}
        )
    return {"status": posted.status_code}


async def step_result(
    client: Client, step: dict[str, Any], done: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    try:
        if step["op"] == "approve":  # the link an earlier call's result gave
            return await approve(done[step["link_of"]]["text"])
        if step["op"] == "read":  # `uri`, or the first page another step's overflow linked
            uri = step.get("uri") or done[step["uri_of"]]["uri"]
            contents = wire(await client.read_resource(uri))["contents"]
            return {"text": "".join(part.get("text", "") for part in contents)}
        if step["op"] == "prompt":
            prompt = wire(await client.get_prompt(step["name"], step["args"]))
            return {"messages": [[m["role"], m["content"].get("text")] for m in prompt["messages"]]}
        if step["op"] in ("list", "schema"):
            tools = wire(await client.list_tools())["tools"]
            if step["op"] == "schema":  # the input schema of one tool, as listed
                return next(tool["inputSchema"] for tool in tools if tool["name"] == step["tool"])
            return {"tools": sorted(tool["name"] for tool in tools)}
        if step["op"] == "overflow":
            return await overflow(client, step)
        result = await client.call_tool(step["tool"], step.get("args", {}), meta=step.get("meta"))
        return {"is_error": bool(result.is_error), "text": "".join(texts(result))}
    except MCPError as exc:
        return {"error": exc.code, "message": exc.error.message}


async def run_plan(argv: list[str]) -> dict[str, Any]:
    mode, plan_json, *target = argv
    plan = json.loads(plan_json)
    conns = Connections(mode, target, plan)
    async with conns.stack:
        done: dict[str, dict[str, Any]] = {}
        for step in plan["steps"]:
            done[step["id"]] = await step_result(await conns.get(step["conn"]), step, done)
        results = list(done.values())
        versions = {name: client.protocol_version for name, client in conns.open.items()}
        instructions = {name: client.instructions for name, client in conns.open.items()}
    summary = {"client": "official", "versions": versions, "results": results}
    return summary | {"instructions": instructions}


if __name__ == "__main__":
    sys.exit(peer_main.main("official_handlers_client.py", run_plan, OVERALL_TIMEOUT))
