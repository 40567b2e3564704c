"""What a tool can ask of the client: sampling, elicitation (form and URL), roots and logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mcpkit import Context, Server, UrlElicitationRequired

server = Server("client-features-example", version="1.0.0")


@server.tool()
async def summarize(text: str, ctx: Context) -> str:
    """Ask the client's model for a one-line summary (sampling)."""
    await ctx.info(f"summarizing {len(text)} characters")
    result = await ctx.sample(f"Summarize in one line:\n{text}", max_tokens=60)
    return getattr(result.content, "text", "")


@dataclass
class Booking:
    name: str
    seats: int = 2
    seating: Literal["indoor", "outdoor"] = "indoor"


@server.tool()
async def book_table(ctx: Context) -> str:
    """Ask the user for details with a form (elicitation, form mode)."""
    answer = await ctx.elicit("Who is the booking for?", Booking)
    if answer.action != "accept" or answer.data is None:
        return f"no booking ({answer.action})"
    b = answer.data
    return f"booked {b.seats} {b.seating} seats for {b.name}"


@server.tool()
async def link_account(ctx: Context) -> str:
    """Send the user to a web page (elicitation, URL mode), then say it is done."""
    if not ctx.client_supports("elicitation.url"):
        # The client cannot open URLs itself: tell it, with the -32042 error, what to do.
        raise UrlElicitationRequired(
            [
                {
                    "mode": "url",
                    "elicitationId": "link-1",
                    "url": "https://example.com/link",
                    "message": "Link your account first",
                }
            ]
        )
    result = await ctx.elicit_url("Link your account", "https://example.com/link", "link-1")
    await ctx.complete_elicitation("link-1")
    return f"link: {result.action}"


@server.tool()
async def workspace(ctx: Context) -> list[str]:
    """The client's roots (the directories it lets us work in)."""
    return [root.uri for root in await ctx.list_roots()]


if __name__ == "__main__":
    server.run()
