"""The schemas a tool shows and checks its calls against, worked out once when it is built
(`make_tool`): the input schema from its parameters' hints or given as it is (made lenient
when asked), its output schema from its return hint or given, the arguments it mirrors into
headers, and the validators of the schemas given rather than hinted.

A schema that cannot be kept is refused here, naming the tool: an output schema whose root
is not an object, `structured_output=True` with no return hint to give one, a header for an
argument the tool does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from mcpkit.protocol.param_headers import HEADER_TOKEN
from mcpkit.server.catalog.calling.invoke import is_context_annotation
from mcpkit.server.catalog.registration_checks import warn_untyped
from mcpkit.server.schemas._coercion import lenient_schema
from mcpkit.server.schemas.signature import FunctionSignature, OutputSpec, build_signature

__all__ = ["ToolSchemas", "tool_schemas", "with_param_headers"]


@dataclass(frozen=True, slots=True)
class ToolSchemas:
    """What a tool's hints and given schemas make of it: the signature that decodes its
    arguments, its return hint's output, the schemas it shows, and the jsonschema_rs
    validators of a given input schema (`raw_validator`) and of its output schema."""

    signature: FunctionSignature
    output: OutputSpec | None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    raw_validator: Any
    output_validator: Any


def tool_schemas(
    tool_name: str,
    fn: Callable[..., Any],
    input_schema: dict[str, Any] | None,
    output_schema: dict[str, Any] | None,
    *,
    lenient: bool,
    structured_output: bool | None,
    headers: Mapping[str, str] | None,
) -> ToolSchemas:
    """The schemas of tool `tool_name`, whose function (its injected parameters already
    taken out) is `fn`; `input_schema` and `output_schema` as given, or None."""
    # Arguments that passed a schema of the user's own are converted as loosely as they
    # must be to reach the parameters' types.
    coerce = lenient or input_schema is not None
    signature = build_signature(
        fn, skip=is_context_annotation, force_output=structured_output is True, coerce=coerce
    )
    # Only where the hints make the schema: one given by hand describes the parameters itself.
    if input_schema is None:
        warn_untyped("tool", fn, signature.parameters)
        if lenient:
            input_schema = lenient_schema(signature.input_schema)
    # structured_output=False: no output schema from the hint, results sent as content alone.
    output = None if structured_output is False else signature.output
    _check_output(tool_name, output, output_schema, structured_output)
    # Only a schema given (or made lenient) needs its own validator: the hinted one is
    # enforced by the signature's conversion, which words errors for the model.
    raw_validator = _validator(input_schema)
    wire_input = input_schema if input_schema is not None else signature.input_schema
    if headers:
        wire_input = with_param_headers(tool_name, wire_input, headers)
    # A given output_schema wins over the one the return hint makes.
    if output_schema is None and output is not None:
        output_schema = output.output_schema
    return ToolSchemas(
        signature, output, wire_input, output_schema, raw_validator, _validator(output_schema)
    )


def _check_output(
    tool_name: str,
    output: OutputSpec | None,
    output_schema: dict[str, Any] | None,
    structured_output: bool | None,
) -> None:
    """Refuse at registration an output the tool could never honour: structured_output=True
    with no schema to give, or a given schema whose root is no object (server/tools,
    "Output Schema"), which no client could read structured content against."""
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


def _validator(schema: dict[str, Any] | None) -> Any:
    """A jsonschema_rs validator of `schema`, or None; the library is imported only by a
    server that has such a schema."""
    if schema is None:
        return None
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema)


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
        # Unique case-insensitively (server/tools, 2026-07-28, "x-mcp-header"): HTTP field
        # names ignore case, so `Region` and `region` would be one header.
        if header.lower() in seen:
            raise TypeError(f"{where}: header {header!r} is named twice (case does not count)")
        seen.add(header.lower())
        found: Any = properties.get(argument)
        if not isinstance(found, dict):
            raise TypeError(f"{where}: the tool has no argument {argument!r}")
        prop = cast("dict[str, Any]", found)
        # Primitive types only, `number` excluded ("x-mcp-header"): a client refuses a tool
        # that breaks this, dropping it from its list.
        if prop.get("type") not in ("string", "integer", "boolean"):
            raise TypeError(
                f"{where}: only string, integer and boolean arguments can be mirrored into a "
                f"header, and {argument!r} is {prop.get('type', 'untyped')}"
            )
        properties[argument] = {**prop, "x-mcp-header": header}
    return {**schema, "properties": properties}
