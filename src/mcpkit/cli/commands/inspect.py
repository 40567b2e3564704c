"""`mcpkit inspect TARGET`: a server's whole surface as JSON or Markdown, sorted and free of
anything volatile so two runs diff clean; `--web` opens the browser inspector instead."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from collections.abc import Callable

    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client

__all__ = ["register", "render_markdown"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "inspect",
        help="describe a server's whole surface (JSON or Markdown), or inspect it in a browser",
        description="Print everything TARGET declares: server info, protocol version, "
        "capabilities, instructions, tools with their schemas, resources, templates and "
        "prompts, sorted, so two runs diff clean. docs/cli.md has examples.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    from mcpkit.cli._options import add_common_options, add_target

    add_target(verb)
    add_common_options(verb, interactive=False)
    # With --web, no --timeout means the page's calls wait as long as the person does (a call
    # may hold a question answered in the page); without, the common default applies.
    verb.set_defaults(timeout=None, timeout_without_web=verb.get_default("timeout"))
    verb.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown (default) or json (--json is the same as --format json)",
    )
    web = verb.add_argument_group(
        "the web inspector",
        "--header values go to TARGET only, never to a server typed in the page later; "
        "--protocol and --timeout fill the page's connection panel (with --web, no "
        "--timeout means the page's calls wait as long as you do)",
    )
    web.add_argument("--web", action="store_true", help="open the inspector in a browser")
    web.add_argument("--port", type=int, default=0, help="its port (default: a free one)")
    web.add_argument(
        "--no-browser", action="store_true", help="print a one-time link to it, open nothing"
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.web:
        return _web(args, parser)
    if args.timeout is None:
        args.timeout = args.timeout_without_web
    from mcpkit.cli._verb_client import run_session

    async def body(client: Client, ui: Terminal) -> int:
        found = await describe(client)
        if args.json or args.format == "json":
            import json

            ui.text(json.dumps(found, indent=2, sort_keys=True, ensure_ascii=False))
        else:
            ui.text(render_markdown(found))
        return 0

    return run_session(args, parser, body)


def _web(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`--web`: the browser inspector (mcpkit.inspector, written beside this verb), looked up
    by name so this verb works, and type-checks, without it."""
    import importlib

    from mcpkit.cli._output import Terminal
    from mcpkit.cli._verb_client import EXIT_CONNECT
    from mcpkit.cli.project_trust import trust_of, warn
    from mcpkit.client.host_configs.configured import host_target
    from mcpkit.client.target import TargetError, parse_headers, parse_target

    try:
        headers = parse_headers(args.header)
    except TargetError as exc:
        parser.error(f"--header: {exc}")
    if args.target is not None:
        # A malformed URL, a file that does not exist or a HOST:NAME naming no server is
        # refused here, as every verb refuses it, not in the page (which reads HOST:NAME
        # again at each connect).
        try:
            if host_target(args.target, trust=trust_of(args), warn=warn) is None:
                parse_target(args.target)
        except TargetError as exc:
            Terminal().error(str(exc))
            return EXIT_CONNECT
    inspector = importlib.import_module("mcpkit.inspector")
    serve_inspector: Callable[..., object] = inspector.serve_inspector
    settings = importlib.import_module("mcpkit.inspector.panel_settings").ConnectionSettings(
        protocol=args.protocol, timeout=args.timeout or None
    )
    code = serve_inspector(
        args.target,
        headers=headers,
        settings=settings,
        port=args.port,
        open_browser=not args.no_browser,
    )
    return code if isinstance(code, int) else 0


async def describe(client: Client) -> dict[str, Any]:
    """The server's surface as plain data, every list sorted."""
    import msgspec

    from mcpkit.cli.commands.list import surface

    described: dict[str, Any] = {
        "serverInfo": msgspec.to_builtins(client.server_info),
        "protocolVersion": client.protocol_version,
        "capabilities": msgspec.to_builtins(client.server_capabilities),
        "instructions": client.instructions,
    }
    for key, items in (await surface(client)).items():
        # sorted, unlike `mcpkit list`: a snapshot diffs clean when only the order changed
        described[key] = sorted(msgspec.to_builtins(items), key=lambda item: item[_ORDER[key]])
    return described


_ORDER = {
    "tools": "name",
    "resources": "uri",
    "resourceTemplates": "uriTemplate",
    "prompts": "name",
}


def render_markdown(found: dict[str, Any]) -> str:
    """The surface as a Markdown document (headings per item, schemas as JSON blocks)."""
    info = found["serverInfo"]
    lines = [f"# {info.get('title') or info['name']} {info.get('version', '')}".rstrip(), ""]
    from mcpkit.protocol.modern import is_modern_revision

    revision = found["protocolVersion"]
    era = "per request" if is_modern_revision(revision) else "a session, by initialize"
    lines += [f"- name: `{info['name']}`", f"- protocol version: `{revision}` ({era})"]
    lines += ["- capabilities:", *_json_block(found["capabilities"])]
    if found.get("instructions"):
        lines += ["", "## Instructions", "", found["instructions"]]
    for key, heading, name_key in _SECTIONS:
        items = found.get(key)
        if items is None:
            continue
        lines += [*([""] if lines[-1] else []), f"## {heading}", ""]
        if not items:
            lines.append("(none)")
        for item in items:
            lines += _item(item, name_key)
    return "\n".join(lines).rstrip() + "\n"


_SECTIONS = (
    ("tools", "Tools", "name"),
    ("resources", "Resources", "uri"),
    ("resourceTemplates", "Resource templates", "uriTemplate"),
    ("prompts", "Prompts", "name"),
)


def _item(item: dict[str, Any], name_key: str) -> list[str]:
    lines = [f"### `{item[name_key]}`", ""]
    if item.get("description"):
        lines += [item["description"], ""]
    rest = {k: v for k, v in item.items() if k not in (name_key, "description")}
    for key in sorted(rest):
        value = rest[key]
        if isinstance(value, str):  # a title, a MIME type: text, not a JSON block
            lines += [f"- {key}: {value}", ""]
        elif isinstance(value, (bool, int, float)) or value is None:
            lines += [f"- {key}: `{_json(value)}`", ""]
        else:
            lines += [f"- {key}:", *_json_block(value), ""]
    return lines


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _json_block(value: Any) -> list[str]:
    import json

    return [
        "",
        "  ```json",
        *(
            "  " + line
            for line in json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
        ),
        "  ```",
    ]
