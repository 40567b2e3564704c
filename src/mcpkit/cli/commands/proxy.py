"""`mcpkit proxy TARGET`: serve any MCP server (a file, module, command or URL) over stdio or
Streamable HTTP, forwarding everything both ways (`mcpkit.proxy.ProxyServer`, docs/proxy.md)."""

from __future__ import annotations

import argparse
import sys

from mcpkit.cli.commands import AddParser
from mcpkit.cli.commands.run import add_http_options

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    from mcpkit.cli._options import add_trust_project

    proxy = add_parser(
        "proxy",
        help="serve any MCP server (file, module, command or URL) over stdio or HTTP",
        description="Serve TARGET over stdio (the default) or Streamable HTTP (--transport "
        "http): each client session gets its own session with TARGET (a process of its own "
        "for a command). docs/proxy.md has examples.",
    )
    proxy.set_defaults(handler=_main, verb_parser=proxy, stateless=None)
    proxy.add_argument(
        "target",
        metavar="TARGET",
        help='a server file (server.py[:object]), a module (pkg.mod:app), a command in quotes ("npx -y some-server") or a URL',  # noqa: E501
    )
    add_trust_project(proxy)
    proxy.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="default: stdio"
    )
    proxy.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="for a URL TARGET: an HTTP header sent with every request (repeatable)",
    )
    proxy.add_argument(
        "--max-sessions",
        type=int,
        default=None,
        help="client sessions served at once, each with its own upstream session (default: 32)",
    )
    # a proxy keeps sessions: each holds its upstream session (docs/proxy.md)
    add_http_options(proxy, stateless=False)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._verb_client import EXIT_CONNECT
    from mcpkit.cli.commands.run import http_options
    from mcpkit.cli.main import ERROR_PREFIX
    from mcpkit.cli.project_trust import trust_of, warn
    from mcpkit.client.host_configs.configured import resolve_target
    from mcpkit.client.target import TargetError, parse_headers

    options = http_options(parser, args)
    try:
        target = resolve_target(args.target, trust=trust_of(args), warn=warn)
    except TargetError as exc:
        # A TARGET that names nothing is "no session" (3), as for every verb that talks to
        # a server (docs/cli.md, "Exit codes"), not a usage error.
        sys.stderr.write(f"{ERROR_PREFIX}{exc}\n")
        return EXIT_CONNECT
    try:
        headers = parse_headers(args.header)
    except TargetError as exc:
        parser.error(f"--header: {exc}")
    if headers and target.kind != "url":
        parser.error("--header is for URL targets; a server started as a process has none")
    if args.max_sessions is not None and args.max_sessions < 1:
        parser.error(f"--max-sessions {args.max_sessions}: give 1 or more")
    if args.transport == "http":
        from mcpkit.cli._serve import serve_http

        serve_http(_proxy(target, headers, args.max_sessions), options)
        return 0
    from mcpkit.transports.process_stdio import take_process_stdio

    # Before anything else runs: stdout carries nothing but MCP messages (basic/transports).
    in_fd, out_fd = take_process_stdio()
    from mcpkit.cli._serve import serve_taken_stdio

    serve_taken_stdio(_proxy(target, headers, 1), in_fd, out_fd, verb="proxy")
    return 0


def _proxy(target: object, headers: dict[str, str], max_sessions: int | None) -> object:
    import os

    from mcpkit.client.target import Target
    from mcpkit.proxy import DEFAULT_MAX_UPSTREAMS, ProxyServer
    from mcpkit.transports.stdio_client import StdioParameters

    assert isinstance(target, Target)
    upstreams = DEFAULT_MAX_UPSTREAMS if max_sessions is None else max_sessions
    if isinstance(target.argv_or_url, str):
        sent = {**(target.headers or {}), **headers}  # a host's entry's, then --header's
        return ProxyServer(target.argv_or_url, headers=sent or None, max_upstreams=upstreams)
    command, *rest = target.argv_or_url
    # The user runs the command line in the shell that holds the server's settings (and a
    # host's entry may add its own, and its folder).
    env = {**os.environ, **(target.env or {})}
    upstream = StdioParameters(command, rest, env=env, cwd=target.cwd)
    return ProxyServer(upstream, max_upstreams=upstreams)
