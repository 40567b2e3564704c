"""What the request handlers need of the server they answer for, as a Protocol.

`Server` builds the handlers' `Context` and calls them, so a handler naming `Server` would
close an import cycle (server -> handlers -> server). `handlers/` names `FeatureServer`
instead, as the HTTP transport names `HostServer`: a `Server` is one, and so is anything
else with these registries and settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mcpkit.server.catalog.catalog import Completer
from mcpkit.server.catalog.listeners import Listeners
from mcpkit.server.catalog.prompts import PromptSpec
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec
from mcpkit.server.catalog.search.finder import ToolSearch
from mcpkit.server.catalog.skills import Skills
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.visibility.rules import Visibility
from mcpkit.stores.task_runner import TaskRunner
from mcpkit.types import ServerCapabilities

__all__ = ["FeatureServer"]


class FeatureServer(Protocol):
    """A server as tools/*, resources/*, prompts/*, completion/complete, logging/setLevel
    and tasks/* see it: its registries (merged with those of the servers mounted in it) and
    the settings that shape their answers (`mcpkit.Server`'s, of the same names)."""

    @property
    def tools(self) -> Registry[ToolSpec]: ...

    @property
    def resources(self) -> Registry[ResourceSpec]: ...

    @property
    def templates(self) -> Registry[TemplateSpec]: ...

    @property
    def prompts(self) -> Registry[PromptSpec]: ...

    @property
    def skills(self) -> Skills: ...

    @property
    def completers(self) -> Mapping[tuple[str, str, str], Completer]: ...

    @property
    def visibility(self) -> Visibility:
        """Its visibility rules (`enable`, `disable`, `add_visibility_rule`)."""
        ...

    @property
    def page_size(self) -> int:
        """Items per page of a list (server/utilities/pagination: the server picks it)."""
        ...

    @property
    def tool_search(self) -> ToolSearch | None:
        """What `add_tool_search` set, or None: tools/list shows every tool."""
        ...

    @property
    def sync_in_thread(self) -> bool:
        """Whether a plain `def` handler runs in a worker thread rather than on the loop."""
        ...

    @property
    def mask_error_details(self) -> bool:
        """Whether an unexpected exception's text stays in the log, out of the answer."""
        ...

    @property
    def tool_error_prefix(self) -> str | None:
        """The format string before a `ToolError`'s text (`{name}`: the tool), or None."""
        ...

    @property
    def json_string_arguments(self) -> bool:
        """Whether a tool takes an object or array argument sent as a JSON string."""
        ...

    @property
    def serves_tasks(self) -> bool:
        """Whether some tool may be called as a task (so `tasks` is declared)."""
        ...

    @property
    def listeners(self) -> Listeners:
        """The open `subscriptions/listen` requests of this process (2026-07-28)."""
        ...

    def capabilities(self) -> ServerCapabilities:
        """What the server declares."""
        ...

    async def sync_subscriptions(self) -> None:
        """What its clients follow changed: mounted servers follow it where they must."""
        ...

    def sync_subscriptions_later(self) -> None:
        """`sync_subscriptions`, from a task of its own."""
        ...

    @property
    def task_runner(self) -> TaskRunner:
        """Runs the server's tasks (a mounted server's are its parent's)."""
        ...
