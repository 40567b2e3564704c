"""`mcpkit generate client`: a module with one typed async method per tool of a server, on a
class that wraps an mcpkit `Client`; TypedDicts for the arguments and structured results."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpkit.codegen._header import header, opening
from mcpkit.codegen._names import RESERVED, Scope, is_identifier, snake_name
from mcpkit.codegen._names import class_name as capwords
from mcpkit.codegen._schema_types import Record, Types, json_object
from mcpkit.codegen._source import comment_line, docstring, finished, string_literal

__all__ = ["client_module", "is_class_name"]

#: The mark of an output schema that wraps a value that is not an object as `{"result": ...}`
#: (mcpkit's servers and FastMCP's write it): the method returns the value itself.
WRAP_MARK = "x-fastmcp-wrap-result"
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_WHY_NOT = (
    "give an ASCII Python identifier, not a keyword, dunder, builtin or name the module imports"
)


@dataclass
class _Param:
    name: str
    key: str
    type: str
    required: bool
    doc: str


@dataclass
class _Method:
    name: str
    tool: Mapping[str, Any]
    params: list[_Param]
    arguments: str | None  # the TypedDict of the arguments
    returns: str  # the type the method returns
    unwrap: bool  # the value is structuredContent["result"]


def client_module(
    tools: Sequence[Mapping[str, Any]], server: str, *, class_name: str | None = None
) -> str:
    """The source of the module for `tools` (`tools/list` entries as JSON objects) of the
    server named `server`; its class is `class_name`, or the server's name + `Client`.
    A `class_name` that is not a Python identifier, a keyword, or a name the module uses
    itself (`Client`, `Any`, a builtin) is a ValueError."""
    if class_name is not None and not is_class_name(class_name):
        raise ValueError(f"{class_name!r} cannot name the class: {_WHY_NOT}")
    scope = Scope()
    types = Types(scope)
    cls = scope.take(class_name or capwords(server, "Server") + "Client")
    methods = _methods(tools, scope, types)
    uses_omitted = any(not p.required for m in methods for p in m.params)
    exported = [cls, *(a.name for a in types.aliases), *(r.name for r in types.records)]
    if uses_omitted:
        exported += ["OMITTED", "Omitted"]
    out = [
        *header("client", server, tools),
        docstring(
            f"Typed async methods for the tools of the MCP server {string_literal(server)}.",
            "",
        ),
        "",
        "from __future__ import annotations",
        "",
        *(["import enum"] if uses_omitted else []),
    ]
    body = list(_OMITTED) if uses_omitted else []
    for alias in types.aliases:
        body += ["", "", *_alias_lines(alias.name, alias.values)]
    for record in types.records:
        body += ["", "", *_record_lines(record)]
    body += ["", "", *_class_lines(cls, server, methods)]
    structured = any(m.returns != "ToolResult" for m in methods)
    if methods:
        body += _CHECKED + (_STRUCTURED if structured else [])
    if any(m.unwrap for m in methods):
        body += _UNWRAPPED
    out += [
        *_imports(types, methods, structured),
        "",
        "__all__ = [",
        *(f"    {string_literal(name)}," for name in sorted(exported)),
        "]",
        *body,
    ]
    return finished("\n".join(out) + "\n", opening("client"))


def _imports(types: Types, methods: list[_Method], structured: bool) -> list[str]:
    """What the module imports: only what it uses (strict checkers refuse an unused import)."""
    expressions = [
        *(m.returns for m in methods),
        *(f.type for r in types.records for f in r.fields),
        *(["dict[str, Any]"] if structured else []),
        *(["dict[str, Any]"] if any(not p.key for m in methods for p in m.params) else []),
    ]
    typing = {
        "Any": "Any" in _IDENTIFIER.findall(" ".join(expressions)),
        "Literal": bool(types.aliases),
        "NotRequired": any(not f.required for r in types.records for f in r.fields if f.key),
        "TypeAlias": bool(types.aliases),
        "TypedDict": bool(types.records),
        "cast": structured,
    }
    mcpkit = ["Client", *(["PeerError"] if structured else [])]
    mcpkit += ["ToolError", "ToolResult"] if methods else []
    used = [name for name, wanted in typing.items() if wanted]
    return [
        *([f"from typing import {', '.join(used)}", ""] if used else []),
        f"from mcpkit import {', '.join(mcpkit)}",
    ]


def is_class_name(text: str) -> bool:
    """Whether `text` can name the generated class: an ASCII identifier that is not a
    keyword, a dunder, nor a name the module uses itself."""
    return is_identifier(text) and text not in RESERVED


def _methods(tools: Sequence[Mapping[str, Any]], scope: Scope, types: Types) -> list[_Method]:
    names = Scope(RESERVED | {"client"})
    methods: list[_Method] = []
    for tool in tools:
        name = str(tool.get("name"))
        hint = capwords(name, "Tool")
        schema = json_object(tool.get("inputSchema"))
        arguments, params = _params(schema, scope, types, hint + "Arguments")
        returns, unwrap = _result(tool.get("outputSchema"), scope, types, hint)
        method = names.take(snake_name(name, "tool"))
        methods.append(_Method(method, tool, params, arguments, returns, unwrap))
    return methods


def _params(
    schema: Mapping[str, Any], scope: Scope, types: Types, hint: str
) -> tuple[str | None, list[_Param]]:
    """The TypedDict of a tool's arguments and its method's parameters (required first)."""
    if not json_object(schema.get("properties")):
        return None, []
    record = types.record(schema, schema, scope.take(hint))
    local = Scope(RESERVED | {"arguments", "result"})
    params = [
        _Param(local.take(snake_name(f.key, "arg")), f.key, f.type, f.required, f.doc)
        for f in record.fields
    ]
    return record.name, sorted(params, key=lambda p: not p.required)


def _result(given: object, scope: Scope, types: Types, hint: str) -> tuple[str, bool]:
    """What the method returns, and whether it is `structuredContent["result"]`."""
    schema = json_object(given)
    if not schema:
        return "ToolResult", False
    properties = json_object(schema.get("properties"))
    if schema.get(WRAP_MARK) is True and "result" in properties:
        return types.expression(properties["result"], schema, hint + "Result"), True
    if properties:
        return types.record(schema, schema, scope.take(hint + "Result")).name, False
    return "dict[str, Any]", False


def _record_lines(record: Record) -> list[str]:
    """A TypedDict: the class syntax where every key can be a class attribute, else the
    functional syntax (keys such as `class`, `a-b` or `_x`, or one naming a type it uses)."""
    # A key "" is left out: no type checker takes it (its value is in the dict all the same).
    fields = [f for f in record.fields if f.key]
    # a key may not be a name its class's annotations use: it would hide that name there
    used = set(_IDENTIFIER.findall(" ".join(f.type for f in fields))) | {"NotRequired"}
    plain = all(
        f.key.isidentifier() and f.key.isascii() and not f.key.startswith("_")
        and not keyword.iskeyword(f.key) and f.key not in used
        for f in fields
    )  # fmt: skip
    if not plain:
        lines = [f"# {comment_line(record.doc)}"] if record.doc else []
        lines.append(f"{record.name} = TypedDict(")
        lines.append(f"    {string_literal(record.name)},")
        lines.append("    {")
        for f in fields:
            kind = string_literal(f.type)
            kind = kind if f.required else f"NotRequired[{kind}]"
            lines.append(f"        {string_literal(f.key)}: {kind},")
        return [*lines, "    },", ")"]
    lines = [f"class {record.name}(TypedDict):"]
    if record.doc:
        lines += [docstring(record.doc, "    "), *([""] if fields else [])]
    elif not fields:
        lines.append("    pass")
    for f in fields:
        if f.doc:
            lines.append(f"    #: {comment_line(f.doc)}")
        lines.append(f"    {f.key}: {f.type if f.required else f'NotRequired[{f.type}]'}")
    return lines


def _alias_lines(name: str, values: list[str]) -> list[str]:
    line = f"{name}: TypeAlias = Literal[{', '.join(values)}]"
    if len(line) <= 100:
        return [line]
    return [f"{name}: TypeAlias = Literal[", *(f"    {v}," for v in values), "]"]


def _class_lines(cls: str, server: str, methods: list[_Method]) -> list[str]:
    doc = (
        f"The tools of {string_literal(server)}, one typed method each.\n\n"
        "Give it an mcpkit `Client` (connected, or used as `async with`). A tool's error\n"
        "result raises `ToolError` with its text."
    )
    lines = [
        f"class {cls}:",
        docstring(doc, "    "),
        "",
        "    def __init__(self, client: Client) -> None:",
        "        self.client = client",
    ]
    for method in methods:
        lines += ["", *_method_lines(method)]
    return lines


def _method_lines(method: _Method) -> list[str]:
    params = [
        f"{p.name}: {p.type}" if p.required else f"{p.name}: {p.type} | Omitted = OMITTED"
        for p in method.params
    ]
    signature = ", ".join(["self", *(["*", *params] if params else [])])
    head = f"    async def {method.name}({signature}) -> {method.returns}:"
    if len(head) > 100:  # one parameter a line, as formatters write them
        inner = "".join(f"        {part},\n" for part in ["self", "*", *params])
        head = f"    async def {method.name}(\n{inner}    ) -> {method.returns}:"
    lines = [head]
    lines.append(docstring(_method_doc(method), "        "))
    tool = string_literal(str(method.tool.get("name")))
    sent = "{}"
    if method.arguments is not None:
        lines += _arguments_lines(method)
        sent = "sent" if any(not p.key for p in method.params) else "dict(arguments)"
    task = json_object(method.tool.get("execution")).get("taskSupport") == "required"
    call = f"await self.client.call_tool({tool}, {sent}{', task=True' if task else ''})"
    lines.append(f"        result = {call}")
    if method.returns == "ToolResult":
        return [*lines, f"        return _checked(result, {tool})"]
    value = f"_{'unwrapped' if method.unwrap else 'structured'}(result, {tool})"
    return [*lines, f"        return cast({string_literal(method.returns)}, {value})"]


def _arguments_lines(method: _Method) -> list[str]:
    """The arguments' TypedDict filled in from the parameters; a key "" (which no TypedDict
    can have) goes into the plain dict sent."""
    typed = [p for p in method.params if p.key]
    given = ", ".join(f"{string_literal(p.key)}: {p.name}" for p in typed if p.required)
    lines = [f"        arguments: {method.arguments} = {{{given}}}"]
    for p in typed:
        if not p.required:
            lines.append(f"        if not isinstance({p.name}, Omitted):")
            lines.append(f"            arguments[{string_literal(p.key)}] = {p.name}")
    untyped = [p for p in method.params if not p.key]
    if untyped:
        lines.append("        sent: dict[str, Any] = dict(arguments)")
    for p in untyped:
        indent = "        "
        if not p.required:
            lines.append(f"        if not isinstance({p.name}, Omitted):")
            indent += "    "
        lines.append(f'{indent}sent[""] = {p.name}')
    return lines


def _method_doc(method: _Method) -> str:
    description = method.tool.get("description")
    title = method.tool.get("title")
    text = description if isinstance(description, str) and description.strip() else None
    text = text or (title if isinstance(title, str) and title.strip() else None)
    doc = text or f"Call the tool {string_literal(str(method.tool.get('name')))}."
    documented = [p for p in method.params if p.doc or p.name != p.key]
    if documented:
        doc += "\n\nArgs:"
        for p in documented:
            sent_as = f" (sent as {string_literal(p.key)})" if p.name != p.key else ""
            # one line of the docstring, which escapes it (comment_line's escapes would show)
            doc += f"\n    {p.name}{sent_as}: {' '.join(p.doc.split())}"
    return doc


_OMITTED = [
    "",
    "",
    "class Omitted(enum.Enum):",
    '    """The default of an optional argument: the call leaves it out."""',
    "",
    '    OMITTED = "OMITTED"',
    "",
    "",
    "OMITTED = Omitted.OMITTED",
]

_CHECKED = [
    "",
    "",
    "def _checked(result: ToolResult, tool: str) -> ToolResult:",
    "    if result.is_error:",
    '        raise ToolError(result.text or f"the tool {tool!r} failed")',
    "    return result",
]

_STRUCTURED = [
    "",
    "",
    "def _structured(result: ToolResult, tool: str) -> dict[str, Any]:",
    "    content = _checked(result, tool).structured_content",
    "    if content is None:  # -32602, as for any result that does not fit its schema",
    "        raise PeerError(",
    "            -32602,",
    '            f"Invalid result for tools/call: {tool!r} declares an output schema but "',
    '            "answered no structured content",',
    "        )",
    "    return content",
]

_UNWRAPPED = [
    "",
    "",
    "def _unwrapped(result: ToolResult, tool: str) -> Any:",
    "    content = _structured(result, tool)",
    '    if "result" not in content:',
    "        raise PeerError(",
    "            -32602,",
    '            f"Invalid result for tools/call: {tool!r} declares its value wrapped in "',
    '            "\\"result\\" but answered structured content without it",',
    "        )",
    '    return content["result"]',
]
