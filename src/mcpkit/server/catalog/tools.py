"""Tools: `ToolSpec`, built once from a function and the options given (spec: server/tools).

A tool's mistakes are refused when it is registered, naming it: a bad name, options that
cannot hold together, schemas that cannot be kept. What its schemas are, from its hints or
given, is `tool_schemas`'s; what a call does with the spec is `calling.tool_calls`'s.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any, Final, Literal, TypedDict, Unpack

from mcpkit.runtime.workers import is_async_callable
from mcpkit.server.catalog.calling.ask_fallback import WhenCannotAsk, with_fallback
from mcpkit.server.catalog.calling.injection import with_dependencies
from mcpkit.server.catalog.calling.invoke import context_parameter
from mcpkit.server.catalog.calling.result_budget import ResultBudget
from mcpkit.server.catalog.calling.tool_limits import ToolLimits, limits_of
from mcpkit.server.catalog.registration_checks import scope_set, thread_choice
from mcpkit.server.catalog.tool_schemas import tool_schemas
from mcpkit.server.catalog.views import text_only, tool_ui
from mcpkit.server.catalog.visibility.tags import tag_set, version_of, with_labels
from mcpkit.server.schemas._annotations import resolve_hints
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.server.schemas.signature import FunctionSignature, OutputSpec
from mcpkit.types import Icon, Tool, ToolAnnotations, ToolExecution
from mcpkit.types.apps_extension import ToolUi, Visibility

__all__ = [
    "TaskBegins",
    "TaskSupport",
    "ToolOptions",
    "ToolSpec",
    "check_tool_name",
    "make_tool",
]

# server/tools, Tool Names (SEP-986 as adopted in 2025-11-25): 1-128 of [A-Za-z0-9_.-].
_TOOL_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


def check_tool_name(name: str) -> None:
    """ValueError for a name outside "Tool Names": refused at registration, where it is
    written, rather than left for a client to trip over (aliases are held to it too)."""
    if not _TOOL_NAME.fullmatch(name):
        raise ValueError(
            f"invalid tool name {name!r}: use 1 to 128 characters from A-Z, a-z, 0-9, '_', "
            "'-' and '.' (server/tools, Tool Names)"
        )


@dataclass(slots=True)
class ToolSpec:
    """A registered tool: the wire `Tool` and what it takes to call the function; `scopes`
    are what a caller's token needs to see and call it (HTTP with auth only)."""

    name: str
    fn: Callable[..., Any]
    wire: Tool
    signature: FunctionSignature
    output: OutputSpec | None
    context_param: str | None
    is_async: bool
    raw_validator: Any = None  # a jsonschema_rs validator when input_schema was given
    output_validator: Any = None  # a jsonschema_rs validator when there is an output schema
    scopes: frozenset[str] = frozenset()
    #: Where a task of it begins under 2026-07-28 (docs/tasks.md): at the call, or where the
    #: handler calls `ctx.begin_task()` ("in_handler": it may ask first, multi round-trip).
    task_begins: TaskBegins = "at_call"
    #: The arguments it mirrors into headers (`x-mcp-header`), read from its input schema
    #: when first asked (`mcpkit.server.catalog.visibility.access.param_headers_by_name`).
    param_headers: Mapping[str, tuple[str, ...]] | None = None
    #: Its link to a view (MCP Apps, `server.apps`): the view and who may call it.
    ui: ToolUi | None = None
    #: `wire` without its UI metadata, as a client without the UI extension sees it (made
    #: when first asked).
    plain_wire: Tool | None = None
    #: Whether the log was told that it returned content blocks though it advertises an
    #: output schema (once: `calling.tool_calls.to_tool_result`).
    warned_content: bool = False
    #: Its `tags=` and `version=` (also in `wire.meta`: `visibility.tags`).
    tags: frozenset[str] = frozenset()
    version: str | None = None
    #: Its `timeout=` and `max_result=` (`calling.tool_limits`); None, the usual case, costs its
    #: calls nothing.
    limits: ToolLimits | None = None
    #: Its `sync_in_thread=`: where a plain `def` runs (None: where the server says).
    sync_in_thread: bool | None = None
    #: Whether its arguments, decoded (`FunctionSignature.decode_all_set`), are passed by
    #: position (`calling.tool_calls`): worked out from `fn` and `signature` whenever a spec
    #: is made (`dataclasses.replace` included), never given.
    in_order: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.in_order = _takes_in_order(self.fn, self.signature, self.context_param, self.is_async)

    @property
    def shown_wire(self) -> Tool:
        """`wire` for a client that renders no views (`plain_wire`, made once)."""
        found = self.plain_wire
        if found is None:
            found = self.plain_wire = text_only(self.wire) if self.ui is not None else self.wire
        return found

    @property
    def task_support(self) -> TaskSupport:
        """Whether clients may, or must, call it as a task (basic/utilities/tasks)."""
        execution = self.wire.execution
        support = execution.task_support if execution is not None else None
        return support or "forbidden"


