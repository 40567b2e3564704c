"""Tools for `mcpkit list` and `call` to name and describe: registered out of alphabetical
order, with parameters that have defaults (an empty string among them), and an elicitation
form whose field defaults to the empty string."""

from __future__ import annotations

from dataclasses import dataclass

from mcpkit import Context, Server

server = Server("defaults")


@server.tool()
def search(
    query: str, lang: str = "", limit: int = 10, exact: bool = False, tags: list[str] | None = None
) -> str:
    """Searches (every parameter but the query has a default)."""
    return f"{query} lang={lang!r} limit={limit} exact={exact} tags={tags}"


@server.tool()
def forecast(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@dataclass
class Entry:
    name: str
    note: str = ""


@server.tool()
async def sign(ctx: Context) -> str:
    """Asks for a guest book entry, whose note defaults to the empty string."""
    answer = await ctx.elicit("Sign the guest book", Entry)
    if answer.action != "accept" or answer.data is None:
        return f"not signed ({answer.action})"
    return f"{answer.data.name} wrote {answer.data.note!r}"
