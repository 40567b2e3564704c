"""Numbers on the command line: a nested integer argument, and an elicitation form with a
`float` field whose default is 1.5 and an `int` field (issue: the command line refused any
non-whole number in an answer, and a whole 3.0 for an integer the server takes)."""

from __future__ import annotations

from dataclasses import dataclass

from mcpkit import Context, Server

server = Server("numbers")


@dataclass
class Order:
    item: str
    quantity: int


@server.tool()
def place(order: Order) -> str:
    """Places an order."""
    return f"{order.quantity} x {order.item}"


@server.tool()
def scale(factor: int) -> int:
    """Doubles an integer."""
    return factor * 2


@dataclass
class Weight:
    kilos: float = 1.5
    parcels: int = 2


@server.tool()
async def weigh(ctx: Context) -> str:
    """Asks for a weight (a float field with a default) and a count of parcels."""
    answer = await ctx.elicit("How heavy?", Weight)
    if answer.action != "accept" or answer.data is None:
        return f"nothing weighed ({answer.action})"
    return f"{answer.data.parcels} parcels of {answer.data.kilos!r} kg"