def _takes_in_order(
    fn: Callable[..., Any], signature: FunctionSignature, context_param: str | None, is_async: bool
) -> bool:
    """Whether `fn` may be called with its decoded arguments by position: an `async def`
    whose arguments its signature's decoder gives all of (`decode_all_set`), and whose
    parameters are those arguments alone, in the decoder's order, each positional or keyword
    (no context, nothing injected, no `*args` or `**kwargs`). It then binds them by position
    as it would by name; called so, no dict is made for them nor unpacked. A plain function
    only, its parameters read from its code: a wrapper's `__signature__` (or `__wrapped__`)
    says what it shows, not what it takes."""
    if (
        signature.decode_all_set is None
        or context_param is not None
        or not is_async
        or type(fn) is not FunctionType
    ):
        return False
    code = fn.__code__
    return (
        not code.co_posonlyargcount
        and not code.co_kwonlyargcount
        and not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
        and code.co_varnames[: code.co_argcount] == signature.parameters
    )


TaskSupport = Literal["forbidden", "optional", "required"]
TaskBegins = Literal["at_call", "in_handler"]
#: The three values of `execution.taskSupport` (basic/utilities/tasks, "Tool-Level
#: Negotiation"), by name: any other `task=` is refused rather than sent.
_TASK_SUPPORT: Final[dict[str, TaskSupport]] = {
    "forbidden": "forbidden",
    "optional": "optional",
    "required": "required",
}


def task_support_of(tool_name: str, task: bool | str) -> TaskSupport | None:
    """The `execution.taskSupport` of `@server.tool(task=...)`: True means "optional"."""
    if task is True:
        return "optional"
    if task is False:
        return None
    support = _TASK_SUPPORT.get(str(task))
    if support is not None:
        return support
    raise ValueError(
        f"tool {tool_name!r}: task must be True, False, 'optional', 'required' or "
        f"'forbidden', not {task!r}"
    )


class ToolOptions(TypedDict, total=False):
    """The options of a tool, besides its name: what `server.tool()`, `server.add_tool()` and
    `make_tool()` take (this is their one list).

    `lenient_arguments` takes numbers and booleans sent as strings (`"36"`), and says so in
    the input schema; a given `input_schema` is the contract as it is, so it has no effect.
    `scopes`: a caller on a protected HTTP endpoint whose token lacks them neither sees the
    tool listed nor may call it (HTTP 403 `insufficient_scope`, so its client can step up).
    `task`: whether a client may ("optional", or True) or must ("required") call it as a
    task (SEP-1686): the call is answered at once and the tool runs on (docs/tasks.md).
    `task_begins`: "in_handler" to have a 2026-07-28 task begin only where the handler calls
    `ctx.begin_task()`, after the questions it asks in the call itself ("at_call" by default).
    `headers`: arguments a 2026-07-28 client mirrors into HTTP headers, argument name to
    header name (`{"region": "Region"}` sends `Mcp-Param-Region`), so a load balancer can
    route on them; the server checks they match the body (docs/http.md).
    `view`: the `ui://` view that renders its results in a host that supports MCP Apps, and
    `visibility`: who may call it, ["model", "app"] by default; ["app"] keeps it out of the
    agent's tool list, for the view alone (docs/apps.md).
    `tags` (strings) and `version` label it, in its `_meta` too, for `server.enable()` and
    `server.disable()` to pick it by (docs/compose.md, "Tags and visibility"); `aliases`,
    its old names, are registered beside it by `server.add_tool()` (`visibility.renames`).
    `timeout`: seconds after which a call's work is cancelled and the call ends with a tool
    error (`catalog.calling.tool_limits`; docs/server.md, "Timeouts and result budgets");
    `max_result`: the bytes (an int) or `ResultBudget` its results' content is cut to.
    `when_cannot_ask`: what its `ctx.elicit()` does where the client cannot answer: "error"
    (the default), "confirm" or "url" (`mcpkit.server.asking.fallback`).
    `sync_in_thread`: True or False runs a plain `def` in a worker thread or on the event
    loop, whatever `Server(sync_in_thread=...)` says (None, the default, leaves it to the
    server); refused for an `async def`, and with a `timeout`, which a call holding the
    loop could not keep.
    """

    title: str | None
    description: str | None
    annotations: ToolAnnotations | None
    icons: list[Icon] | None
    meta: dict[str, Any] | None
    structured_output: bool | None
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    lenient_arguments: bool | None
    scopes: Iterable[str] | None
    task: bool | TaskSupport
    task_begins: TaskBegins
    headers: Mapping[str, str] | None
    view: str | None
    visibility: Iterable[Visibility] | None
    tags: Iterable[str] | None
    version: str | None
    aliases: Iterable[str] | None
    timeout: float | None
    max_result: int | ResultBudget | None
    when_cannot_ask: WhenCannotAsk
    sync_in_thread: bool | None


