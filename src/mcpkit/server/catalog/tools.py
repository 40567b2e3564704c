"""Tools: `ToolSpec` built once from a function, and calling it (spec: server/tools).

Input that fails validation is an `isError` result that tells the model what to fix
(SEP-1303); so is an exception from the tool. Structured output comes from the return
hint, with the same value as JSON text beside it for older clients.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any, ClassVar, Final, Literal, Protocol, TypedDict, Unpack, cast

import msgspec
from msgspec.structs import asdict, astuple

from mcpkit.errors import McpError, PeerError, RequestTimeout, ToolError, shown_when_masked
from mcpkit.protocol.param_headers import HEADER_TOKEN
from mcpkit.runtime.handler_failure import log_handler_failure
from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.argument_errors import dotted_path, worded_errors
from mcpkit.server.catalog.ask_fallback import WhenCannotAsk, with_fallback
from mcpkit.server.catalog.content import is_content, to_json_text
from mcpkit.server.catalog.injection import with_dependencies
from mcpkit.server.catalog.invoke import context_parameter
from mcpkit.server.catalog.invoke import is_context_annotation as _is_ctx
from mcpkit.server.catalog.json_arguments import retry_with_json_strings
from mcpkit.server.catalog.registration_checks import scope_set, thread_choice, warn_untyped
from mcpkit.server.catalog.result_budget import ResultBudget
from mcpkit.server.catalog.tags import tag_set, version_of, with_labels
from mcpkit.server.catalog.tool_errors import tool_error_result
from mcpkit.server.catalog.tool_failures import note_failure
from mcpkit.server.catalog.tool_limits import ToolLimits, limits_of
from mcpkit.server.catalog.views import text_only, tool_ui
from mcpkit.server.schemas._coercion import has_non_finite_floats, lenient_schema
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.server.schemas._hints import enc_hook, resolve_hints
from mcpkit.server.schemas.signature import (
    ArgumentError,
    FunctionSignature,
    OutputError,
    OutputSpec,
    build_signature,
    decode_arguments,
)
from mcpkit.types import (
    CallToolRequestParams,
    CallToolResult,
    ContentBlock,
    Icon,
    TextContent,
    Tool,
    ToolAnnotations,
    ToolExecution,
)
from mcpkit.types._gen_2026_07_28 import CallToolRequestParams as StatelessCallToolRequestParams
from mcpkit.types.apps_extension import ToolUi, Visibility

__all__ = [
    "TaskBegins",
    "TaskSupport",
    "ToolOptions",
    "ToolSpec",
    "check_tool_name",
    "make_tool",
    "ToolSettings",
    "run_as_set",
    "tool_error_prefix_format",
]

logger = logging.getLogger("mcpkit.server")

# server/tools, Tool Names (SEP-986 as adopted in 2025-11-25): 1-128 of [A-Za-z0-9_.-].
_TOOL_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


def check_tool_name(name: str) -> None:
    if not _TOOL_NAME.fullmatch(name):
        raise ValueError(
            f"invalid tool name {name!r}: use 1 to 128 characters from A-Z, a-z, 0-9, '_', "
            "'-' and '.' (server/tools, Tool Names)"
        )


#: What `tool_error_prefix=True` writes: the words of the official SDK's error results.
DEFAULT_TOOL_ERROR_PREFIX: Final = "Error executing tool {name}: "


def tool_error_prefix_format(prefix: bool | str) -> str | None:
    """`Server(tool_error_prefix=)` as the format string a `ToolError`'s text gets, or None;
    ValueError now for a format that would fail at the first error."""
    if prefix is True:
        return DEFAULT_TOOL_ERROR_PREFIX
    if prefix is False:
        return None
    try:
        prefix.format(name="tool")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"invalid tool_error_prefix {prefix!r}: a format string whose only field is "
            f"{{name}} (the tool's name), such as {DEFAULT_TOOL_ERROR_PREFIX!r} ({exc!r})"
        ) from None
    return prefix


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
    #: when first asked (`mcpkit.server.catalog.access.param_headers_by_name`).
    param_headers: Mapping[str, tuple[str, ...]] | None = None
    #: Its link to a view (MCP Apps, `server.apps`): the view and who may call it.
    ui: ToolUi | None = None
    #: `wire` without its UI metadata, as a client without the UI extension sees it (made
    #: when first asked).
    plain_wire: Tool | None = None
    #: Whether the log was told that it returned content blocks though it advertises an
    #: output schema (once: `to_tool_result`).
    warned_content: bool = False
    #: Its `tags=` and `version=` (also in `wire.meta`, `catalog.tags`).
    tags: frozenset[str] = frozenset()
    version: str | None = None
    #: Its `timeout=` and `max_result=` (`catalog.tool_limits`); None, the usual case, costs
    #: its calls nothing.
    limits: ToolLimits | None = None
    #: Its `sync_in_thread=`: where a plain `def` runs (None: where the server says).
    sync_in_thread: bool | None = None
    #: Whether its arguments, decoded (`FunctionSignature.decode_all_set`), are passed by
    #: position (`_arguments`): worked out from `fn` and `signature` whenever a spec is
    #: made (`dataclasses.replace` included), never given.
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
    as it would by name; called so, no dict is made for them nor unpacked (~1,300
    instructions a call). A plain function only, its parameters read from its code: a
    wrapper's `__signature__` (or `__wrapped__`) says what it shows, not what it takes."""
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
    `make_tool()` take (this is their one list)."""

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


def with_param_headers(
    tool_name: str, schema: dict[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    """`schema` with each named top-level argument marked to be mirrored into an
    `Mcp-Param-{Name}` HTTP header (2026-07-28 `x-mcp-header`): strings, integers and booleans
    only, header names tokens, unique whatever their case. TypeError names what is wrong."""
    properties = dict(schema.get("properties") or {})
    seen: set[str] = set()
    for argument, header in headers.items():
        where = f"tool {tool_name!r}: headers[{argument!r}]"
        if not HEADER_TOKEN.fullmatch(header):
            raise TypeError(f"{where} must be an HTTP header name token (RFC 9110), not {header!r}")
        if header.lower() in seen:
            raise TypeError(f"{where}: header {header!r} is named twice (case does not count)")
        seen.add(header.lower())
        found: Any = properties.get(argument)
        if not isinstance(found, dict):
            raise TypeError(f"{where}: the tool has no argument {argument!r}")
        prop = cast("dict[str, Any]", found)
        if prop.get("type") not in ("string", "integer", "boolean"):
            raise TypeError(
                f"{where}: only string, integer and boolean arguments can be mirrored into a "
                f"header, and {argument!r} is {prop.get('type', 'untyped')}"
            )
        properties[argument] = {**prop, "x-mcp-header": header}
    return {**schema, "properties": properties}


def make_tool(
    fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[ToolOptions]
) -> ToolSpec:
    """Build a tool from a function's signature, docstring and the options given.

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
    its old names, are registered beside it by `server.add_tool()` (`catalog.renames`).
    `timeout`: seconds after which a call's work is cancelled and the call ends with a tool
    error (`catalog.tool_limits`; docs/server.md, "Timeouts and result budgets");
    `max_result`: the bytes (an int) or `ResultBudget` its results' content is cut to.
    `when_cannot_ask`: what its `ctx.elicit()` does where the client cannot answer: "error"
    (the default), "confirm" or "url" (`mcpkit.server.asking.fallback`).
    `sync_in_thread`: True or False runs a plain `def` in a worker thread or on the event
    loop, whatever `Server(sync_in_thread=...)` says (None, the default, leaves it to the
    server); refused for an `async def`, and with a `timeout`, which a call holding the
    loop could not keep.
    """
    tool_name = name or fn.__name__
    check_tool_name(tool_name)
    in_thread = _thread_choice(tool_name, fn, options)
    fn = with_dependencies(fn, f"tool {tool_name!r}", in_thread)
    lenient_arguments = options.get("lenient_arguments")
    input_schema = options.get("input_schema")
    if "when_cannot_ask" in options:  # (docs/server.md, "When the client cannot answer")
        fn, input_schema = with_fallback(
            tool_name, fn, options["when_cannot_ask"], input_schema, resolve_hints
        )
    output_schema = options.get("output_schema")
    structured_output = options.get("structured_output")
    # Arguments that passed a schema of the user's own are converted as loosely as they
    # must be to reach the parameters' types.
    coerce = bool(lenient_arguments) or input_schema is not None
    signature = build_signature(
        fn, skip=_is_ctx, force_output=structured_output is True, coerce=coerce
    )
    if input_schema is None:
        warn_untyped("tool", fn, signature.parameters)
        if lenient_arguments:
            input_schema = lenient_schema(signature.input_schema)
    output = None if structured_output is False else signature.output
    if structured_output and (output is None or output.output_schema is None):
        raise TypeError(
            f"tool {tool_name!r}: structured_output=True needs a return annotation "
            "that gives an output schema"
        )
    if output_schema is not None and output_schema.get("type") != "object":
        raise TypeError(
            f'tool {tool_name!r}: output_schema must have "type": "object" at '
            "its root (server/tools, Output Schema); wrap other values, for "
            'instance as {"type": "object", "properties": {"result": ...}}'
        )
    raw_validator = None
    if input_schema is not None:
        import jsonschema_rs

        raw_validator = jsonschema_rs.validator_for(input_schema)
    wire_input = input_schema if input_schema is not None else signature.input_schema
    headers = options.get("headers")
    if headers:
        wire_input = with_param_headers(tool_name, wire_input, headers)
    ui, meta = tool_ui(
        tool_name, options.get("view"), options.get("visibility"), options.get("meta")
    )
    tags = tag_set(f"tool {tool_name!r}", options.get("tags"))
    version = version_of(f"tool {tool_name!r}", options.get("version"))
    meta = with_labels(meta, tags, version)
    wire = Tool(
        name=tool_name,
        title=options.get("title"),
        description=options.get("description") or summary_doc(fn),
        input_schema=wire_input,
        output_schema=output_schema
        if output_schema is not None
        else (output.output_schema if output is not None else None),
        annotations=options.get("annotations"),
        icons=options.get("icons"),
        meta=meta,
    )
    support = task_support_of(tool_name, options.get("task", False))
    if support is not None:
        wire.execution = ToolExecution(task_support=support)
    output_validator = None
    if wire.output_schema is not None:
        import jsonschema_rs

        output_validator = jsonschema_rs.validator_for(wire.output_schema)
    return ToolSpec(
        tool_name,
        fn,
        wire,
        signature,
        output,
        context_parameter(fn),
        is_async_callable(fn),
        raw_validator,
        output_validator,
        scope_set(f"tool {tool_name!r}", options.get("scopes")),
        _task_begins(tool_name, options.get("task_begins", "at_call")),
        ui=ui,
        tags=tags,
        version=version,
        limits=limits_of(f"tool {tool_name!r}", options.get("timeout"), options.get("max_result")),
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


class CallToolParams(CallToolRequestParams, kw_only=True, omit_defaults=True):
    """tools/call params with the arguments left as JSON text (empty when absent), so the
    tool's own decoder reads them straight into its parameter types: one decode, no dict."""

    arguments: msgspec.Raw = msgspec.Raw()  # type: ignore[assignment]


