"""Which capability each method needs (spec: basic/lifecycle, Capability Negotiation).

A request for a feature the receiver did not declare is refused with -32601; a request to a
peer that did not declare the feature is never sent.

basic/lifecycle, Operation: both sides "Only use capabilities that were successfully
negotiated". A capability is declared by its presence, most often as an empty object
(`"tools": {}`); a sub-capability such as `listChanged` or `subscribe` is a flag inside it.
Paths use the generated structs' attribute names (`list_changed`), which match a dict's keys
only where the wire name has no capital letter.
"""

from __future__ import annotations

from typing import Any, Final, cast

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.jsonrpc import field_of

__all__ = [
    "RELATED_TASK",
    "REQUIRED_CAPABILITY",
    "TASK_CAPABILITY",
    "capability_error",
    "check_request_to_client",
    "check_task_augmentation",
    "has_capability",
    "task_params",
    "undeclared",
]

# method -> path of attribute names into the receiver's capabilities struct. The session checks
# requests only (both ways): the notification entries record which capability allows each,
# and nothing enforces them here.
REQUIRED_CAPABILITY: Final[dict[str, tuple[str, ...]]] = {
    # Served by servers (server capabilities).
    "tools/list": ("tools",),
    "tools/call": ("tools",),
    "resources/list": ("resources",),
    "resources/templates/list": ("resources",),
    "resources/read": ("resources",),
    "resources/subscribe": ("resources", "subscribe"),
    "resources/unsubscribe": ("resources", "subscribe"),
    "prompts/list": ("prompts",),
    "prompts/get": ("prompts",),
    "logging/setLevel": ("logging",),
    "completion/complete": ("completions",),
    "notifications/tools/list_changed": ("tools", "list_changed"),
    "notifications/resources/list_changed": ("resources", "list_changed"),
    "notifications/resources/updated": ("resources", "subscribe"),
    "notifications/prompts/list_changed": ("prompts", "list_changed"),
    "notifications/message": ("logging",),
    # Served by clients (client capabilities).
    "sampling/createMessage": ("sampling",),
    "elicitation/create": ("elicitation",),
    "roots/list": ("roots",),
    "notifications/roots/list_changed": ("roots", "list_changed"),
    # Served by either side (basic/utilities/tasks): a peer without `tasks` has no tasks to
    # get, and lists or cancels them only where it declared so.
    "tasks/get": ("tasks",),
    "tasks/result": ("tasks",),
    "tasks/list": ("tasks", "list"),
    "tasks/cancel": ("tasks", "cancel"),
}

# method -> the receiver's capability that lets it be task-augmented ("Capabilities": the
# set under `tasks.requests` is exhaustive).
TASK_CAPABILITY: Final[dict[str, tuple[str, ...]]] = {
    "tools/call": ("tasks", "requests", "tools", "call"),
    "sampling/createMessage": ("tasks", "requests", "sampling", "create_message"),
    "elicitation/create": ("tasks", "requests", "elicitation", "create"),
}


#: The `_meta` key that ties a message to its task ("Associating Task-Related Messages").
RELATED_TASK: Final = "io.modelcontextprotocol/related-task"


def task_params(params: Any) -> Any:
    """The `task` field of a request's params (a dict or a struct), or None. Its presence is
    what makes a request task-augmented (basic/utilities/tasks, Creating Tasks)."""
    return field_of(params, "task")


def has_capability(capabilities: Any, path: tuple[str, ...]) -> bool:
    """Whether the capabilities struct declares `path` (each step present and not false)."""
    node = capabilities
    for name in path:
        # Capabilities decode into structs down to the objects the schema leaves open (`form`,
        # `tools`, `experimental`), which stay dicts.
        if isinstance(node, dict):
            node = cast("dict[str, Any]", node).get(name)
        else:
            node = getattr(node, name, None)
        # Absent is undeclared; so is an explicit false (`"listChanged": false`). An empty
        # object is declared: that is how most capabilities are.
        if node is None or node is False:
            return False
    return True


def undeclared(capabilities: Any) -> dict[str, tuple[str, ...]]:
    """The methods of `REQUIRED_CAPABILITY` whose capability `capabilities` does not declare,
    each with that capability's path: worked out once for a set of capabilities, so that a
    request's check is one lookup."""
    return {
        method: path
        for method, path in REQUIRED_CAPABILITY.items()
        if not has_capability(capabilities, path)
    }


def capability_error(method: str, path: tuple[str, ...], whose: str) -> str:
    """The -32601 message for a request of a feature `whose` side did not declare."""
    # -32601 for a feature the receiver did not offer, as client/roots and
    # server/utilities/completion (Error Handling) name it; the message says which capability.
    return f"Method not found: {method} ({whose} did not declare the '{'.'.join(path)}' capability)"


def check_task_augmentation(method: str, caps: Any, peer: str) -> None:
    """basic/utilities/tasks, Capability Negotiation: a request is task-augmented only where
    the receiver declared it (`tasks.requests...`; the set is exhaustive, so a request type it
    does not list cannot be a task)."""
    path = TASK_CAPABILITY[method]
    if not has_capability(caps, path):
        # `path` holds struct attribute names (`create_message`); the peer's author knows
        # the wire names, which the method spells (`sampling.createMessage`).
        wire = "tasks.requests." + method.replace("/", ".")
        raise LocalProtocolError(
            f"the {peer} did not declare '{wire}', so {method} cannot be sent to it as a task"
        )


def check_request_to_client(caps: Any, method: str, params: Any) -> None:
    """Raise LocalProtocolError when a server may not send `method` with `params` to a client
    that declared `caps` (its phase allowing it: `ServerSession.check_outbound_request`)."""
    # basic/lifecycle, Operation: sampling, elicitation and roots only where the client
    # declared them. The finer checks below assume the feature itself was declared.
    path = REQUIRED_CAPABILITY.get(method)
    if path is not None and not has_capability(caps, path):
        raise LocalProtocolError(
            f"the client did not declare the '{'.'.join(path)}' capability, so {method} "
            "cannot be sent to it"
        )
    if method in TASK_CAPABILITY and task_params(params) is not None:
        check_task_augmentation(method, caps, "client")
    if method == "elicitation/create":
        _check_elicitation_mode(caps, params)
    # client/sampling, Tools in Sampling: a request with `tools` needs `sampling.tools`.
    elif method == "sampling/createMessage" and field_of(params, "tools"):
        if not has_capability(caps, ("sampling", "tools")):
            raise LocalProtocolError(
                "the client did not declare 'sampling.tools', so a sampling request with "
                "tools cannot be sent to it (SEP-1577)"
            )


def _check_elicitation_mode(caps: Any, params: Any) -> None:
    """client/elicitation, Capabilities: a server sends no elicitation in a mode the client
    did not declare, and an empty `elicitation` object means form mode only."""
    mode = field_of(params, "mode") or "form"  # `mode` may be left out for form mode
    elicitation = caps.elicitation
    declared_modes = {m for m in ("form", "url") if has_capability(elicitation, (m,))}
    if not declared_modes:
        declared_modes = {"form"}  # (the 2025-06-18 shape: no modes existed yet)
    if mode not in declared_modes:
        raise LocalProtocolError(
            f"the client did not declare elicitation mode {mode!r} "
            f"(it supports: {', '.join(sorted(declared_modes))})"
        )
