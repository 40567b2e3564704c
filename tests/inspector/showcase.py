"""A server for the inspector's browser tests: what examples/everything.py has, plus an image
result and a tool whose input nests an object, an array and an enum."""

from __future__ import annotations

import asyncio
import struct
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec

from mcpkit import Context, Server, image, resource_link, text

server = Server("showcase", version="1.2.3", instructions="Try every panel.")


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@server.tool()
async def add(a: int, b: int, ctx: Context) -> int:
    """Add two numbers, with a log message."""
    await ctx.info(f"adding {a} and {b}")
    return a + b


@server.tool()
def picture(size: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8) -> list[object]:
    """A red square, and a link to the settings."""
    return [
        text("a red square"),
        image(_png(size, size, (220, 0, 0)), "image/png"),
        resource_link("config://app", "settings"),
    ]


@dataclass
class Address:
    street: str
    city: str = "Paris"


@dataclass
class Item:
    sku: str
    quantity: Annotated[int, msgspec.Meta(ge=1)] = 1


@server.tool()
def order(
    customer: str,
    address: Address,
    items: list[Item],
    speed: Literal["standard", "express"] = "standard",
    gift: bool = False,
) -> str:
    """Nested object, array of objects, enum and boolean.

    Args:
        customer: Who the order is for.
        address: Where to deliver it.
        items: What to send, and how many of each.
        speed: How fast it travels.
        gift: Wrap it as a gift.
    """
    lines = ", ".join(f"{item.quantity}x{item.sku}" for item in items)
    return f"{customer} at {address.street}, {address.city}: {lines} ({speed}, gift={gift})"


@server.tool()
async def ask_model(question: str, ctx: Context) -> str:
    """Progress, then sampling: the bar shows while the page holds the request."""
    await ctx.progress(1, total=2, message="asking")
    result = await ctx.sample(question, max_tokens=50)
    await ctx.progress(2, total=2)
    return "model said: " + getattr(result.content, "text", "?")


@server.tool()
async def slow(ctx: Context, seconds: float = 60.0) -> str:
    """Reports progress, then waits: a call to cancel."""
    await ctx.progress(1, total=3, message="started")
    await asyncio.sleep(seconds)
    return "done"


@dataclass
class Profile:
    name: Annotated[str, msgspec.Meta(min_length=1)]
    size: Literal["s", "m", "l"] = "m"
    toppings: list[Literal["cheese", "ham"]] = field(default_factory=list)


@server.tool()
async def sign_up(ctx: Context) -> str:
    """Elicitation (form mode)."""
    answer = await ctx.elicit("Tell us about yourself", Profile)
    if answer.data is None:
        return f"not signed up ({answer.action})"
    return f"signed up {answer.data.name} ({answer.data.size})"


@server.resource("config://app", mime_type="application/json", title="Settings")
def config() -> dict[str, object]:
    return {"theme": "dark", "retries": 3}


@server.resource("notes://{name}", mime_type="text/plain", description="A note by name")
def note(name: str) -> str:
    return f"the note called {name}"


@server.prompt(title="Code review")
def review(code: str, language: Literal["python", "go"] = "python") -> str:
    """Review some code."""
    return f"Please review this {language} code:\n{code}"