class StatelessCallToolParams(StatelessCallToolRequestParams, kw_only=True, omit_defaults=True):
    """`CallToolParams` of a 2026-07-28 request, which may also carry `inputResponses` and
    `requestState` (basic/patterns/mrtr)."""

    arguments: msgspec.Raw = msgspec.Raw()  # type: ignore[assignment]
    #: No 2025-11-25 task augmentation under 2026-07-28 (its tasks are an extension that the
    #: server decides on, SEP-2663): the handlers read it as "not asked".
    task: ClassVar[None] = None


#: What the server asks its sessions to decode inbound params into.
PARAM_TYPES: Final[dict[str, type]] = {"tools/call": CallToolParams}
#: The same, for requests that carry their own terms (2026-07-28).
STATELESS_PARAM_TYPES: Final[dict[str, type]] = {"tools/call": StatelessCallToolParams}


def _error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


class ToolSettings(Protocol):
    """What a server sets for the tools it runs (`Server(sync_in_thread=...,
    mask_error_details=..., tool_error_prefix=...)`)."""

    @property
    def sync_in_thread(self) -> bool: ...

    @property
    def mask_error_details(self) -> bool: ...

    @property
    def tool_error_prefix(self) -> str | None: ...

    @property
    def json_string_arguments(self) -> bool: ...


