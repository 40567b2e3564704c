"""Composing servers: a hub that serves a notes server and a units server under namespaces,
and a shared "about" tool of its own (docs/server.md, "Composing servers").

    mcpkit run examples/mounted.py      # or: python examples/mounted.py

The hub's clients see `about`, `notes_add`, `notes_search`, `units_convert`, the resources
`notes://notes/all` and `notes://notes/{index}`, and the prompt `notes_digest`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from mcpkit import Context, Server


@contextlib.asynccontextmanager
async def notebook(server: Server) -> AsyncIterator[list[str]]:
    notes = ["buy milk"]  # stands for a database opened when serving starts
    try:
        yield notes  # the notes server's ctx.lifespan_state, inside the hub's lifespan
    finally:
        notes.clear()


notes = Server("notes", lifespan=notebook)


@notes.tool
async def add(text: str, ctx: Context) -> int:
    """Keep a note; returns how many there are. Subscribers of notes://notes/all hear of it."""
    kept: list[str] = ctx.lifespan_state
    kept.append(text)
    await ctx.server.notify_resource_updated("notes://all")  # the hub rewrites the URI
    return len(kept)


@notes.tool
async def search(word: str, ctx: Context) -> list[str]:
    """The notes that contain `word`, read through this server's own resource."""
    contents = await ctx.read_resource("notes://all")
    text = getattr(contents[0], "text", "")
    return [line for line in text.splitlines() if word in line]


@notes.resource("notes://all", mime_type="text/plain")
def all_notes(ctx: Context) -> str:
    return "\n".join(ctx.lifespan_state)


@notes.resource("notes://{index}", mime_type="text/plain")
def one_note(index: int, ctx: Context) -> str:
    return str(ctx.lifespan_state[index])


@notes.prompt
def digest(style: Literal["short", "long"] = "short") -> str:
    return f"Write a {style} digest of notes://notes/all."


units = Server("units")
FACTORS = {("km", "mi"): 0.621371, ("mi", "km"): 1.609344, ("kg", "lb"): 2.204623}


@units.tool
def convert(value: float, unit: Literal["km", "mi", "kg"], to: Literal["km", "mi", "lb"]) -> float:
    """Convert a length or a weight."""
    factor = FACTORS.get((unit, to))
    if factor is None:
        raise ValueError(f"cannot convert {unit} to {to}")
    return round(value * factor, 3)


server = Server("hub", version="1.0.0", instructions="Notes and unit conversions.")


@server.tool
def about() -> str:
    """What this hub serves."""
    return ", ".join(f"{m.namespace}: {m.server.name}" for m in server.mounts)


server.mount(notes, namespace="notes")
server.mount(units, namespace="units")

if __name__ == "__main__":
    server.run()
