"""A 2025 session's own rules (`ctx.enable_components()`, `ctx.disable_components()`,
docs/compose.md, "Per session and per request"): a rule added to the session's record, bounded,
and the list_changed of each list that changed for that session alone.

Changing them is this module's; judging a request by them is `shown_to`'s, as it judges by
the server's per-request rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from mcpkit.errors import LocalProtocolError
from mcpkit.server.catalog.callers import outermost
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.visibility.every_component import effective_rules
from mcpkit.server.catalog.visibility.rules import Kind, Visibility, added, decide
from mcpkit.server.catalog.visibility.shown_to import key_of
from mcpkit.server.session import ServerSessionHandle
from mcpkit.stores.component_rules import ComponentRule

if TYPE_CHECKING:
    from mcpkit.server.catalog.visibility.shown_to import Request

__all__ = ["MAX_SESSION_RULES", "change_session"]

#: The list_changed of each kind of component.
_LIST_CHANGED: Final[dict[Kind, str]] = {
    "tool": "notifications/tools/list_changed",
    "prompt": "notifications/prompts/list_changed",
    "resource": "notifications/resources/list_changed",
    "template": "notifications/resources/list_changed",
}


#: The rules one session may have of its own (`ctx.disable_components()`): they travel with
#: its record to the store, so a handler that hides one name per call cannot grow it forever.
MAX_SESSION_RULES: Final = 256


async def change_session(ctx: Request, rule: ComponentRule, where: str) -> None:
    """Add `rule` to the rules of the session of `ctx`, and send it the list_changed of
    each list that changed for it. LocalProtocolError for a request with no session (the
    2026-07-28 era): per-request rules are `server.add_visibility_rule`'s."""
    session = ctx.session
    terms = ctx.terms
    modern = terms is not None and terms.modern
    if modern or not isinstance(session, ServerSessionHandle):
        raise LocalProtocolError(
            f"{where} changes what one session sees, and this request has none (a "
            "2026-07-28 request stands alone): decide per request with "
            "server.add_visibility_rule(), from the caller's token (docs/compose.md)"
        )
    server = outermost(ctx.server)  # the session's rules speak the outermost's names
    registries: list[tuple[Kind, Registry[Any]]] = [
        ("tool", server.tools),
        ("resource", server.resources),
        ("template", server.templates),
        ("prompt", server.prompts),
    ]
    record = session.record
    rules = added(record.components, rule)
    if len(rules) > MAX_SESSION_RULES:  # (kept on the record, in the store: bounded)
        raise ValueError(
            f"{where}: this session has {MAX_SESSION_RULES} rules of its own already "
            "(MAX_SESSION_RULES): pick components by tag rather than one name at a time"
        )
    visibility = server.visibility
    # Taken before the rule lands: a session is told only of lists that changed for it.
    before = [_shown_keys(visibility, record.components, kind, r) for kind, r in registries]
    record.components = rules
    session.dirty = True
    changed: list[str] = []
    for (kind, registry), keys in zip(registries, before, strict=True):
        method = _LIST_CHANGED[kind]
        now = _shown_keys(visibility, record.components, kind, registry)
        # Resources and templates share one list_changed, sent once for either or both.
        if now != keys and method not in changed:
            changed.append(method)
    for method in changed:
        announcement = session.announce(method)
        # None: one already waits to go, and what it tells covers this change as well.
        if announcement is not None:
            await announcement


def _shown_keys(
    visibility: Visibility, mine: tuple[ComponentRule, ...], kind: Kind, registry: Registry[Any]
) -> list[str]:
    """The keys of `registry` shown to the session, judged as `shown_to` judges its
    requests: its own rules together with the server's."""
    rules = effective_rules(visibility, mine)
    if rules is not mine:  # (what the server hides, the session may show again)
        registry = registry.unfiltered()
    shown: list[str] = []
    for item in registry.items():
        key = key_of(kind, item)
        if decide(rules, kind, key, item):
            shown.append(key)
    return shown
