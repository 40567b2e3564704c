"""An MCP server built with mcpkit whose tool asks for numbers by form elicitation: served over
stdio. `order` asks for an `Order` (a `float` ratio, an `int` quantity, a `float` speed whose
default is 1.5) and answers with what arrived, as JSON: `{"ratio": ..., "quantity": ...,
"speed": ...}` with each value's Python type name beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from mcpkit import Context, Server

__all__ = ["server"]

server = Server("mcpkit-numbers", version="1.0.0")


@dataclass
class Order:
    ratio: float
    quantity: int
    speed: float = 1.5


@server.tool()
async def order(ctx: Context) -> str:
    """Ask for an order's numbers; report them and their types as JSON."""
    answer = await ctx.elicit("Your order?", Order)
    if answer.data is None:
        return json.dumps({"action": answer.action})
    values = {"ratio": answer.data.ratio, "quantity": answer.data.quantity}
    values["speed"] = answer.data.speed
    return json.dumps({k: [v, type(v).__name__] for k, v in values.items()})


if __name__ == "__main__":
    server.run()
