"""What `ctx.elicit()` answers in a tool registered with `when_cannot_ask=` when the client
cannot answer a form elicitation (`mcpkit.server.catalog.calling.ask_fallback` wraps the tool): the
generated argument's yes ("confirm"), or the user's decision on this server's approval page
("url", `mcpkit.server.asking.out_of_band`); "error", the default, never gets here.

A fallback answers yes/no questions only (a form with no fields, or one boolean field: the
`bool` one-value form among them), since neither an argument set by the model nor a click
on a page can carry the fields of a form; any other question raises TypeError at the ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec

from mcpkit.errors import PeerError
from mcpkit.protocol import codes
from mcpkit.server.catalog.calling.ask_fallback import CannotAsk, Fallback, FallbackCall
from mcpkit.types import CallToolResult, ElicitResult, TextContent

__all__ = ["answer_or_fall_back", "yes_content"]


async def answer_or_fall_back(
    ctx: Any,
    call: FallbackCall,
    message: str,
    requested: dict[str, Any],
    ask: Callable[[], Awaitable[ElicitResult]],
) -> ElicitResult:
    """The answer to a form question of a tool with a fallback: asked as usual where the
    client can answer; else (or where it declared elicitation but knows no such method) the
    fallback's: "accept" for a confirmed call, or the call ends with what to do."""
    # A fallback stands in for the user only where they cannot be reached: a client that
    # declared form elicitation is asked, whatever fallback the tool has.
    if ctx.client_supports("elicitation.form"):
        try:
            return await ask()
        except PeerError as exc:  # declared, and then not implemented: it misreported
            if exc.code != codes.METHOD_NOT_FOUND:
                raise
    # Before the branches: a question no fallback can answer fails the same way under "url"
    # as under "confirm", and before an approval link is made for it.
    content = yes_content(call.fallback.tool, requested)
    if call.fallback.when == "url":
        from mcpkit.server.asking.out_of_band import approve_out_of_band

        return await approve_out_of_band(ctx, call, message, content)
    # The model set the generated argument, which its description allows only once the user
    # agreed to this call: the yes is theirs, relayed. Without it the call ends asking for it.
    if call.confirmed:
        return ElicitResult(action="accept", content=content)
    raise CannotAsk(_ask_the_user(call.fallback, message))


def yes_content(tool: str, requested: dict[str, Any]) -> dict[str, Any]:
    """The content of a yes to `requested`, a form with no fields or one boolean field;
    TypeError for any other form (a fallback cannot fill one in)."""
    properties: dict[str, Any] = requested.get("properties") or {}
    if not properties:
        return {}
    if len(properties) == 1:
        (name, prop), *_ = properties.items()
        if isinstance(prop, dict) and cast("dict[str, Any]", prop).get("type") == "boolean":
            return {name: True}
    raise TypeError(
        f"tool {tool!r} has a when_cannot_ask fallback, which answers yes/no questions only "
        "(a form with no fields, or one boolean field such as ctx.elicit(message, bool)); "
        f"this one asks for {', '.join(properties)}: ask it where the client can answer "
        '(check ctx.client_supports("elicitation.form") first)'
    )


def _ask_the_user(fallback: Fallback, message: str) -> CallToolResult:
    """The result a "confirm" call ends with before the user agreed. An error result, not a
    protocol error (server/tools, "Error Handling"): the model reads it and can act on it,
    asking the user and calling again. The question is JSON-quoted so that its text cannot
    pass for more of the instruction around it."""
    # "this tool", not its name: a mounted or renamed tool is called by another name.
    text = (
        f"This call needs the user's agreement, and this client cannot ask for it. Ask the "
        f"user: {msgspec.json.encode(message).decode()}. Only if they agree, call this tool "
        f"again with the same arguments and {fallback.argument}=true."
    )
    return CallToolResult(content=[TextContent(text=text)], is_error=True)
