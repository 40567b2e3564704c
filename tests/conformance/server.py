"""The server the MCP conformance suite tests: every tool, resource and prompt its scenarios name.

Serve it with `mcpkit run tests/conformance/server.py --transport http --host 127.0.0.1 --port N`
and point `conformance server --url http://localhost:N/mcp` at it (scripts/conformance does).
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import wave
import zlib
from typing import Any

from mcpkit import Context, Server, ToolError, audio, embedded_resource, image, text
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.types import (
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    PromptMessage,
    TextContent,
    TextResourceContents,
)

__all__ = ["server"]

server = Server("mcpkit-conformance-server", version="1.0.0")


def _png_pixel() -> bytes:
    """A 1x1 red PNG, built here so no binary file sits in the tree."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _wav_silence() -> bytes:
    """A tenth of a second of 8 kHz mono silence as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 800)
    return buffer.getvalue()


PNG = _png_pixel()
WAV = _wav_silence()

# ------------------------------------------------------------------------ tools


@server.tool()
def test_simple_text() -> TextContent:
    """Return one text block."""
    return text("This is a simple text response for testing.")


@server.tool()
def test_image_content() -> ImageContent:
    """Return one image block (a 1x1 PNG)."""
    return image(PNG, "image/png")


@server.tool()
def test_audio_content() -> object:
    """Return one audio block (a short WAV)."""
    return audio(WAV, "audio/wav")


@server.tool()
def test_embedded_resource() -> EmbeddedResource:
    """Return one embedded text resource."""
    return embedded_resource(
        "test://embedded-resource",
        "This is an embedded resource content.",
        mime_type="text/plain",
    )


@server.tool()
def test_multiple_content_types() -> list[ContentBlock]:
    """Return a text, an image and an embedded resource block."""
    return [
        text("Multiple content types test:"),
        image(PNG, "image/png"),
        embedded_resource(
            "test://mixed-content-resource",
            json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
            mime_type="application/json",
        ),
    ]


@server.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Send three info log messages while running."""
    await ctx.info("Tool execution started")
    await asyncio.sleep(0.05)
    await ctx.info("Tool processing data")
    await asyncio.sleep(0.05)
    await ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@server.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Report progress 0, 50 and 100 of 100 (when the caller sent a progress token)."""
    for step, done in enumerate((0, 50, 100)):
        if step:
            await asyncio.sleep(0.05)
        await ctx.progress(done, total=100)
    return "Tool with progress executed successfully"


@server.tool()
def test_error_handling() -> str:
    """Always fail, with an error result the model can read."""
    raise ToolError("This tool intentionally returns an error for testing")


@server.tool()
async def test_reconnection(ctx: Context) -> str:
    """Close the SSE stream mid-call (SEP-1699); the result waits for the client's GET."""
    await ctx.close_sse_stream()
    # The result is sent after the stream closed, so the client must resume to get it.
    await asyncio.sleep(0.1)
    return (
        "Reconnection test completed successfully. If you received this, the client "
        "properly reconnected after stream closure."
    )


@server.tool()
async def test_sampling(prompt: str, ctx: Context) -> str:
    """Ask the client's LLM to answer a prompt."""
    if not ctx.client_supports("sampling"):
        raise ToolError("this tool needs a client with the sampling capability")
    result = await ctx.sample(prompt, max_tokens=100)
    answer = getattr(result.content, "text", None)
    return f"LLM response: {answer if answer is not None else result.content}"


USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    },
    "required": ["username", "email"],
}


@server.tool()
async def test_elicitation(message: str, ctx: Context) -> str:
    """Ask the user for a user name and an email address."""
    if not ctx.client_supports("elicitation"):
        raise ToolError("this tool needs a client with the elicitation capability")
    answer = await ctx.elicit(message, USER_SCHEMA)
    return f"User response: action={answer.action}, content={json.dumps(answer.data)}"


DEFAULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {
            "type": "string",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "default": True},
    },
}


@server.tool()
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Elicit a form whose fields of every primitive type have defaults (SEP-1034)."""
    answer = await ctx.elicit("Please review and update the form fields", DEFAULTS_SCHEMA)
    return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.data)}"


def _titled(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in pairs]


ENUMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": _titled(
                [("value1", "First Option"), ("value2", "Second Option"), ("value3", "Third")]
            ),
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": _titled(
                    [("value1", "First Choice"), ("value2", "Second Choice"), ("value3", "Third")]
                )
            },
        },
    },
}


@server.tool()
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Elicit a form with the five enum shapes of SEP-1330."""
    answer = await ctx.elicit("Please pick from the options", ENUMS_SCHEMA)
    return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.data)}"


JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@server.tool(description="Tool with JSON Schema 2020-12 features", input_schema=JSON_SCHEMA_2020_12)
def json_schema_2020_12_tool(**arguments: Any) -> str:
    return f"received {json.dumps(arguments, sort_keys=True)}"


# -------------------------------------------------------------------- resources


@server.resource("test://static-text", mime_type="text/plain", description="A static text")
def static_text() -> str:
    return "This is the content of the static text resource."


