"""`mcpkit run FILE.py[:object] | MODULE[:object] | FILE.json`: serve a Server, or the servers of
an `mcpServers` config, over stdio or HTTP; with a project file (`mcpkit.json`, `[tool.mcpkit]`
in pyproject.toml, `fastmcp.json`: `mcpkit.cli.project_run`), or none found in the folder, as
it says."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mcpkit.cli.commands import AddParser
from mcpkit.transports.deployment.capacity import DEFAULT_KEEP_ALIVE, MAX_KEEP_ALIVE

__all__ = ["add_http_options", "http_options", "register"]

# The options that only `--transport http` reads, passed on only when given: `Server.run()`
# holds their defaults.
_HTTP_OPTIONS = (
    "host",
    "port",
    "path",
    "http",
    "json_response",
    "stateless",
    "allowed_origins",
    "allowed_hosts",
    "forwarded_allow_ips",
    "max_connections",
    "header_timeout",
    "body_timeout",
    "keep_alive",
    "max_body_bytes",
    "max_queued_bytes",
    "max_sessions_per_address",
    "max_requests_per_address",
    "workers",
)
# Limits that must be positive: (option, is it a whole number).
_POSITIVE = {
    "max_connections": True,
    "header_timeout": False,
    "body_timeout": False,
    "keep_alive": True,
    "max_body_bytes": True,
    "max_queued_bytes": True,
    "max_sessions_per_address": True,
    "max_requests_per_address": True,
    "workers": True,
}


def register(add_parser: AddParser) -> None:
    run = add_parser(
        "run",
        help="serve a Server from a Python file, or an mcp.json's servers, over stdio or "
        "Streamable HTTP",
        description="Serve a Server over stdio (the default) or Streamable HTTP "
        "(--transport http). docs/cli.md has examples.",
    )
    run.set_defaults(handler=_main, verb_parser=run)
    run.add_argument(
        "target",
        nargs="?",
        metavar="FILE.py[:object] | MODULE[:object] | FILE.json",
        help="a Python file or an importable module, and optionally the name "
        "of its Server (default: `server`, `mcp` or `app`); an mcpServers config "
        "(mcp.json), whose servers are served together, each under its name; or a project "
        "file (mcpkit.json, pyproject.toml, fastmcp.json), found in the current folder "
        "when no target is given; flags override what it says",
    )
    run.add_argument("--transport", choices=("stdio", "http"), help="default: stdio")
    run.add_argument(
        "--store",
        metavar="URL",
        help="where sessions, event logs and tasks are kept: memory:// (the default), "
        "sqlite:///state.db (survives a restart), redis://host:port/db (shared by processes "
        "and hosts); replaces the Server's own store (docs/deploy.md)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="when the file fails to load on a mistake mcpkit names in one line (an "
        "annotation with no JSON Schema, a missing extra), show the traceback too",
    )
    add_http_options(run)
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --transport http: serve the port with N processes (default: 1); "
        "2025-11-25 sessions need a --store the processes share (docs/deploy.md)",
    )


def add_http_options(parser: argparse.ArgumentParser, *, stateless: bool = True) -> None:
    """The `--transport http` options (`Server.run()` keywords) of `run` and `proxy`: where
    it listens and how it answers, who may reach it, and its limits (docs/http.md)."""
    http = parser.add_argument_group("with --transport http")
    http.add_argument(
        "--host",
        help="the address to listen on (default: 127.0.0.1, this machine only; another "
        "address logs a warning, as no authorization is configured)",
    )
    http.add_argument("--port", type=int, help="the port (default: 8000; 0 picks a free one)")
    http.add_argument("--path", help="the MCP endpoint's path (default: /mcp)")
    http.add_argument(
        "--json-response",
        action="store_true",
        default=None,
        help="answer each POST with one JSON object, never an SSE stream",
    )
    if stateless:
        http.add_argument(
            "--stateless",
            action="store_true",
            default=None,
            help="no sessions: each POST is served on its own (no GET stream, no requests "
            "to the client)",
        )
    _add_exposure_options(http.add_argument)
    _add_limit_options(parser)
    http.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        help="uvicorn's HTTP parser (default: mcpkit's choice, today auto: httptools when "
        "installed, else h11)",
    )


def _add_exposure_options(add: Callable[..., argparse.Action]) -> None:
    """Who may reach the server: browser origins, Host names and the proxies in front (`add`
    is the HTTP group's `add_argument`, so they show in its help)."""
    add(
        "--allowed-origin",
        dest="allowed_origins",
        action="append",
        metavar="ORIGIN",
        help="a browser origin allowed to call the server, such as https://app.example.com "
        "(repeat for more; default: none beyond this machine's loopback names)",
    )
    add(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        metavar="HOST",
        help="a Host header to accept besides this machine's loopback names, such as "
        "mcp.example.com or mcp.example.com:443: the name a reverse proxy passes on (repeat "
        "for more; with it the Host is checked on any --host)",
    )
    add(
        "--forwarded-allow-ips",
        type=_address_list,
        metavar="ADDRESSES",
        help="the reverse proxies in front, comma-separated addresses or networks, such as "
        "127.0.0.1,10.0.0.0/8: a request from one counts as from the client its "
        "X-Forwarded-For names (the right-most address that is no such proxy) in every "
        "per-address limit (default: none; the header is ignored)",
    )


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    """What one server holds for its clients, each bound in the unit of its harm."""
    limits = parser.add_argument_group(
        "limits with --transport http (docs/http.md, 'Limits and exposure')"
    )
    limits.add_argument(
        "--max-connections",
        type=int,
        help="connections open at once (default: the file-descriptor limit less 128)",
    )
    limits.add_argument(
        "--header-timeout", type=float, help="seconds for a request's headers (default: 10)"
    )
    limits.add_argument(
        "--body-timeout", type=float, help="seconds for a request's body (default: 30)"
    )
    limits.add_argument(
        "--keep-alive",
        type=int,
        metavar="SECONDS",
        help="seconds an idle connection is kept open for its next request, 1 to "
        f"{MAX_KEEP_ALIVE} (default: {DEFAULT_KEEP_ALIVE}); behind a load balancer, above "
        "its idle timeout (AWS ALB: 60 s), or it answers 502 now and then",
    )
    limits.add_argument(
        "--max-body-bytes",
        type=int,
        help="bytes of request bodies read at once, all clients together (default: 64 MiB)",
    )
    limits.add_argument(
        "--max-queued-bytes",
        type=int,
        help="bytes of answers queued for clients that read slowly, all streams together; "
        "past it the one holding the most is ended (default: 256 MiB)",
    )
    limits.add_argument(
        "--max-sessions-per-address",
        type=int,
        help="live sessions of one client address without auth (default: 1000)",
    )
    limits.add_argument(
        "--max-requests-per-address",
        type=int,
        help="2026-07-28 requests in flight (calls, listen streams) of one client address "
        "without auth; past it its oldest listen ends (default: 1000)",
    )


def _address_list(text: str) -> list[str]:
    """`--forwarded-allow-ips`: its addresses, each checked here (argparse names the option)."""
    from mcpkit.transports.deployment.forwarded import TrustedProxies

    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    try:
        TrustedProxies.parse(entries)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("forwarded_allow_ips: ")) from None
    if not entries:
        raise argparse.ArgumentTypeError("give at least one address, such as 127.0.0.1")
    return entries


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli.project_run import apply_project, enter_project, project_of
    from mcpkit.cli.user_server import run

    project = project_of(args.target, parser)
    if project is not None:
        apply_project(project, args)
    elif args.transport is None:
        args.transport = "stdio"

    if args.store is not None:
        from mcpkit.stores.url import check_store_url

        try:  # a malformed URL is the user's to fix before anything is imported or served
            check_store_url(args.store)
        except ValueError as exc:
            parser.error(f"--store: {exc}")
    options = http_options(parser, args)
    if project is not None:
        enter_project(project)
    run(
        args.target,
        transport=args.transport,
        http_options=options,
        store=args.store,
        verbose=args.verbose,
    )
    return 0


def http_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, object]:
    """The HTTP options given (`Server.run()` keywords); an error if any is given for stdio."""
    given = {
        name: getattr(args, name)
        for name in _HTTP_OPTIONS
        if getattr(args, name, None) is not None  # `proxy` has no --workers
    }
    if args.transport != "http":
        if given:
            flag = "--" + next(iter(given)).replace("_", "-")
            parser.error(f"{flag} is an option of --transport http; add --transport http")
        return {}
    port = given.get("port", 0)
    if not 0 <= port <= 65535:
        parser.error(f"--port {port} is not a port: give 1 to 65535, or 0 for a free one")
    path = given.get("path", "/")
    if not path.startswith("/"):
        parser.error(f"--path {path!r} must start with '/', as in /mcp")
    for name in _POSITIVE:
        value = given.get(name)
        if value is not None and not value > 0:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} {value} must be above 0")
    keep_alive = given.get("keep_alive")
    if keep_alive is not None and keep_alive > MAX_KEEP_ALIVE:
        parser.error(f"--keep-alive {keep_alive} is above its bound, {MAX_KEEP_ALIVE} seconds")
    return given
