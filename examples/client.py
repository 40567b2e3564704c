"""The mcpkit client against an example server: list everything, use everything.

python examples/client.py                 # starts examples/everything.py over stdio
python examples/client.py path/to/server.py
python examples/client.py http://127.0.0.1:8000/mcp   # a server over Streamable HTTP, such as
                                          # `mcpkit run examples/everything.py --transport http`
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from mcpkit import Client, ToolResult
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    LoggingMessageNotificationParams,
    Root,
    TextContent,
)

HERE = Path(__file__).resolve().parent


def sampling(params: CreateMessageRequestParams) -> CreateMessageResult:
    """Stand in for the host's LLM."""
    question = params.messages[-1].content
    asked = getattr(question, "text", "?")
    return CreateMessageResult(
        role="assistant",
        model="pretend-llm",
        content=TextContent(text=f"(an LLM would answer {asked!r})"),
    )


def elicitation(params: ElicitRequestParams) -> dict[str, Any]:
    """Stand in for the user filling a form."""
    fields = list((params.requested_schema or {}).get("properties", {}))
    print(f"  form asked: {params.message!r}, fields {fields}")
    return {
        "action": "accept",
        "content": {"name": "Ada", "age": 36, "color": "red", "toppings": ["cheese"]},
    }


def url_elicitation(params: ElicitRequestParams) -> dict[str, Any]:
    print(f"  would open {params.url} ({params.message})")
    return {"action": "accept"}


def on_log(params: LoggingMessageNotificationParams) -> None:
    print(f"  [server log {params.level}] {params.data}")


def on_notification(method: str, params: Any) -> None:
    if method != "notifications/message":  # log messages are shown by on_log
        print(f"  [notification] {method}")


def show(result: ToolResult) -> str:
    if result.structured_content is not None:
        return f"structured {result.structured_content}"
    if result.text and len(result.content) == 1:
        return result.text
    return " | ".join(getattr(c, "text", None) or c.type for c in result.content)


async def main(target: Any) -> None:
    """`target` is a server file run over stdio, a URL (Streamable HTTP, or HTTP+SSE for an
    older server), or anything else `Client` accepts."""
    over = "stdio"
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        over = "HTTP"
    elif isinstance(target, str):
        target = [sys.executable, target]
    elif not isinstance(target, list):
        over = "memory"
    client = Client(
        target,
        sampling_handler=sampling,
        elicitation_handler=elicitation,
        url_elicitation_handler=url_elicitation,
        roots=[Root(uri=HERE.as_uri(), name="examples")],
        on_log=on_log,
        on_notification=on_notification,
    )
    async with client:
        info = client.server_info
        print(
            f"connected to {info.name} {info.version} over {over}, "
            f"protocol {client.protocol_version}"
        )
        if client.instructions:
            print(f"instructions: {client.instructions}")
        tools = await client.list_tools()
        print(f"tools ({len(tools)}): {', '.join(t.name for t in tools)}")
        resources = await client.list_resources()
        print(f"resources: {', '.join(r.uri for r in resources)}")
        templates = await client.list_resource_templates()
        print(f"resource templates: {', '.join(t.uri_template for t in templates)}")
        prompts = await client.list_prompts()
        print(f"prompts: {', '.join(p.name for p in prompts)}")
        if not {"add", "sign_up"} <= {t.name for t in tools}:
            return  # not the everything example: listing is all we can do
        await client.set_logging_level("info")

        def progress(done: float, total: float | None, message: str | None) -> None:
            print(f"  progress {done}/{total}")

        print(
            "add(2, 3) ->", show(await client.call_tool("add", {"a": 2, "b": 3}, progress=progress))
        )
        print("stats ->", show(await client.call_tool("stats", {"values": [1, 2, 6]})))
        print("divide by zero ->", show(await client.call_tool("divide", {"a": 1, "b": 0})))
        print("bad input ->", show(await client.call_tool("add", {"a": "two"})))
        print("files ->", show(await client.call_tool("files")))
        print("ask_model ->", show(await client.call_tool("ask_model", {"question": "Hi?"})))
        print("sign_up ->", show(await client.call_tool("sign_up")))
        print("connect_account ->", show(await client.call_tool("connect_account")))
        print("roots ->", show(await client.call_tool("roots")))
        config = await client.read_resource("config://app")
        print("config://app ->", getattr(config.contents[0], "text", ""))
        await client.subscribe("notes://todo")
        await client.call_tool("write_note", {"name": "todo", "body": "Done!"})
        note = await client.read_resource("notes://todo")
        print("notes://todo ->", getattr(note.contents[0], "text", ""))
        done = await client.complete({"template": "notes://{name}"}, "name", "w")
        print("complete notes://{name} 'w' ->", done.completion.values)
        prompt = await client.get_prompt("review", {"code": "print(1)"})
        print("prompt review ->", getattr(prompt.messages[0].content, "text", ""))
        langs = await client.complete({"prompt": "review"}, "language", "")
        print("complete review.language ->", langs.completion.values)
        await client.call_tool("add_greeting_tool")
        print("greet ->", show(await client.call_tool("greet", {"name": "world"})))
        await client.ping()
        print("ping ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else str(HERE / "everything.py")))