@server.resource("test://static-binary", mime_type="image/png", description="A 1x1 PNG image")
def static_binary() -> bytes:
    return PNG


@server.resource(
    "test://template/{id}/data", mime_type="application/json", description="Data by id"
)
def template_data(id: str) -> TextResourceContents:
    body = {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}
    return TextResourceContents(
        uri=f"test://template/{id}/data",
        mime_type="application/json",
        text=json.dumps(body, separators=(",", ":")),
    )


@server.resource("test://watched-resource", mime_type="text/plain", description="Subscribable")
def watched_resource() -> str:
    return "Watched resource content"


# ---------------------------------------------------------------------- prompts


@server.prompt()
def test_simple_prompt() -> str:
    """A prompt without arguments."""
    return "This is a simple prompt for testing."


@server.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with two required arguments.

    Args:
        arg1: First test argument
        arg2: Second test argument
    """
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@server.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> list[PromptMessage]:
    """A prompt that embeds the resource named by its argument.

    Args:
        resourceUri: URI of the resource to embed
    """
    resource = embedded_resource(
        resourceUri, "Embedded resource content for testing.", mime_type="text/plain"
    )
    return [
        PromptMessage(role="user", content=resource),
        PromptMessage(role="user", content=text("Please process the embedded resource above.")),
    ]


@server.prompt()
def test_prompt_with_image() -> list[PromptMessage]:
    """A prompt with an image."""
    return [
        PromptMessage(role="user", content=image(PNG, "image/png")),
        PromptMessage(role="user", content=text("Please analyze the image above.")),
    ]


@server.completion(prompt="test_prompt_with_arguments", argument="arg1")
def arg1_values(prefix: str, context: dict[str, str]) -> list[str]:
    return [value for value in ("paris", "park", "party", "test") if value.startswith(prefix)]


# ----------------------------------------------- 2026-07-28: diagnostics (SEP-2575)


@server.tool()
async def test_missing_capability(ctx: Context) -> str:
    """Ask the client's LLM without checking the client declared sampling (the server answers
    -32021 MissingRequiredClientCapability when it did not)."""
    result = await ctx.sample("Say hello", max_tokens=10)
    return str(getattr(result.content, "text", result.content))


@server.tool()
async def test_streaming_elicitation(ctx: Context) -> str:
    """Ask the user something: under 2026-07-28 an InputRequiredResult, never a request."""
    answer = await ctx.elicit("Continue?", {"type": "object", "properties": {}})
    return f"action={answer.action}"


@server.tool()
async def test_logging_tool(ctx: Context) -> str:
    """Log at three levels: under 2026-07-28 only a request that asked for a level gets any."""
    await ctx.info("info from test_logging_tool")
    await ctx.warning("warning from test_logging_tool")
    await ctx.error("error from test_logging_tool")
    return "logged"


def _changing_tool() -> str:
    """A tool that test_trigger_tool_change adds and removes."""
    return "I come and go"


def _changing_prompt() -> str:
    """A prompt that test_trigger_prompt_change adds and removes."""
    return "I come and go"


@server.tool()
def test_trigger_tool_change() -> str:
    """Add or remove a tool, which tells subscribers the tool list changed."""
    if "changing_tool" in server.tools:
        server.remove_tool("changing_tool")
        return "removed changing_tool"
    server.add_tool(_changing_tool, name="changing_tool")
    return "added changing_tool"


@server.tool()
def test_trigger_prompt_change() -> str:
    """Add or remove a prompt, which tells subscribers the prompt list changed."""
    if "changing_prompt" in server.prompts:
        server.remove_prompt("changing_prompt")
        return "removed changing_prompt"
    server.add_prompt(_changing_prompt, name="changing_prompt")
    return "added changing_prompt"


# ------------------------------------ 2026-07-28: multi round-trip requests (SEP-2322)

NAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}


@server.tool()
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """Ask the user's name, then greet them."""
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    name = answer.data["name"] if answer.data else "stranger"
    return f"Hello, {name}!"


@server.tool()
async def test_input_required_result_sampling(ctx: Context) -> str:
    """Ask the client's LLM a question, and return its answer."""
    result = await ctx.sample(
        "What is the capital of France?", max_tokens=100, key="capital_question"
    )
    return str(getattr(result.content, "text", result.content))


@server.tool()
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """Ask the client's roots, and list them."""
    roots = await ctx.list_roots(key="client_roots")
    return "Roots: " + ", ".join(root.uri for root in roots)


@server.tool()
async def test_input_required_result_request_state(ctx: Context) -> str:
    """Ask for a confirmation; its answer comes back through the sealed requestState."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    answer = await ctx.elicit("Confirm?", schema, key="confirm")
    return f"state-ok: {answer.action}"


@server.tool()
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Ask three things at once: a name, a greeting from the LLM, and the roots."""
    name, greeting, roots = await asyncio.gather(
        ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name"),
        ctx.sample("Generate a greeting", max_tokens=50, key="greeting"),
        ctx.list_roots(key="client_roots"),
    )
    said = getattr(greeting.content, "text", "")
    return f"{said} {name.data['name'] if name.data else ''} ({len(roots)} roots)"


