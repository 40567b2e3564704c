"""Handler for completion/complete (spec: server/utilities/completion).

A registered completer wins; otherwise Literal and Enum arguments complete from their
values. At most 100 values go out, with `total` and `hasMore` saying what was left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.runtime.workers import call_handler
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.catalog.visibility.shown_to import Target, served
from mcpkit.types import (
    CompleteRequestParams,
    CompleteResult,
    CompleteResultCompletion,
    PromptReference,
)
from mcpkit.types._gen_2026_07_28 import PromptReference as PromptReference2026

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["complete"]

#: A prompt's reference as each revision decodes it.
_PROMPT_REFERENCES: Final = (PromptReference, PromptReference2026)

_MAX_VALUES = 100  # server/utilities/completion: values MUST NOT exceed 100 items


def _choices(server: FeatureServer, ref_type: str, key: str, argument: str) -> list[str] | None:
    """The values an argument may take, known from its type (a Literal or an Enum), when
    no completer is registered; None when it has none to offer.

    A URI that names a concrete resource rather than a template has no arguments to
    complete: an empty answer, not an error, since the client did name something real.
    An unknown prompt or template is -32602 (server/utilities/completion, Error
    Handling: "Invalid prompt name")."""
    if ref_type == "ref/prompt":
        prompt = server.prompts.get(key)
        if prompt is None:
            raise McpError(codes.INVALID_PARAMS, f"Unknown prompt: {key}")
        return prompt.choices.get(argument)
    template = server.templates.get(key)
    if template is None:
        if key in server.resources:
            return None
        raise McpError(codes.INVALID_PARAMS, f"Unknown resource template: {key}")
    return template.choices.get(argument)


async def complete(
    server: FeatureServer, ctx: Context, params: CompleteRequestParams
) -> CompleteResult:
    """completion/complete: values for `params.argument` that start with what the user has
    typed so far; `params.context.arguments` (the arguments already filled in) is passed
    to a completer so that one argument's values can depend on another's."""
    ref = params.ref
    ref_type: str = ref.type
    # A prompt is named by its name, a template by its URI template (server/utilities/
    # completion, "Reference Types"); the completers are keyed the same way.
    key = ref.name if isinstance(ref, _PROMPT_REFERENCES) else ref.uri
    argument = params.argument.name
    value = params.argument.value
    given: dict[str, str] = dict(params.context.arguments or {}) if params.context else {}
    # Hidden: unknown, as never listed; beyond the token's scopes: refused. One not
    # registered goes on to the completers (a template's key may be a resource's URI).
    target: Target = "prompt" if ref_type == "ref/prompt" else "resource template"
    served(server, ctx, target, key, required=False)
    completer = server.completers.get((ref_type, key, argument))
    values: list[str]
    if completer is not None:
        # A sync completer may look things up slowly: like any handler, off the loop.
        values = list(
            await call_handler(completer, (value, given), in_thread=server.sync_in_thread)
        )
    else:
        choices = _choices(server, ref_type, key, argument) or []
        values = [c for c in choices if c.startswith(value)]
    # `total` counts every match, not only those sent, so that a client can show how many
    # more there are; it narrows them by sending what the user types next.
    total = len(values)
    return CompleteResult(
        completion=CompleteResultCompletion(
            values=values[:_MAX_VALUES], total=total, has_more=total > _MAX_VALUES
        )
    )