async def run_as_set(
    server: ToolSettings, spec: ToolSpec, arguments: Any, ctx: object, *, bounded: bool = False
) -> CallToolResult:
    """Validate, call, and turn the outcome into a CallToolResult, as `server` (running the
    call) sets it, each setting read where it is used, within the tool's limits if it has
    any (`bounded`: this is the run they bound). `arguments` may still be JSON text
    (`msgspec.Raw`, as `CallToolParams` leaves them). With `mask_error_details`, an
    unexpected exception's text stays in the server's log; `tool_error_prefix` (formatted
    with the tool's name) goes before a `ToolError`'s text; `sync_in_thread` runs a sync
    function in the worker pool. `ctx`, the request's Context, is handed on as it is."""
    limits = spec.limits
    if limits is not None and not bounded:
        run = run_as_set(server, spec, arguments, ctx, bounded=True)
        return await limits.bound(spec.name, spec.is_async, run, ctx)
    kwargs = _arguments(spec, arguments, server)
    if isinstance(kwargs, CallToolResult):  # (what to fix in them)
        return kwargs
    if spec.context_param is not None:
        assert type(kwargs) is dict  # (`in_order` tools take no context)
        kwargs[spec.context_param] = ctx
    try:
        # An `async def` is awaited here: only a sync one needs the worker pool's call.
        value = await (
            (
                spec.fn(**kwargs)
                if spec.is_async
                else call_handler(
                    spec.fn,
                    (),
                    kwargs,
                    is_async=False,
                    in_thread=server.sync_in_thread
                    if spec.sync_in_thread is None
                    else spec.sync_in_thread,
                )
            )
            if type(kwargs) is dict
            else spec.fn(*kwargs)  # by position (`ToolSpec.in_order`: an `async def`)
        )
    except (ToolError, PeerError, RequestTimeout) as exc:
        return _reported_failure(spec, exc, server.tool_error_prefix)
    except McpError:
        raise  # protocol errors (e.g. -32042 URL elicitation required) go out as they are
    except Exception as exc:
        return _unexpected_failure(spec, exc, server.mask_error_details)
    if type(value) is str and spec.wire.output_schema is None:  # (`to_tool_result`'s text)
        return CallToolResult(content=[TextContent(text=value)])
    return _result(spec, value, server.mask_error_details)


