"""The server the `mcpkit` verb tests talk to: a tool for every way a call can go (typed
arguments, an error result, media, progress and logs, a slow call that records its
cancellation, a crash, questions back to the client), a resource, a template and a prompt."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mcpkit import Context, Server, image

server = Server("verbs-test", version="1.2.3", instructions="A server for the CLI tests.")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str, tags: list[str] | None = None, loud: bool = False) -> str:
    """Echo text, with its tags."""
    said = text.upper() if loud else text
    return said + (f" [{', '.join(tags)}]" if tags else "")


@server.tool()
def fail() -> str:
    """Always fails (an isError result)."""
    raise ValueError("the disk is full")


@server.tool()
def picture() -> object:
    """A 2 KiB PNG image."""
    return image(b"\x89PNG\r\n\x1a\n" + bytes(2040), "image/png")


@server.tool()
async def chatty(ctx: Context) -> str:
    """Logs a line and reports progress twice."""
    await ctx.info("step one")
    await ctx.progress(1, 2, "half")
    await ctx.progress(2, 2, "all")
    return "done"


@server.tool()
async def slow(ctx: Context) -> str:
    """Reports progress, then waits to be cancelled; records that it was (VERBS_MARKER)."""
    await ctx.progress(0, 1, "started")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        marker = os.environ.get("VERBS_MARKER")
        if marker:
            Path(marker).write_text("cancelled")
        raise
    return "finished"


@server.tool()
def die() -> str:
    """The process exits in the middle of the call."""
    os._exit(7)


@dataclass
class Booking:
    name: str
    seats: int = 2
    seating: Literal["indoor", "outdoor"] = "indoor"


@server.tool()
async def book(ctx: Context) -> str:
    """Asks for a booking (elicitation, form mode)."""
    answer = await ctx.elicit("Who is the booking for?", Booking)
    if answer.action != "accept" or answer.data is None:
        return f"no booking ({answer.action})"
    b = answer.data
    return f"booked {b.seats} {b.seating} seats for {b.name}"


@server.tool()
async def link(ctx: Context) -> str:
    """Sends the user to a URL (elicitation, URL mode)."""
    result = await ctx.elicit_url("Link your account", "https://example.com/link", "link-1")
    return f"link: {result.action}"


@server.tool()
async def ask_model(ctx: Context) -> str:
    """Asks the client's model (sampling)."""
    result = await ctx.sample("Say hello", max_tokens=20)
    return "model said: " + getattr(result.content, "text", "")


@server.tool()
async def roots(ctx: Context) -> list[str]:
    """The client's roots."""
    return [root.uri for root in await ctx.list_roots()]


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of one HTTP header of this request ("none" over stdio)."""
    info = ctx.request_info
    return (info.header(name) if info is not None else None) or "none"


@server.resource("memo://hello", mime_type="text/plain", description="A greeting")
def hello() -> str:
    return "hello, reader"


@server.resource("notes://{name}", mime_type="text/plain")
def note(name: str) -> str:
    """A note by name."""
    return f"note {name}"


@server.prompt()
def greet(name: str, style: str = "plain") -> str:
    """Greet someone."""
    return f"Greet {name} in a {style} way."


@server.tool(description="[/] [bold]not markup\x1b[2J")
async def hostile(ctx: Context) -> str:
    """Text that would be rich markup or terminal escapes if shown carelessly."""
    await ctx.info("[/red] log \x1b]0;retitled\x07")
    await ctx.progress(1, 2, "[/] half \x1b[1A")
    return "\x1b[31mred?[/] [link=x]no[/link]"


@server.tool(task="required")
async def report(pages: int) -> str:
    """Only runs as a task (SEP-1686)."""
    return f"{pages} pages"
