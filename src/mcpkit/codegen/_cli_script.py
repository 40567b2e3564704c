"""`mcpkit generate cli`: a standalone script with one argparse subcommand per tool of a server,
its options made from the tool's input schema, that calls the server through mcpkit."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpkit.codegen._client_module import WRAP_MARK
from mcpkit.codegen._header import header, opening
from mcpkit.codegen._names import RESERVED, Scope, snake_name
from mcpkit.codegen._schema_types import json_list, json_object
from mcpkit.codegen._source import docstring, finished, string_literal

__all__ = ["cli_script"]

# A subcommand or option spelt as the server names it, when a shell user can type it as is.
_TYPABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: The script's own options: a tool option never takes these.
_OWN = {"help", "server", "timeout", "json"}


def cli_script(
    tools: Sequence[Mapping[str, Any]],
    server: str,
    target: str,
    *,
    written_to: str | os.PathLike[str] | None = None,
) -> str:
    """The source of a script for `tools` of the server named `server`, which it reaches at
    `target` (any TARGET `mcpkit` takes) unless given `--server`. `target` is read from the
    folder this is called in, wherever the script runs: the script holds that folder
    relative to its own (`written_to`, the file it will be; its folder moves with it), or
    as an absolute path when it is printed."""
    commands = Scope(frozenset(), identifiers=False)
    body: list[str] = []
    for tool in tools:
        name = str(tool.get("name"))
        command = commands.take(name if _TYPABLE.fullmatch(name) else snake_name(name, "tool"))
        body += _subcommand(tool, name, command)
    out = [
        *header("cli", server, tools),
        docstring(f"The tools of the MCP server {string_literal(server)} as commands.", ""),
        "",
        "from __future__ import annotations",
        "",
        "import argparse",
        "import asyncio",
        "import dataclasses",
        "import json",
        "import os",
        "import sys",
        "from pathlib import Path",
        "",
        "from mcpkit.client.target import Target, TargetError, open_client, parse_target",
        "from mcpkit.errors import McpkitError",
        "",
        f"TARGET = {string_literal(target)}",
        "#: The folder TARGET was given in, relative to this file's: TARGET is read, and a server",
        "#: it names is started, from there, wherever the script is run from.",
        f"TARGET_FOLDER = {string_literal(_folder(written_to))}",
        "",
        "",
        "def parser() -> argparse.ArgumentParser:",
        "    made = argparse.ArgumentParser(",
        f"        description={_help(_about(server))}, allow_abbrev=False",
        "    )",
        '    made.add_argument("--server", help="default: " + TARGET.replace("%", "%%"))',
        '    made.add_argument("--timeout", type=float, default=60.0, help="seconds per call")',
        # (a server without tools still gets a script: it says a TOOL is required)
        f"    {'tools = ' if tools else ''}made.add_subparsers("
        'dest="tool", required=True, metavar="TOOL")',
        *(["    tool: argparse.ArgumentParser"] if tools else []),
        *body,
        "    return made",
        *_RUN,
    ]
    return finished("\n".join(out) + "\n", opening("cli"))


def _folder(written_to: str | os.PathLike[str] | None) -> str:
    """Where `mcpkit generate` runs, relative to the folder of the file it writes, or
    absolute (printed, or on another drive)."""
    here = Path.cwd()
    if written_to is None:
        return str(here)
    try:
        return Path(os.path.relpath(here, Path(written_to).absolute().parent)).as_posix()
    except ValueError:  # (Windows: another drive has no relative path)
        return str(here)


def _about(server: str) -> str:
    return f"Call the tools of the MCP server {server!r}."


def _subcommand(tool: Mapping[str, Any], name: str, command: str) -> list[str]:
    description = tool.get("description")
    about = description if isinstance(description, str) else ""
    lines = [
        "    tool = tools.add_parser(",
        f"        {string_literal(command)},",
        "        allow_abbrev=False,",
        f"        help={_help(about.strip().split(chr(10))[0])},",
        f"        description={_help(about)},",
        "    )",
    ]
    schema = json_object(tool.get("inputSchema"))
    required = {k for k in json_list(schema.get("required")) if isinstance(k, str)}
    options = Scope(frozenset(_OWN), identifiers=False)
    dests = Scope(RESERVED | {"tool", "name", "keys", "server", "timeout"})
    keys: list[str] = []
    for key, prop in json_object(schema.get("properties")).items():
        option = options.take(key if _TYPABLE.fullmatch(key) else snake_name(key, "arg"))
        dest = dests.take(snake_name(key, "arg"))
        lines += _option(json_object(prop), option, dest, key in required)
        keys.append(f"{string_literal(dest)}: {string_literal(key)}")
    # which JSON key each option's value is sent as
    output = json_object(tool.get("outputSchema"))
    wrapped = output.get(WRAP_MARK) is True and "result" in json_object(output.get("properties"))
    lines.append(
        f"    tool.set_defaults(name={string_literal(name)}, "
        f"keys={{{', '.join(keys)}}}, wrapped={wrapped})"
    )
    return lines


def _option(prop: dict[str, Any], option: str, dest: str, required: bool) -> list[str]:
    kind = prop.get("type")
    extra: list[str] = []
    enum = json_list(prop.get("enum"))
    if enum and all(isinstance(v, str) for v in enum):
        # argparse would spell the values out in the usage line, which they can break
        extra += [f"choices={_choices(enum)}", f"metavar={string_literal(dest.upper())}"]
    elif kind == "integer":
        extra.append("type=int")
    elif kind == "number":
        extra.append("type=float")
    elif kind == "boolean":
        extra.append("action=argparse.BooleanOptionalAction")
    elif kind == "array" and json_object(prop.get("items")).get("type") in _SIMPLE:
        extra += ['nargs="*"', *_SIMPLE[json_object(prop.get("items")).get("type")]]
    elif kind != "string":  # objects, unions, anything else: given as JSON text
        extra += ["type=json.loads", 'metavar="JSON"']
    description = prop.get("description")
    about = description.strip().split("\n")[0] if isinstance(description, str) else ""
    return [
        "    tool.add_argument(",
        f"        {string_literal('--' + option)},",
        f"        dest={string_literal(dest)},",
        *(f"        {item}," for item in extra),
        f"        required={required},",
        "        default=argparse.SUPPRESS,",
        f"        help={_help(about)},",
        "    )",
    ]


def _help(text: str) -> str:
    """A help text as a literal; `%` doubled, since argparse formats help with it."""
    return string_literal(text.replace("%", "%%"))


def _choices(values: list[Any]) -> str:
    return "[" + ", ".join(string_literal(str(v)) for v in dict.fromkeys(values)) + "]"


_SIMPLE: dict[object, list[str]] = {
    "string": [],
    "integer": ["type=int"],
    "number": ["type=float"],
}

_RUN = [
    "",
    "",
    "def server(given: str | None) -> Target:",
    '    """`--server` as given, read from the folder the script is run in; else TARGET,',
    '    read from TARGET_FOLDER, where a server it starts runs too."""',
    "    if given is not None:",
    "        return parse_target(given)",
    "    here = os.path.dirname(os.path.abspath(__file__))",
    "    folder = os.path.normpath(os.path.join(here, TARGET_FOLDER))",
    "    found = parse_target(TARGET, cwd=Path(folder))",
    "    return dataclasses.replace(found, cwd=folder) if found.spawns else found",
    "",
    "",
    "async def call(args: argparse.Namespace) -> int:",
    "    keys: dict[str, str] = args.keys",
    "    given = vars(args)",
    "    arguments = {key: given[dest] for dest, key in keys.items() if dest in given}",
    "    target = server(args.server)",
    "    async with open_client(target, timeout=args.timeout or None) as client:",
    "        result = await client.call_tool(args.name, arguments)",
    "    found = result.structured_content",
    "    if found is not None:  # a value that is not an object comes as {'result': value}",
    '        print(json.dumps(found["result"] if args.wrapped else found, indent=2))',
    "    elif result.text:",
    "        print(result.text)",
    "    if result.is_error:",
    '        print(f"error: the tool {args.name!r} failed", file=sys.stderr)',
    "        return 1",
    "    return 0",
    "",
    "",
    "def main(argv: list[str] | None = None) -> int:",
    "    args = parser().parse_args(argv)",
    "    try:",
    "        return asyncio.run(call(args))",
    "    except TargetError as exc:  # said in one line, as mcpkit's own commands say it",
    '        print(f"error: {exc}", file=sys.stderr)',
    "    except (McpkitError, OSError) as exc:",
    '        print(f"error: {args.server or TARGET}: {exc}", file=sys.stderr)',
    "    return 1",
    "",
    "",
    'if __name__ == "__main__":',
    "    sys.exit(main())",
]
