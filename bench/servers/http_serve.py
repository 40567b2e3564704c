"""Serve one benchmark ASGI app on uvicorn (h11 or httptools) or granian, on 127.0.0.1:PORT.

    python http_serve.py --app mcpkit_async --answers sse --server uvicorn-h11 --port 8000

Apps: `mcpkit` / `mcpkit_async` (`server.http_app()` of the stdio bench's servers, `def` and
`async def` tools), `mcpkit_on_loop` (the `def` server with its tools run on the loop, as
`Server(sync_in_thread=False)` runs them), `official` / `official_async` (the official SDK's
`streamable_http_app()`, run in bench/.venv-official), `floor` (a bare ASGI app that answers a
fixed JSON body) and
`floor_json` (a bare ASGI app that parses each JSON-RPC body and answers a result built from it),
and `mcpkit_mix` / `official_mix` / `fastmcp_mix`, bench/one_cpu.py's servers (FastMCP 4 in
bench/.venv-fastmcp).
`--answers json` sets `json_response=True`. `--profile FILE` runs the server under cProfile
(main thread only) and writes the stats to FILE when it is stopped with SIGINT.
Access logs are off for every server: they would cost the same for every app. mcpkit's apps
are served on uvicorn as `mcpkit run` serves them, with the writes of one loop turn joined
and the header and body deadlines and connection cap (`app.uvicorn_protocol()`), and no
X-Forwarded-* headers taken (`proxy_headers=False`); the others on uvicorn's own protocols
and its defaults. `MCPKIT_BENCH_UNGUARDED=1` serves mcpkit's apps with the joined
writes alone, to measure what the guard costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["build_app", "floor_app", "floor_json_app", "main", "make_app", "on_loop"]

HERE = Path(__file__).resolve().parent
_APP_ENV = "MCPKIT_BENCH_HTTP_APP"  # "<app>:<answers>", read by the factory granian imports

FLOOR_BODY = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}],'
    b'"isError":false}}'
)


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Any) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: read the whole body, answer a fixed JSON-RPC result; no parsing, no session."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _read_body(receive)
    await _answer(send, FLOOR_BODY)


async def floor_json_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The parsing floor: `json.loads` the JSON-RPC body and answer `json.dumps` of a result of
    a `tools/call`'s shape built from it (its id, its `text` argument); no checks, no session.
    What any JSON-RPC server must do per call, above the fixed-body floor."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    request = json.loads(await _read_body(receive))
    text = request["params"]["arguments"]["text"]
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    answer = {"jsonrpc": "2.0", "id": request["id"], "result": result}
    await _answer(send, json.dumps(answer, separators=(",", ":")).encode())


# The module of servers/ that serves each app; the `_mix` ones are bench/one_cpu.py's.
MODULES = {
    "mcpkit": "mcpkit_server",
    "mcpkit_async": "mcpkit_server_async",
    "mcpkit_on_loop": "mcpkit_server",
    "mcpkit_mix": "mcpkit_mix",
    "official": "official_server",
    "official_async": "official_server_async",
    "official_mix": "official_mix",
    "fastmcp_mix": "fastmcp_mix",
}


def on_loop(server: Any) -> None:
    """Run `server`'s plain `def` handlers on the loop, as `Server(sync_in_thread=False)` does
    (the server reads the setting on each call). Refused for a tree without the option
    (`bench/run --against` an older revision), which would measure the worker thread."""
    if not hasattr(server, "sync_in_thread"):
        raise SystemExit("http_serve: this mcpkit has no Server(sync_in_thread=)")
    server.sync_in_thread = False


def build_app(app: str, answers: str) -> Any:
    """The ASGI app named `app`, answering with SSE or JSON."""
    json_response = answers == "json"
    if app == "floor":
        return floor_app
    if app == "floor_json":
        return floor_json_app
    if app not in MODULES:
        raise SystemExit(f"http_serve: unknown app {app!r}")
    sys.path.insert(0, str(HERE))
    server = __import__(MODULES[app]).server
    if app == "mcpkit_on_loop":
        on_loop(server)
    if app.startswith("mcpkit"):
        # Every session of the load comes from 127.0.0.1: lift the per-address cap (1,000 by
        # default) to the global one, or the idle-memory figure would count evictions.
        return server.http_app(json_response=json_response, max_sessions_per_address=10_000)
    if app.startswith("fastmcp"):
        return server.http_app(path="/mcp", json_response=json_response)
    # Its defaults otherwise: no event store, DNS rebinding protection for 127.0.0.1.
    return server.streamable_http_app(json_response=json_response)


def make_app() -> Any:
    """The factory granian's worker calls: the app named in the environment."""
    app, answers = os.environ[_APP_ENV].split(":")
    return build_app(app, answers)


def serve_uvicorn(app: Any, http: str, loop: str, port: int, *, joined: bool = False) -> None:
    """`joined`: with the writes of one loop turn joined, as `mcpkit run` serves (mcpkit's
    apps); the other apps get uvicorn's own protocols."""
    import uvicorn

    protocol: Any = http
    if joined:
        from mcpkit.server.serving._http_run import http_implementation

        name = http_implementation(http)  # type: ignore[arg-type]
        if os.environ.get("MCPKIT_BENCH_UNGUARDED") == "1":
            # Imported only here: `bench/run --against` serves older trees with this file,
            # and before issue 66 the module lived in transports/http.
            try:
                from mcpkit.transports.deployment import uvicorn_protocol
            except ImportError:
                from mcpkit.transports.http import uvicorn_protocol  # type: ignore[no-redef]
            protocol = uvicorn_protocol.protocol(name)
        else:
            protocol = app.uvicorn_protocol(name)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=protocol,
        loop=loop,
        lifespan="on",
        log_level="warning",
        access_log=False,
        # As `mcpkit run` serves (it takes X-Forwarded-* from nobody): uvicorn's default
        # wraps the app in its proxy-headers middleware, a coroutine and a walk of the
        # headers per request. The other apps keep uvicorn's defaults, as their SDKs run them.
        proxy_headers=not joined,
        # As `mcpkit run` serves: no `Server: uvicorn` header on each response.
        server_header=not joined,
    )
    uvicorn.Server(config).run()


def serve_granian(args: argparse.Namespace) -> None:
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    os.environ[_APP_ENV] = f"{args.app}:{args.answers}"
    Server(
        "http_serve:make_app",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops(args.loop),
        factory=True,
        working_dir=HERE,
        log_level=LogLevels.warning,
        log_access=False,
    ).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--answers", choices=["sse", "json"], default="sse")
    parser.add_argument(
        "--server", choices=["uvicorn-h11", "uvicorn-httptools", "uvicorn", "granian"]
    )
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", type=Path, help="write cProfile stats here on exit")
    args = parser.parse_args()
    if args.server == "granian":
        serve_granian(args)
        return
    http = {"uvicorn-h11": "h11", "uvicorn-httptools": "httptools"}.get(args.server, "auto")
    app = build_app(args.app, args.answers)
    joined = args.app.startswith("mcpkit")
    if args.profile is None:
        serve_uvicorn(app, http, args.loop, args.port, joined=joined)
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        serve_uvicorn(app, http, args.loop, args.port, joined=joined)
    except KeyboardInterrupt:
        pass  # how bench/http_bench.py stops a server: uvicorn re-raises the SIGINT it handled
    finally:
        profiler.disable()
        profiler.dump_stats(str(args.profile))


if __name__ == "__main__":
    main()
