"""tools/call: a tool's arguments decoded into its parameters, its function called, and
what it returns or raises made a `CallToolResult` (spec: server/tools).

Input that fails validation is an `isError` result that tells the model what to fix
(SEP-1303); so is an exception from the tool. Structured output comes from the return
hint, with the same value as JSON text beside it for older clients. The tool itself, built
once, is `catalog.tools.ToolSpec`; this module is what each call does with it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, cast

import msgspec
from msgspec.structs import asdict, astuple

from mcpkit.errors import McpError, PeerError, RequestTimeout, ToolError, shown_when_masked
from mcpkit.runtime.handler_failure import log_handler_failure
from mcpkit.runtime.workers import call_handler
from mcpkit.server.catalog.calling.argument_errors import dotted_path, worded_errors
from mcpkit.server.catalog.calling.content import is_content, to_json_text
from mcpkit.server.catalog.calling.json_arguments import retry_with_json_strings
from mcpkit.server.catalog.calling.tool_errors import tool_error_result
from mcpkit.server.catalog.calling.tool_failures import note_failure
from mcpkit.server.schemas._coercion import has_non_finite_floats
from mcpkit.server.schemas._hints import enc_hook
from mcpkit.server.schemas.argument_messages import ArgumentError
from mcpkit.server.schemas.signature import OutputError, decode_arguments
from mcpkit.types import CallToolRequestParams, CallToolResult, ContentBlock, TextContent
from mcpkit.types._gen_2026_07_28 import CallToolRequestParams as ModernCallToolRequestParams

if TYPE_CHECKING:
    from mcpkit.server.catalog.tools import ToolSpec

__all__ = [
    "PARAM_TYPES",
    "MODERN_PARAM_TYPES",
    "CallToolParams",
    "ModernCallToolParams",
    "ToolSettings",
    "run_as_set",
    "to_tool_result",
    "tool_error_prefix_format",
]

logger = logging.getLogger("mcpkit.server")

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


class CallToolParams(CallToolRequestParams, kw_only=True, omit_defaults=True):
    """tools/call params with the arguments left as JSON text (empty when absent), so the
    tool's own decoder reads them straight into its parameter types: one decode, no dict."""

    arguments: msgspec.Raw = msgspec.Raw()  # type: ignore[assignment]


class ModernCallToolParams(ModernCallToolRequestParams, kw_only=True, omit_defaults=True):
    """`CallToolParams` of a 2026-07-28 request, which may also carry `inputResponses` and
    `requestState` (basic/patterns/mrtr)."""

    arguments: msgspec.Raw = msgspec.Raw()  # type: ignore[assignment]
    #: No 2025-11-25 task augmentation under 2026-07-28 (its tasks are an extension that the
    #: server decides on, SEP-2663): the handlers read it as "not asked".
    task: ClassVar[None] = None


#: What the server asks its sessions to decode inbound params into.
PARAM_TYPES: Final[dict[str, type]] = {"tools/call": CallToolParams}
#: The same, for modern requests (2026-07-28).
MODERN_PARAM_TYPES: Final[dict[str, type]] = {"tools/call": ModernCallToolParams}


def _error_result(message: str) -> CallToolResult:
    """An `isError` result (server/tools, "Error Handling"): the model reads what went
    wrong and can correct its call, where a protocol error might never reach it."""
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
    def json_string_arguments(self) -> bool:
        """Whether refused arguments are tried again with JSON text parsed where an object
        or array is wanted, as many clients send them (`json_arguments`)."""
        ...


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
        # A schema given by hand is checked on decoded JSON; arguments that arrive decoded
        # already (a mounted server's tool, called through its parent) take that way too.
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
            # Worded by the schema the model was shown, where that can say it; else the
            # signature's own message.
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
    # Shown even when errors are masked: it tells of the client's own answer (or silence).
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
    """The arguments with JSON text parsed where the schema wants structure, validated as
    keyword arguments; None when that does not help, and the first error stands."""
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
    """The arguments as keyword arguments, through the given schema's validator first where
    the tool has one: it may constrain more than the parameters' hints do."""
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
    """ArgumentError listing every violation of the given schema at once, each at its path,
    so that the model can fix them all in one retry."""
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
