"""Protocol method -> handler for everything a server answers beyond the lifecycle.

Each handler is `async (server, ctx, params) -> result struct`, `server` being what it needs
of the server (`interfaces.FeatureServer`: `ctx.server` itself); raising McpError answers
with that error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcpkit.server.handlers import (
    completion,
    features,
    listen,
    logging,
    skills,
    tasks,
    tasks_extension,
)
from mcpkit.server.interfaces import FeatureServer

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["EXTENSION_HANDLERS", "HANDLERS", "STATELESS_HANDLERS", "Handler"]

Handler = Callable[[FeatureServer, "Context", Any], Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    "tools/list": features.list_tools,
    "tools/call": features.call_tool,
    "resources/list": features.list_resources,
    "resources/templates/list": features.list_resource_templates,
    "resources/read": features.read_resource,
    "resources/subscribe": features.subscribe,
    "resources/unsubscribe": features.unsubscribe,
    "prompts/list": features.list_prompts,
    "prompts/get": features.get_prompt,
    "completion/complete": completion.complete,
    "logging/setLevel": logging.set_level,
    "tasks/get": tasks.get_task,
    "tasks/result": tasks.task_result,
    "tasks/list": tasks.list_tasks,
    "tasks/cancel": tasks.cancel_task,
    "subscriptions/listen": listen.listen,
    # The skills extension (SEP-2640): reached only where the server serves skills, since
    # only then do its sessions know the methods (`extension_methods`).
    "skills/list": skills.list_skills,
    "skills/get": skills.get_skill,
    "resources/directory/read": skills.read_directory,
}

#: The handlers of each extension's methods (`mcpkit.protocol.extensions`), by extension id.
EXTENSION_HANDLERS: dict[str, dict[str, Handler]] = {
    "io.modelcontextprotocol/tasks": {
        "tasks/get": tasks_extension.get_task,
        "tasks/update": tasks_extension.update_task,
        "tasks/cancel": tasks_extension.cancel_task,
    },
}

#: What a request that carries its own terms (2026-07-28) is served by: the same handlers,
#: with the extensions' methods in place of the 2025-11-25 methods of the same name (the
#: session lets a request reach one only where it declared the extension).
STATELESS_HANDLERS: dict[str, Handler] = {
    **HANDLERS,
    **{m: h for table in EXTENSION_HANDLERS.values() for m, h in table.items()},
}
