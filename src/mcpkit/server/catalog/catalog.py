"""`Catalog`: what one server offers, an object the `Server` holds: the registries of its
tools, resources, resource templates, prompts, completers, skills and extensions, and the ways
to add to them and take from them (`Server`'s decorators and add/remove methods hand over to
it). A change to a list at run time is announced through the function it is given.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Never, TypeVar, Unpack

from mcpkit.server.catalog.calling.result_budget import ResultBudget
from mcpkit.server.catalog.extension_methods import (
    ExtensionHandler,
    ExtensionMethod,
    extension_methods,
)
from mcpkit.server.catalog.prompts import PromptOptions, PromptSpec, make_prompt
from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.registry import ChangeCount, CountedDict, Registry
from mcpkit.server.catalog.resources import (
    ResourceOptions,
    ResourceSpec,
    TemplateSpec,
    make_resource,
    make_template,
)
from mcpkit.server.catalog.search.finder import SearchMode, ToolSearch
from mcpkit.server.catalog.skills import FileSource, Skills, SkillSource, SkillSpec, make_skill
from mcpkit.server.catalog.tools import ToolOptions, ToolSpec, make_tool
from mcpkit.server.catalog.views import (
    ViewOptions,
    ViewSource,
    view_function,
    view_meta,
    view_reader,
)
from mcpkit.server.catalog.visibility.renames import alias_specs
from mcpkit.server.catalog.visibility.rules import Visibility
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.types.apps_extension import UI_EXTENSION, VIEW_MIME_TYPE

__all__ = ["Catalog", "Completer"]

F = TypeVar("F", bound=Callable[..., Any])
#: A completer gets the partial value and the other arguments already given, and returns
#: candidate values (server/utilities/completion). It may be sync or async.
Completer = Callable[[str, dict[str, str]], "list[str] | Awaitable[list[str]]"]


class Catalog:
    """The features of one server, as specs in registries, and the ways to register them.

    `announce(method)` is called with the list_changed notification of a registry that
    changed (the `Server`'s broadcasts send it to its sessions while it serves);
    `lenient_arguments`, `tool_timeout` and `max_result` are the defaults of the tools' own
    (`Server(lenient_arguments=..., tool_timeout=..., max_result=...)`)."""

    def __init__(
        self,
        *,
        announce: Callable[[str], None],
        lenient_arguments: bool = False,
        tool_timeout: float | None = None,
        max_result: ResultBudget | None = None,
    ) -> None:
        #: How many times what it declares may have changed (`Server.capabilities`): moved
        #: by its registries' changes (a mounted server's count as its own), and by the
        #: extensions, skills, tool search and completers it is given (`_touch`).
        self.changes = changes = ChangeCount()
        self.tools: Registry[ToolSpec] = Registry("tool", changes)
        self.resources: Registry[ResourceSpec] = Registry("resource", changes)
        self.templates: Registry[TemplateSpec] = Registry("resource template", changes)
        self.prompts: Registry[PromptSpec] = Registry("prompt", changes)
        #: A public dict (`server.completers`), changed in place too: each change counted.
        self.completers: dict[tuple[str, str, str], Completer] = CountedDict(self._touch)
        #: Skills served with the skills extension (SEP-2640; `add_skill`).
        self.skills = Skills()
        #: The extensions declared beyond those the features imply (SEP-2133;
        #: `declare_extension`): identifier -> settings, in `capabilities.extensions`.
        self.extension_settings: dict[str, dict[str, Any]] = {}
        #: The requests those extensions add: method -> (extension, handler), and their
        #: names (both replaced, never changed, by `declare_extension`).
        self.extension_handlers: dict[str, ExtensionMethod] = {}
        self.extension_method_names: frozenset[str] = frozenset()
        #: The default of the tools' `lenient_arguments`.
        self.lenient_arguments = lenient_arguments
        #: The default of the tools' `timeout` (`Server(tool_timeout=...)`).
        self.tool_timeout = tool_timeout
        #: The default of the tools' `max_result` (`Server(max_result=...)`).
        self.max_result = max_result
        #: What `add_tool_search` set (tools/list then shows the pinned tools and a search
        #: pair), or None.
        self.tool_search: ToolSearch | None = None
        #: The tools' old names (`aliases=`): alias -> the tool it calls.
        self._aliases: dict[str, str] = {}
        #: `serves_tasks` for the tool list it was worked out from.
        self._serves_tasks: tuple[list[ToolSpec], bool] | None = None
        # server/tools, server/prompts, server/resources: "List Changed Notification" (resources
        # and templates are one list to a client).
        self.tools.on_change = functools.partial(announce, "notifications/tools/list_changed")
        self.prompts.on_change = functools.partial(announce, "notifications/prompts/list_changed")
        resources_changed = functools.partial(announce, "notifications/resources/list_changed")
        self.resources.on_change = resources_changed
        self.templates.on_change = resources_changed
        #: What it shows of them (`enable`, `disable`: docs/compose.md).
        self.visibility = Visibility(
            {
                "tool": self.tools,
                "resource": self.resources,
                "template": self.templates,
                "prompt": self.prompts,
            }
        )

    # ------------------------------------------------------------------- tools

    def tool(self, name: Any = None, **options: Any) -> Any:
        """`Server.tool`: `@tool`, or `@tool(name, **options)` (typed and told there)."""
        # `@server.tool` without parentheses hands over the function itself as `name`.
        if callable(name):
            self.add_tool(name)
            return name
        check_options("server.tool()", options, ToolOptions)

        def decorate(fn: F) -> F:
            self.add_tool(fn, name=name, **options)
            return fn

        return decorate

    def add_tool(
        self, fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[ToolOptions]
    ) -> ToolSpec:
        """Register `fn` as a tool (same options as `tool()`); returns its spec."""
        check_options("server.add_tool()", options, ToolOptions)
        if options.get("lenient_arguments") is None:
            options["lenient_arguments"] = self.lenient_arguments
        # (not for a `def` run on the loop, which no timeout can interrupt: docs/server.md)
        on_loop = options.get("sync_in_thread") is False
        if options.get("timeout") is None and self.tool_timeout is not None and not on_loop:
            options["timeout"] = self.tool_timeout
        if options.get("max_result") is None and self.max_result is not None:
            options["max_result"] = self.max_result
        spec = make_tool(fn, name=name, **options)
        aliases = alias_specs(spec, options.get("aliases"))
        search = self.tool_search
        versions = self.visibility.versions
        for alias in (spec, *aliases):  # all checked first, so that a refusal adds nothing
            if not versions.can_add("tool", alias.name, alias):  # (as `Registry.add` refuses)
                raise ValueError(f"a tool named {alias.name!r} is already registered")
            if search is not None and alias.name in search.names:  # (never reached)
                raise ValueError(
                    f"tool {alias.name!r}: tool search (add_tool_search) answers that name; "
                    "register it under another, or give the search pair other names"
                )
        # Through the versions, not the registry alone: one name may be registered in several
        # versions, and the highest the rules show stands for it.
        self.visibility.add_version("tool", spec.name, spec)
        for alias in aliases:
            self.visibility.add_version("tool", alias.name, alias)
            self._aliases[alias.name] = spec.name
        if spec.ui is not None and UI_EXTENSION not in self.extension_settings:
            self.declare_extension(UI_EXTENSION)  # (a tool linked to a view: MCP Apps)
        return spec

    @property
    def serves_tasks(self) -> bool:
        """Whether some tool may be called as a task (so `tasks` is declared)."""
        # Asked for every session built: answered once per version of the tool list
        # (`items()` is a new list after each change, a mounted server's included).
        tools = self.tools.items()
        known = self._serves_tasks
        if known is not None and known[0] is tools:
            return known[1]
        found = any(spec.task_support != "forbidden" for spec in tools)
        self._serves_tasks = (tools, found)
        return found

    def remove_tool(self, name: str) -> None:
        """Stop serving the tool `name` (every version of it), and its aliases (KeyError if
        there is none)."""
        self.tools.remove(name)
        self.visibility.versions.forget("tool", name)
        self._aliases.pop(name, None)
        for alias in [a for a, target in self._aliases.items() if target == name]:
            del self._aliases[alias]
            self.tools.remove(alias)
            self.visibility.versions.forget("tool", alias)

    # ------------------------------------------------------ large catalogs

    def add_tool_search(
        self,
        mode: SearchMode = "bm25",
        *,
        pinned: Iterable[str] = (),
        max_results: int = 5,
        search_tool_name: str = "search_tools",
        call_tool_name: str = "call_tool",
    ) -> None:
        """List only the `pinned` tools and two more (docs/compose.md, "Large catalogs: tool
        search"): `search_tool_name` finds up to `max_results` tools, by words in their names,
        titles, descriptions and arguments (`mode="bm25"`) or by a regular expression in their
        names, titles and descriptions (`"regex"`: RE2, case ignored, under a work budget;
        it needs `pip install 'mcpkit[re2]'`, MissingExtra here without), and returns
        their definitions; `call_tool_name` calls one by name as a direct tools/call would.
        Every tool stays callable by its own name; tools added later, a mounted server's
        included, are found. Called again, it replaces the settings."""
        search = ToolSearch(mode, frozenset(pinned), max_results, search_tool_name, call_tool_name)
        # The pair's names must be free: a name cannot be both a tool's and half the search
        # pair's, and a call of it would reach only the tool.
        taken = [name for name in search.names if name in self.tools]
        if taken:
            raise ValueError(f"a tool named {taken[0]!r} is already registered: name the pair")
        self.tool_search = search
        self._touch()
        if self.tools.on_change is not None:  # the list the clients hold is another now
            self.tools.on_change()

    # --------------------------------------------------------------- resources

    def resource(self, uri: str, **options: Unpack[ResourceOptions]) -> Callable[[F], F]:
        """Register a function that returns a resource's contents. A URI with `{variables}`
        (RFC 6570) makes a resource template whose variables are passed as arguments.
        `scopes` (as for tools) hide it from, and refuse it to, tokens without them."""
        # Checked here too, so that a misspelt option is named where the decorator is
        # written, not where it is applied.
        check_options("server.resource()", options, ResourceOptions)

        def decorate(fn: F) -> F:
            self.add_resource(fn, uri, **options)
            return fn

        return decorate

    def add_resource(
        self, fn: Callable[..., Any], uri: str, **options: Unpack[ResourceOptions]
    ) -> ResourceSpec | TemplateSpec:
        """Register `fn` as a resource, or a resource template when `uri` has `{variables}`
        (same options as `resource()`)."""
        check_options("server.add_resource()", options, ResourceOptions)
        # A `{` can only open an RFC 6570 expression: no URI has one unescaped (RFC 3986).
        if "{" in uri:
            template = make_template(fn, uri, **options)
            self.templates.add(uri, template)
            return template
        spec = make_resource(fn, uri, **options)
        self.resources.add(uri, spec)
        return spec

    def remove_resource(self, uri: str) -> None:
        """Remove a resource or a resource template by its URI (or URI template)."""
        if uri in self.templates or self.templates.own(uri) is not None:  # (hidden too)
            self.templates.remove(uri)
        else:
            self.resources.remove(uri)

    # ----------------------------------------------------------------- prompts

    def prompt(self, name: Any = None, **options: Any) -> Any:
        """`Server.prompt`: `@prompt`, or `@prompt(name, **options)` (typed and told there)."""
        if callable(name):
            self.add_prompt(name)
            return name
        check_options("server.prompt()", options, PromptOptions)

        def decorate(fn: F) -> F:
            self.add_prompt(fn, name=name, **options)
            return fn

        return decorate

    def add_prompt(
        self, fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[PromptOptions]
    ) -> PromptSpec:
        """Register `fn` as a prompt (same options as `prompt()`); returns its spec."""
        check_options("server.add_prompt()", options, PromptOptions)
        spec = make_prompt(fn, name=name, **options)
        self.visibility.add_version("prompt", spec.name, spec)
        return spec

    def remove_prompt(self, name: str) -> None:
        """Stop serving the prompt `name`, every version of it (KeyError if there is none)."""
        self.prompts.remove(name)
        self.visibility.versions.forget("prompt", name)

    # -------------------------------------------------------------- extensions

    def declare_extension(
        self,
        extension_id: str,
        settings: Mapping[str, Any] | None = None,
        *,
        methods: Mapping[str, ExtensionHandler] | None = None,
    ) -> None:
        """Declare an extension (SEP-2133) in `capabilities.extensions`, with its `settings`
        (`{}` by default), in the initialize result and in server/discover. The identifier
        is `vendor-prefix/name` (`com.example/audit`). `methods`: the requests it adds,
        name to handler (`async def handler(ctx, params: dict) -> dict`, or sync; the
        params come without `_meta`, which is `ctx.meta`), served in both eras to a client
        that declared the extension too, refused to any other
        (-32021 under 2026-07-28, -32601 before). `ctx.client_extension(id)` says what the
        client declared (docs/apps.md, "Extensions in general")."""
        # The form SEP-2133 gives identifiers (`{vendor-prefix}/{extension-name}`): refused
        # here rather than declared in a form no client looks for.
        prefix, slash, name = extension_id.partition("/")
        if not slash or not prefix or not name or "/" in name:
            raise ValueError(
                f"an extension identifier is 'vendor-prefix/name' (such as "
                f"'com.example/audit'), not {extension_id!r}"
            )
        added = extension_methods(extension_id, methods or {}, self.extension_handlers)
        self.extension_settings = {**self.extension_settings, extension_id: dict(settings or {})}
        if added:
            self.extension_handlers = {**self.extension_handlers, **added}
            self.extension_method_names = frozenset(self.extension_handlers)
        self._touch()

    def _touch(self) -> None:
        # What this catalog declares changed though no registry did: counted here and in
        # the catalogs of the servers it is mounted in (through its tools', which every
        # mount shows).
        self.tools.touch()

    # ------------------------------------------------------------------ views

    def view(self, uri: str, **options: Unpack[ViewOptions]) -> Callable[[F], F]:
        """Register a function that returns a view's HTML (MCP Apps, docs/apps.md): served at
        the `ui://` `uri` as `text/html;profile=mcp-app`, with its settings in `_meta.ui`
        (`csp`: the origins it may reach; `permissions`: the browser features it asks for;
        `domain`: a dedicated sandbox origin; `prefers_border`). A tool shows it with
        `@server.tool(view=uri)`. Sync or async; it may take a Context."""
        check_options("server.view()", options, ViewOptions)

        def decorate(fn: F) -> F:
            reader = view_function(uri, fn, view_meta(options))
            self._add_view(uri, reader, options.get("name") or fn.__name__, fn, options)
            return fn

        return decorate

    def add_view(self, uri: str, source: ViewSource, **options: Unpack[ViewOptions]) -> None:
        """Serve a view (MCP Apps, docs/apps.md) whose HTML is `source`: the HTML itself (a
        `str`), a file (a `Path`, read at each read, so an edit is served at once), or a
        package resource (`("mypackage", "views/chart.html")`). Options as for `view`."""
        check_options("server.add_view()", options, ViewOptions)
        reader = view_reader(uri, source, view_meta(options))
        name = options.get("name") or uri.removeprefix("ui://")
        self._add_view(uri, reader, name, None, options)

    def _add_view(
        self,
        uri: str,
        reader: Callable[..., Any],
        name: str,
        fn: Callable[..., Any] | None,
        options: ViewOptions,
    ) -> None:
        """Register a view's resource, and declare the UI extension (MCP Apps), without which
        no client is told that this server has views."""
        # A fixed URI: a host reads the view by the exact URI a tool's `_meta` names.
        if not uri.startswith("ui://") or "{" in uri:
            raise ValueError(f"a view's URI is a fixed ui:// URI, not {uri!r}")
        description = options.get("description")
        if description is None and fn is not None:
            description = summary_doc(fn)
        spec = make_resource(
            reader,
            uri,
            name=name,
            title=options.get("title"),
            description=description,
            mime_type=VIEW_MIME_TYPE,
        )
        self.resources.add(uri, spec)
        if UI_EXTENSION not in self.extension_settings:
            self.declare_extension(UI_EXTENSION)

    # ------------------------------------------------------------------ skills

    def skill(
        self,
        *,
        prefix: str | None = None,
        files: Mapping[str, FileSource] | None = None,
        scheme: str = "skill",
    ) -> Callable[[F], F]:
        """Register the SKILL.md text a function returns as a skill (SEP-2640), with the
        same options as `add_skill`. The function is called once, here: a skill's entry
        carries the digests of its files, so its content is fixed when it is added."""

        def decorate(fn: F) -> F:
            self.add_skill(fn(), prefix=prefix, files=files, scheme=scheme)
            return fn

        return decorate

    def add_skill(
        self,
        source: SkillSource,
        *,
        prefix: str | None = None,
        files: Mapping[str, FileSource] | None = None,
        scheme: str = "skill",
    ) -> SkillSpec:
        """Serve a skill (SEP-2640, docs/skills.md): `source` is SKILL.md text (a `str`) or
        a `Path` to a SKILL.md or to a skill directory (every file under it is served);
        `files` adds supporting files by their path in the skill. Its files become resources
        at `<scheme>://<prefix>/<name>/<path>`; skills/list and skills/get answer its entry.
        Returns its spec (`spec.uri` is its SKILL.md's URI). SkillError for a skill that
        breaks the Agent Skills format."""
        spec = make_skill(source, prefix=prefix, files=files, scheme=scheme)
        if self.skills.get(spec.uri) is not None:
            raise ValueError(f"a skill is already served at {spec.uri}")
        taken = [r.uri for r in spec.resources if r.uri in self.resources]
        if taken:  # checked first, so that a refused skill leaves nothing behind
            raise ValueError(f"skill {spec.uri}: a resource is already registered at {taken[0]}")
        self.skills.add(spec)
        self._touch()
        for resource in spec.resources:
            self.resources.add(resource.uri, resource)
        return spec

    def remove_skill(self, uri: str) -> None:
        """Stop serving the skill whose SKILL.md is at `uri`, and its files."""
        spec = self.skills.remove(uri)
        self._touch()
        for file in spec.files:
            self.resources.remove(spec.file_uri(file))

    # ------------------------------------------------------------- completions

    def completion(
        self,
        /,
        *,
        argument: str,
        prompt: str | None = None,
        template: str | None = None,
        **misspelt: Never,
    ) -> Callable[[F], F]:
        """Register a completer for one argument of a prompt or variable of a resource
        template: `@server.completion(prompt="review", argument="language")`."""
        # (`self` is positional-only so that `served_by` can hand on `**misspelt`: mypy does
        # not match a ParamSpec to a method whose `self` may also be passed by name.)
        check_options("server.completion()", misspelt, self.completion)
        # One target: a completer answers for one argument of one prompt or template
        # (server/utilities/completion, the request's `ref`).
        if (prompt is None) == (template is None):
            raise ValueError("give exactly one of prompt= or template=")
        key = (
            ("ref/prompt", prompt, argument)
            if prompt is not None
            else ("ref/resource", template or "", argument)
        )

        def decorate(fn: F) -> F:
            self.completers[key] = fn
            return fn

        return decorate

    def completable(self) -> bool:
        """Whether anything can be completed (completers, or Literal/Enum arguments)."""
        if self.completers:
            return True
        return any(p.choices for p in self.prompts) or any(t.choices for t in self.templates)
