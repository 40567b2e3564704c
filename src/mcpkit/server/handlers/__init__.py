"""Protocol method -> handler for everything a server answers beyond the lifecycle.

Each handler is `async (server, ctx, params) -> result struct`, `server` being what it needs
of the server (`catalog.feature_server.FeatureServer`: `ctx.server` itself); raising McpError
answers with that error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.handlers import (
    completion,
    features,
    listen,
    logging,
    skills,
    tasks,
    tasks_extension,
)
from mcpkit.server.middleware import protocol_requests

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = [
    "HANDLERS",
    "HANDLERS_BY_ERA",
    "MODERN_HANDLERS",
    "LEGACY_HANDLERS",
    "Handler",
    "Route",
]

#: Every handler's shape. `server` is `ctx.server`, passed typed as the `FeatureServer`
#: Protocol, all a handler may use of it: naming `Server` here would close an import cycle
#: (server -> handlers -> server).
Handler = Callable[[FeatureServer, "Context", Any], Awaitable[Any]]


class Route(NamedTuple):
    """What serves one method, by the era of the request: `legacy` a request of a session
    (2025-11-25 and before: `initialize` settled its terms), `modern` a request that
    carries its terms in its `_meta` (2026-07-28). None where the method has no handler in
    that era; whether the method exists in a revision at all is the protocol's to say
    (`mcpkit.types.methods`, and the extensions' tables), before the request gets here."""

    legacy: Handler | None
    modern: Handler | None


def _both(handler: Handler) -> Route:
    """A method both eras have, served the same way."""
    return Route(handler, handler)


#: The one handler table: method -> its `Route`. The tasks extension's methods (SEP-2663,
#: `mcpkit.protocol.extensions.TASKS`) take the place of 2025-11-25's of the same name for
#: modern requests (the protocol lets a request reach one only where it
#: declared the extension); skills' (SEP-2640) are reached only where the server serves
#: skills, since only then do its sessions know the methods (`extension_methods`).
HANDLERS: Mapping[str, Route] = MappingProxyType(
    {
        "tools/list": _both(features.list_tools),
        "tools/call": _both(features.call_tool),
        "resources/list": _both(features.list_resources),
        "resources/templates/list": _both(features.list_resource_templates),
        "resources/read": _both(features.read_resource),
        # 2026-07-28 replaced these, logging/setLevel and the task polls with
        # subscriptions/listen, per-request `_meta` and the tasks extension: no modern route.
        "resources/subscribe": Route(features.subscribe, None),
        "resources/unsubscribe": Route(features.unsubscribe, None),
        "prompts/list": _both(features.list_prompts),
        "prompts/get": _both(features.get_prompt),
        "completion/complete": _both(completion.complete),
        "logging/setLevel": Route(logging.set_level, None),
        "tasks/get": Route(tasks.get_task, tasks_extension.get_task),
        "tasks/result": Route(tasks.task_result, None),
        "tasks/list": Route(tasks.list_tasks, None),
        "tasks/cancel": Route(tasks.cancel_task, tasks_extension.cancel_task),
        "tasks/update": Route(None, tasks_extension.update_task),
        "subscriptions/listen": Route(None, listen.listen),
        "skills/list": _both(skills.list_skills),
        "skills/get": _both(skills.get_skill),
        "resources/directory/read": _both(skills.read_directory),
        # Reached only where a typed middleware has a hook for them
        # (`middleware.protocol_requests`): else the protocol session answers them itself.
        "initialize": Route(protocol_requests.initialize, None),
        "ping": Route(protocol_requests.ping, None),
        "server/discover": Route(None, protocol_requests.discover),
    }
)


#: `HANDLERS` by era, as plain dicts of the methods each has a handler for, with no `Route`
#: read.
LEGACY_HANDLERS: Final[dict[str, Handler]] = {
    method: route.legacy for method, route in HANDLERS.items() if route.legacy is not None
}
MODERN_HANDLERS: Final[dict[str, Handler]] = {
    method: route.modern for method, route in HANDLERS.items() if route.modern is not None
}
#: What a request's handler is looked up in: `HANDLERS_BY_ERA[terms.modern][method]` (a
#: session's requests the first, a modern request's the second).
HANDLERS_BY_ERA: Final[tuple[dict[str, Handler], dict[str, Handler]]] = (
    LEGACY_HANDLERS,
    MODERN_HANDLERS,
)