def make_tool(
    fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[ToolOptions]
) -> ToolSpec:
    """Build a tool from a function's signature, docstring and the options given
    (`ToolOptions` says what each does)."""
    tool_name = name or fn.__name__
    check_tool_name(tool_name)
    where = f"tool {tool_name!r}"
    in_thread = _thread_choice(tool_name, fn, options)
    # Dependencies first: the schemas are made from what they leave, the caller's arguments.
    fn = with_dependencies(fn, where, in_thread)
    input_schema = options.get("input_schema")
    # Before the schemas: a "confirm" fallback adds an argument the input schema must show.
    if "when_cannot_ask" in options:  # (docs/server.md, "When the client cannot answer")
        fn, input_schema = with_fallback(
            tool_name, fn, options["when_cannot_ask"], input_schema, resolve_hints
        )
    schemas = tool_schemas(
        tool_name,
        fn,
        input_schema,
        options.get("output_schema"),
        lenient=bool(options.get("lenient_arguments")),
        structured_output=options.get("structured_output"),
        headers=options.get("headers"),
    )
    ui, meta = tool_ui(
        tool_name, options.get("view"), options.get("visibility"), options.get("meta")
    )
    tags = tag_set(where, options.get("tags"))
    version = version_of(where, options.get("version"))
    wire = Tool(
        name=tool_name,
        title=options.get("title"),
        description=options.get("description") or summary_doc(fn),
        input_schema=schemas.input_schema,
        output_schema=schemas.output_schema,
        annotations=options.get("annotations"),
        icons=options.get("icons"),
        meta=with_labels(meta, tags, version),
    )
    # No `execution` unless asked for: without one a tool forbids tasks, the spec's default.
    support = task_support_of(tool_name, options.get("task", False))
    if support is not None:
        wire.execution = ToolExecution(task_support=support)
    return ToolSpec(
        tool_name,
        fn,
        wire,
        schemas.signature,
        schemas.output,
        context_parameter(fn),
        is_async_callable(fn),
        schemas.raw_validator,
        schemas.output_validator,
        scope_set(where, options.get("scopes")),
        _task_begins(tool_name, options.get("task_begins", "at_call")),
        ui=ui,
        tags=tags,
        version=version,
        limits=limits_of(where, options.get("timeout"), options.get("max_result")),
        sync_in_thread=in_thread,
    )


def _thread_choice(tool_name: str, fn: Callable[..., Any], options: ToolOptions) -> bool | None:
    in_thread = thread_choice(f"tool {tool_name!r}", fn, options.get("sync_in_thread"))
    if in_thread is False and options.get("timeout") is not None:
        raise ValueError(
            f"tool {tool_name!r}: timeout={options.get('timeout')!r} cannot be kept with "
            "sync_in_thread=False: a plain `def` on the event loop holds it until it returns, "
            "so nothing can answer first; drop one of the two, or make the tool `async def`"
        )
    return in_thread


def _task_begins(tool_name: str, value: object) -> TaskBegins:
    if value == "at_call":
        return "at_call"
    if value == "in_handler":
        return "in_handler"
    raise ValueError(
        f"tool {tool_name!r}: task_begins must be 'at_call' or 'in_handler', not {value!r}"
    )
