"""Tools: type hints become the input and output schemas, docstrings the descriptions.

Run it over stdio with `mcpkit run examples/tools.py` (or `python examples/tools.py`).
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from mcpkit import Context, Server, ToolError, image
from mcpkit.types import ToolAnnotations

server = Server("tools-example", version="1.0.0")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers (an int result is wrapped as {"result": ...} structured output)."""
    return a + b


@dataclass
class Forecast:
    city: str
    celsius: float
    sky: Literal["clear", "cloudy", "rain"]


@server.tool(title="Weather forecast", annotations=ToolAnnotations(read_only_hint=True))
def forecast(city: str, days: Annotated[int, msgspec.Meta(ge=1, le=7)] = 1) -> Forecast:
    """Tomorrow's weather for a city.

    Args:
        city: the city's name
        days: how many days ahead, 1 to 7
    """
    if not city.strip():
        raise ToolError("give a city name")  # an isError result the model can act on
    return Forecast(city=city, celsius=18.5 + days, sky="clear")


@server.tool()
async def count_to(n: int, ctx: Context) -> str:
    """Count slowly, reporting progress as it goes."""
    for i in range(1, n + 1):
        await ctx.progress(i, total=n, message=f"at {i}")
        await asyncio.sleep(0.01)
    return f"counted to {n}"


@server.tool()
def days_until(day: datetime.date, today: datetime.date | None = None) -> datetime.timedelta:
    """How long until a day (`format: date` in, `format: duration` out)."""
    return day - (today or datetime.date.today())


@server.tool()
def red_dot() -> object:
    """Return an image content block instead of text."""
    # A 1x1 red RGBA PNG: signature, IHDR, IDAT (zlib), IEND, each chunk with its CRC.
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d4944415478da63f8cfc0f01f00050001ff56c72f0d"
        "0000000049454e44ae426082"
    )
    return image(png, "image/png")


if __name__ == "__main__":
    server.run()
