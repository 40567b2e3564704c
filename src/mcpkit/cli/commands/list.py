"""`mcpkit list TARGET`: what a server offers (tools with their parameters, resources,
resource templates, prompts with their arguments)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client

__all__ = ["parameters", "register", "surface", "type_text"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "list",
        help="list a server's tools, resources, resource templates and prompts",
        description="List what TARGET offers. docs/cli.md has examples and the exit codes.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    from mcpkit.cli._options import add_common_options, add_target

    add_target(verb)
    add_common_options(verb, interactive=False)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._verb_client import run_session

    async def body(client: Client, ui: Terminal) -> int:
        found = await surface(client)
        if ui.json_output:
            ui.json(found)
        else:
            _show(ui, found)
        return 0

    return run_session(args, parser, body)


async def surface(client: Client) -> dict[str, list[Any]]:
    """Every list the server's capabilities offer, each in the server's order (the order its
    author registered them in, as the inspector shows them)."""
    caps = client.server_capabilities
    found: dict[str, list[Any]] = {}
    if caps.tools is not None:
        found["tools"] = await client.list_tools()
    if caps.resources is not None:
        found["resources"] = await client.list_resources()
        found["resourceTemplates"] = await client.list_resource_templates()
    if caps.prompts is not None:
        found["prompts"] = await client.list_prompts()
    return found


def _show(ui: Terminal, found: dict[str, list[Any]]) -> None:
    if not any(found.values()):
        ui.text("The server offers no tools, resources or prompts.")
    for tool in found.get("tools", []):
        _show_tool(ui, tool)
    if found.get("resources"):
        rows = [(r.uri, r.name, r.mime_type or "", r.description or "") for r in found["resources"]]
        ui.table("Resources", ("URI", "name", "MIME type", "description"), rows)
    if found.get("resourceTemplates"):
        rows = [
            (t.uri_template, t.name, t.mime_type or "", t.description or "")
            for t in found["resourceTemplates"]
        ]
        ui.table("Resource templates", ("URI template", "name", "MIME type", "description"), rows)
    for prompt in found.get("prompts", []):
        title = f"Prompt {prompt.name}" + (f": {prompt.description}" if prompt.description else "")
        declared: list[Any] = prompt.arguments or []
        arguments = [
            (str(a.name), "yes" if a.required else "no", str(a.description or "")) for a in declared
        ]
        if arguments:
            ui.table(title, ("argument", "required", "description"), arguments)
        else:
            ui.heading(title + " (no arguments)")


def _show_tool(ui: Terminal, tool: Any) -> None:
    title = f"Tool {tool.name}" + (f": {tool.description}" if tool.description else "")
    rows = parameters(tool.input_schema)
    if rows:
        ui.table(title, ("parameter", "type", "required", "default", "description"), rows)
    else:
        ui.heading(title + " (no parameters)")


def parameters(schema: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(name, type, required, default, description) per property of an input schema; the
    default is empty where the schema gives none."""
    from mcpkit.cli._args import as_list, as_object, shown_value

    required = set(as_list(schema.get("required")))
    rows: list[tuple[str, str, str, str, str]] = []
    for name, value in as_object(schema.get("properties")).items():
        prop = as_object(value)
        default = shown_value(prop["default"]) if "default" in prop else ""
        description = str(prop.get("description") or "")
        rows.append(
            (name, type_text(prop), "yes" if name in required else "no", default, description)
        )
    return rows


def type_text(value: object) -> str:
    """A property's type as people read it: `integer`, `array of string`, `"a" | "b"`."""
    from mcpkit.cli._args import as_list, as_object

    prop = as_object(value)
    if isinstance(prop.get("enum"), list):
        return " | ".join(_literal(v) for v in as_list(prop["enum"]))
    kind: object = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in as_list(prop.get("type")))
    if kind == "array":
        return f"array of {type_text(prop['items'])}" if prop.get("items") else "array"
    if kind is not None:
        return str(kind)
    alternatives = as_list(prop.get("anyOf") or prop.get("oneOf"))
    if alternatives:
        return " | ".join(type_text(a) for a in alternatives)
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    return "any"


def _literal(value: Any) -> str:
    import json

    return json.dumps(value)