def _arguments(
    spec: ToolSpec, arguments: dict[str, Any] | msgspec.Raw | None, server: ToolSettings
) -> dict[str, Any] | tuple[Any, ...] | CallToolResult:
    """The tool's arguments, decoded for its call, or the error result that says what to fix
    in them. The usual call's JSON text goes straight through its signature's decoder where
    that gives every parameter (`decode_all_set`), else through `validate_json`; values
    alone, in order, for a tool called by position (`ToolSpec.in_order`). With
    `json_string_arguments`, arguments that fail validation are tried again with JSON text
    parsed where an object or array is wanted."""
    try:
        if type(arguments) is not msgspec.Raw or spec.raw_validator is not None:
            return _keyword_arguments(spec, arguments)
        decode = spec.signature.decode_all_set
        if decode is not None and arguments:
            try:
                decoded = decode(arguments)
            except msgspec.ValidationError:
                pass  # (`validate_json` words the error as `validate` does)
            else:
                return astuple(decoded) if spec.in_order else asdict(decoded)
        return spec.signature.validate_json(arguments)
    except ArgumentError as exc:
        retried = _with_json_strings(spec, arguments) if server.json_string_arguments else None
        if retried is None:
            worded = _worded(spec, arguments) or exc
            return _error_result(f"Invalid arguments for tool {spec.name!r}: {worded}")
        return retried


def _result(spec: ToolSpec, value: Any, mask_errors: bool) -> CallToolResult:
    """The result of the tool's return `value` (`to_tool_result`); an error result where it
    does not fit the output schema (the reason logged, and in the result unless errors are
    masked)."""
    try:
        return to_tool_result(spec, value)
    except OutputError as exc:
        logger.error(
            "tool %r returned a value that does not fit its output schema: %s", spec.name, exc
        )
        detail = "" if mask_errors else f": {exc}"
        return _error_result(f"Tool {spec.name!r} returned invalid output{detail}")


def _reported_failure(
    spec: ToolSpec, exc: ToolError | PeerError | RequestTimeout, error_prefix: str | None
) -> CallToolResult:
    """The result of a `ToolError` the tool raised (its text, after the prefix if any), or of
    a request it made to the client (sampling, elicitation, roots) that failed: the tool
    failed, which the model should hear about; the tools/call itself did not."""
    if isinstance(exc, ToolError):
        return tool_error_result(spec.name, exc, error_prefix)
    return _error_result(f"Error executing tool {spec.name!r}: {exc}")


def _unexpected_failure(spec: ToolSpec, exc: Exception, mask_errors: bool) -> CallToolResult:
    """The result of any other exception of the tool, logged here (its text in the result
    only where errors are not masked, or where it is meant to be shown)."""
    log_handler_failure(logger, f"tool {spec.name!r}", exc)
    note_failure(exc)  # for a middleware that transforms or retries it (server/middleware)
    detail = "" if mask_errors and not shown_when_masked(exc) else f": {exc}"
    return _error_result(f"Error executing tool {spec.name!r}{detail}")


def _with_json_strings(
    spec: ToolSpec, arguments: dict[str, Any] | msgspec.Raw | None
) -> dict[str, Any] | None:
    return retry_with_json_strings(
        spec.name,
        spec.wire.input_schema,
        arguments,
        lambda fixed: _keyword_arguments(spec, fixed),
        ArgumentError,
    )