@server.tool()
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """Ask two questions, one after the other: two rounds, each with its own state."""
    name = await ctx.elicit("Step 1: What is your name?", NAME_SCHEMA, key="step1")
    color_schema = {
        "type": "object",
        "properties": {"color": {"type": "string"}},
        "required": ["color"],
    }
    color = await ctx.elicit("Step 2: What is your favorite color?", color_schema, key="step2")
    who = name.data["name"] if name.data else "?"
    return f"{who} likes {color.data['color'] if color.data else '?'}"


@server.tool()
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Ask for a confirmation (the suite then sends back a tampered requestState)."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    answer = await ctx.elicit("Confirm?", schema, key="confirm")
    return f"confirmed: {answer.action}"


@server.tool()
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """Ask only what the client can answer: elicitation and sampling where declared."""
    asks: list[Any] = []
    if ctx.client_supports("elicitation"):
        asks.append(ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name"))
    if ctx.client_supports("sampling"):
        asks.append(ctx.sample("Generate a greeting", max_tokens=50, key="greeting"))
    answers = await asyncio.gather(*asks)
    return f"{len(answers)} answers"


@server.prompt()
async def test_input_required_result_prompt(ctx: Context) -> str:
    """A prompt that asks the user for its context first."""
    schema = {
        "type": "object",
        "properties": {"context": {"type": "string"}},
        "required": ["context"],
    }
    answer = await ctx.elicit("What context should the prompt use?", schema, key="user_context")
    return f"Use this context: {answer.data['context'] if answer.data else ''}"


@server.tool(headers={"region": "Region"})
def test_custom_header(region: str, query: str = "") -> str:
    """Run a query in a region, which HTTP clients mirror into the Mcp-Param-Region header."""
    return f"{query or 'nothing'} in {region}"


# ----------------------------------------------------------------------- skills
# The sep-2640-skills-* scenarios find the skills through skills/list and resources/list; the
# directory scenario reads the first skill's root and wants a subdirectory in it.

server.add_skill(
    """---
name: pdf-processing
description: Extract, fill, and assemble PDF documents
license: Apache-2.0
metadata:
  version: "2.1.0"
---

# PDF processing

Fill forms as `references/FORMS.md` says; pick an invoice template from `templates/`.
""",
    files={
        "references/FORMS.md": "# Forms\n\nEvery field, in order.\n",
        "templates/invoice.md": "# Invoice\n\nNumber, date, lines, total.\n",
    },
)
server.add_skill(
    "---\nname: refunds\ndescription: Process customer refund requests per company policy\n"
    "---\n\nRefund within 30 days of purchase.\n",
    prefix="acme/billing",
)


# ------------------------------ 2026-07-28: the tasks extension (SEP-2663)
# Tools that support tasks (task=True, or "required") become tasks for a 2026-07-28 client that
# declares io.modelcontextprotocol/tasks; a 2025-11-25 client calls them as tasks itself.


@server.tool()
def greet(name: str) -> str:
    """Greet someone, at once (no task)."""
    return f"Hello, {name}!"


@server.tool(task=True)
async def slow_compute(seconds: float = 0, label: str = "") -> str:
    """Wait `seconds`, then say so: a task for clients that take one."""
    await asyncio.sleep(seconds)
    return f"{label or 'compute'}: done after {seconds:g} s"


@server.tool(task="required")
async def failing_job() -> str:
    """Always fails, after a second, with a tool error (its task completes with isError)."""
    await asyncio.sleep(1)
    raise ToolError("the job failed")


@server.tool(task=True)
async def protocol_error_job() -> str:
    """Fails with a JSON-RPC error (its task fails with it)."""
    await asyncio.sleep(0.1)
    raise McpError(codes.INTERNAL_ERROR, "the job broke down")


CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "confirm": {"type": "boolean"}},
}


@server.tool(task=True)
async def confirm_delete(filename: str, ctx: Context) -> str:
    """Ask for a confirmation, then "delete" the file."""
    answer = await ctx.elicit(f"Delete {filename}?", CONFIRM_SCHEMA)
    confirmed = answer.action == "accept" and bool(answer.data and answer.data.get("confirm"))
    return f"{filename}: {'deleted' if confirmed else 'kept'}"


@server.tool(task=True)
async def multi_input(ctx: Context) -> str:
    """Ask two questions at once."""
    first, second = await asyncio.gather(
        ctx.elicit("First question", CONFIRM_SCHEMA),
        ctx.elicit("Second question", CONFIRM_SCHEMA),
    )
    return f"answers: {first.action}, {second.action}"


@server.tool(task="required", task_begins="in_handler")
async def test_tool_with_task(ctx: Context) -> str:
    """Ask the user's name in the call itself, then go on as a task that greets them."""
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    await ctx.begin_task()
    await asyncio.sleep(0.2)
    name = answer.data["name"] if answer.data else "stranger"
    return f"Hello, {name}!"