def _keyword_arguments(
    spec: ToolSpec, arguments: dict[str, Any] | msgspec.Raw | None
) -> dict[str, Any]:
    decoded: Any = arguments  # any JSON value until checked
    if isinstance(arguments, msgspec.Raw):
        if spec.raw_validator is None:
            return spec.signature.validate_json(arguments)
        decoded = decode_arguments(arguments) if arguments else None
    if spec.raw_validator is not None:
        decoded = _json_object(decoded)
        _validate_raw(spec, decoded or {})
    return spec.signature.validate(decoded)


def _json_object(value: Any) -> dict[str, Any] | None:
    """`value` if it is a JSON object or None (no arguments), else ArgumentError."""
    if value is not None and not isinstance(value, dict):
        raise ArgumentError("arguments must be a JSON object")
    return cast("dict[str, Any] | None", value)


def _validate_raw(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    errors = [
        f"{dotted_path(e.instance_path)}: {e.message}"
        for e in spec.raw_validator.iter_errors(arguments)
    ]
    if errors:
        raise ArgumentError("; ".join(errors))


def _worded(spec: ToolSpec, arguments: dict[str, Any] | msgspec.Raw | None) -> ArgumentError | None:
    """Refused arguments' error as "path: must be ... (got ...)" where each thing wrong with
    them is a constraint of the input schema the tool shows (`argument_errors`)."""
    decoded: Any = arguments
    if isinstance(arguments, msgspec.Raw):
        try:
            decoded = msgspec.json.decode(arguments) if arguments else None
        except msgspec.DecodeError:
            return None
    return worded_errors(spec.wire.input_schema, decoded)


def to_tool_result(spec: ToolSpec, value: Any) -> CallToolResult:
    """The rules for return values: a CallToolResult as it is; content blocks as content
    alone; with an output schema, structuredContent plus its JSON as text; else text.

    A tool that advertises an output schema sends structuredContent that validates against
    it (server/tools, "Output Schema"), whatever other value the function returned; else
    OutputError. Content blocks are the exception: they are the result's content, never
    data, so a hint that admits them (`list[object]`) does not send them a second time as
    structuredContent; one that does not (a dataclass) still makes them an OutputError.
    """
    if isinstance(value, CallToolResult):
        # An error result says what went wrong: it carries no data the schema describes.
        if spec.output_validator is not None and not value.is_error:
            _check_structured(spec, value.structured_content)
        return value
    structured = _structured(spec, value)  # checks the value against the hint
    if is_content(value):
        blocks = cast("list[ContentBlock]", value) if isinstance(value, list) else [value]
        if structured is not None and not spec.warned_content:
            spec.warned_content = True
            logger.warning(
                "tool %r returned content blocks, sent without structuredContent, though its "
                "return hint gives it an output schema (a client may refuse such a result): "
                "annotate it with the content types it returns, such as list[ContentBlock]",
                spec.name,
            )
        return CallToolResult(content=blocks)
    if structured is None and value is None:
        return CallToolResult(content=[])
    return CallToolResult(content=[TextContent(text=_text(value))], structured_content=structured)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return to_json_text(value)
    except (TypeError, ValueError) as exc:
        raise OutputError(
            f"the return value cannot be sent as JSON: {exc}; return "
            "JSON-like data, a dataclass or Struct, or content"
        ) from exc


def _structured(spec: ToolSpec, value: Any) -> dict[str, Any] | None:
    if spec.wire.output_schema is None:
        return None
    if spec.output is not None and spec.output.output_schema is spec.wire.output_schema:
        return spec.output.to_structured(value)  # checked against the hint by msgspec
    try:  # a schema given as output_schema=: the value is checked against it as JSON
        structured = msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)
    except (TypeError, ValueError) as exc:
        raise OutputError(f"the return value cannot be sent as JSON: {exc}") from exc
    _check_structured(spec, structured)
    return cast("dict[str, Any]", structured)


def _check_structured(spec: ToolSpec, structured: object) -> None:
    if structured is None:
        raise OutputError(
            "it returned a CallToolResult without structuredContent, but the "
            "tool advertises an output schema; set structured_content, or "
            "register the tool with structured_output=False"
        )
    assert spec.output_validator is not None
    if has_non_finite_floats(structured):
        raise OutputError(
            "its structured content holds NaN or an infinity, which JSON numbers cannot carry"
        )
    errors = [
        f"{'/'.join(str(p) for p in e.instance_path) or '(root)'}: {e.message}"
        for e in spec.output_validator.iter_errors(structured)
    ]
    if errors:
        raise OutputError(
            "its structured content does not fit the output schema: " + "; ".join(errors)
        )
