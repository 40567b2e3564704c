"""Serving HTTP from the command line (`mcpkit run FILE.py --transport http`) and from code
(`server.run(transport="http")`): real subprocesses on a port of their choosing, talked to over
127.0.0.1 only, stopped by signals with the lifespan left."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _processes import starts
from _running import REPO, WAIT, mcpkit, running
from _serving import INITIALIZE, headers, messages_of, open_session, sse_messages

from mcpkit import Server
from mcpkit.server.serving._http_run import http_implementation, serve_http
from mcpkit.server.serving.listening_sockets import bind_sockets
from mcpkit.transports.deployment.app import HttpSettings, McpHttpApp

LIFESPAN_SERVER = """
import contextlib, sys
from mcpkit import Context, Server

@contextlib.asynccontextmanager
async def lifespan(server):
    print("lifespan entered", file=sys.stderr, flush=True)
    yield {"greeting": "hello"}
    print("lifespan left", file=sys.stderr, flush=True)

server = Server("lifespan-http", lifespan=lifespan)

@server.tool()
def greet(name: str, ctx: Context) -> str:
    return f"{ctx.lifespan_state['greeting']}, {name}"

if __name__ == "__main__":
    import json
    server.run(transport="http", **json.loads(sys.argv[1]))
"""


def lifespan_server(tmp_path: Path) -> Path:
    path = tmp_path / "lifespan_server.py"
    path.write_text(LIFESPAN_SERVER)
    return path


def call(
    rid: int, name: str, arguments: dict[str, object], token: str | None = None
) -> dict[str, object]:
    params: dict[str, object] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


async def test_mcpkit_run_serves_http_on_a_free_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    argv = mcpkit("run", str(lifespan_server(tmp_path)), "--transport", "http", "--port", "0")
    async with running(argv, env={"MCPKIT_UVLOOP": "1"}) as server:
        url = await server.started()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
        assert not url.endswith(":0/mcp")  # the port chosen, not the one asked for
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        assert f", {loop}); stop with Ctrl+C" in server.text
        async with httpx.AsyncClient(timeout=WAIT) as client:
            sid = await open_session(client, url)
            response = await client.post(
                url, json=call(2, "greet", {"name": "Ada"}), headers=headers(sid)
            )
            (answer,) = messages_of(response)
            assert answer["result"]["content"][0]["text"] == "hello, Ada"
        assert await server.stop(signal.SIGTERM) == 0
    log = server.text
    assert "lifespan entered" in log and "lifespan left" in log
    assert log.index("lifespan left") > log.index("lifespan entered")
    assert "stopped by SIGTERM" in log
    assert "WARNING" not in log  # a loopback bind needs no warning


async def test_sigint_ends_it_as_cleanly(tmp_path: Path) -> None:
    argv = mcpkit("run", str(lifespan_server(tmp_path)), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        await server.started()
        assert await server.stop(signal.SIGINT) == 0
    assert "lifespan left" in server.text and "stopped by SIGINT" in server.text
    assert "Traceback" not in server.text


async def test_shutdown_ends_get_streams_and_lets_calls_finish() -> None:
    """SIGTERM with a client connected: its GET stream ends cleanly at once (it would never end
    on its own), while a call in progress is answered before the process exits."""
    argv = mcpkit("run", str(REPO / "examples" / "everything.py"), "--transport", "http")
    slow = call(2, "slow", {"seconds": 0.3}, token="p")
    async with running([*argv, "--port", "0"]) as server:
        url = await server.started()
        async with httpx.AsyncClient(timeout=WAIT) as client:
            sid = await open_session(client, url)
            async with (
                client.stream("GET", url, headers=headers(sid)) as listening,
                client.stream("POST", url, json=slow, headers=headers(sid)) as calling,
            ):
                lines = calling.aiter_lines()
                async for line in lines:
                    if line.startswith("data: "):
                        break  # the first progress notification: the call is under way
                server.proc.send_signal(signal.SIGTERM)
                # Ended cleanly: the priming event, then a retry for the client to come back
                # to whatever serves next (SEP-1699), and no message lost on the way.
                ended = (await listening.aread()).decode()
                assert "retry: " in ended and sse_messages(ended) == []
                rest = [line async for line in lines if line.startswith("data: ")]
                assert '"text":"done"' in rest[-1]
        assert await server.exited() == 0
    assert "graceful shutdown exceeded" not in server.text
    assert "stopped by SIGTERM" in server.text


LONG_CALL_SERVER = """
import asyncio, pathlib, sys
from mcpkit import Server

server = Server("long")

@server.tool()
async def long(marker: str) -> str:
    pathlib.Path(marker).write_text("started")
    await asyncio.sleep(600)
    return "never"
"""


@starts(2)
async def test_ctrl_c_during_a_long_call_ends_it_after_the_grace_and_the_client_learns(
    tmp_path: Path,
) -> None:
    """Ctrl+C while a call runs: after the grace the call's stream ends, the server logs no
    traceback, and the command line learns at once that the server went away (exit 4), not
    after every resumption attempt's backoff, blaming the server."""
    (tmp_path / "long.py").write_text(LONG_CALL_SERVER)
    marker = tmp_path / "started"
    argv = mcpkit("run", str(tmp_path / "long.py"), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        cli = await asyncio.create_subprocess_exec(
            *mcpkit("call", url, "long", f"marker={marker}"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(WAIT):
            while not marker.exists():
                await asyncio.sleep(0.05)  # bounded: the call under way
            assert await server.stop(signal.SIGINT) == 0
            _, err = await cli.communicate()
    assert cli.returncode == 4, err.decode()
    assert "the server went away" in err.decode()
    assert "Traceback" not in server.text and "graceful shutdown exceeded" not in server.text


async def test_a_public_bind_warns_that_no_authorization_is_configured(tmp_path: Path) -> None:
    argv = mcpkit(
        "run", str(lifespan_server(tmp_path)), "--transport", "http", "--host", "0.0.0.0",
        "--port", "0",
    )  # fmt: skip
    async with running(argv) as server:
        url = await server.started()
        warning = next(line for line in server.log if line.startswith("WARNING"))
        assert "0.0.0.0" in warning and "a token verifier is not configured" in warning
        assert "Bind 127.0.0.1" in warning
        # Only ever talk to this machine: the same port on 127.0.0.1.
        local = url.replace("0.0.0.0", "127.0.0.1")
        async with httpx.AsyncClient(timeout=WAIT) as client:
            await open_session(client, local)
            # Issue 19: a page on a rebinding name got a session on a public bind. Now any
            # browser Origin not in allowed_origins is refused, and the log says so.
            forged = headers(origin="http://rebind.example:8000", host="rebind.example:8000")
            refused = await client.post(local, json=INITIALIZE, headers=forged)
            assert refused.status_code == 403 and "allowed_origins" in refused.text
        assert await server.stop() == 0
    said = next(line for line in server.log if "allowed_origins only" in line)
    assert "every request with an Origin is refused" in said and "allowed_hosts" in said


async def test_the_limit_flags_reach_the_app(tmp_path: Path) -> None:
    argv = mcpkit(
        "run", str(lifespan_server(tmp_path)), "--transport", "http", "--port", "0",
        "--header-timeout", "0.3", "--allowed-origin", "https://app.example",
    )  # fmt: skip
    async with running(argv) as server:
        url = await server.started()
        host, port = url.split("/")[2].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        answer = await asyncio.wait_for(reader.read(-1), WAIT)  # silent: cut after 0.3 s
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ") and b"header_timeout" in answer
        async with httpx.AsyncClient(timeout=WAIT) as client:
            allowed = headers(origin="https://app.example")
            assert (await client.post(url, json=INITIALIZE, headers=allowed)).status_code == 200
        assert await server.stop() == 0


async def test_allowed_host_accepts_the_name_a_reverse_proxy_passes_on(tmp_path: Path) -> None:
    """Issue 23: behind nginx (`proxy_set_header Host $http_host`, or an upstream's name) a
    loopback-bound server saw a Host it did not know and answered 421, with no flag to name
    it. `--allowed-host` names it; other Hosts are still refused, and the refusal says how."""
    argv = mcpkit(
        "run", str(lifespan_server(tmp_path)), "--transport", "http", "--port", "0",
        "--allowed-host", "mcp.example.com", "--allowed-host", "backend:8080",
    )  # fmt: skip
    async with running(argv) as server:
        url = await server.started()
        async with httpx.AsyncClient(timeout=WAIT) as client:
            for host in ("mcp.example.com", "mcp.example.com:443", "backend:8080"):
                named = headers(host=host)
                assert (await client.post(url, json=INITIALIZE, headers=named)).status_code == 200
            for host in ("backend:9090", "rebind.example"):
                refused = await client.post(url, json=INITIALIZE, headers=headers(host=host))
                assert refused.status_code == 421, host
                assert "--allowed-host" in refused.json()["error"]["message"]
            # The loopback names this bind answers to still work.
            assert (await client.post(url, json=INITIALIZE, headers=headers())).status_code == 200
        assert await server.stop() == 0


async def test_run_from_code_takes_the_http_settings(tmp_path: Path) -> None:
    settings = '{"port": 0, "path": "/api/mcp", "json_response": true, "stateless": true}'
    async with running([sys.executable, str(lifespan_server(tmp_path)), settings]) as server:
        url = await server.started()
        assert url.endswith("/api/mcp")
        async with httpx.AsyncClient(timeout=WAIT) as client:
            response = await client.post(url, json=INITIALIZE, headers=headers())
            assert response.headers["content-type"] == "application/json"
            assert "mcp-session-id" not in response.headers  # stateless
            assert "server" not in response.headers  # uvicorn's names it to any scanner
            response = await client.post(
                url, json=call(2, "greet", {"name": "Bo"}), headers=headers()
            )
            assert response.json()["result"]["content"][0]["text"] == "hello, Bo"
            gone = await client.get(url, headers=headers())
            assert gone.status_code == 405
        assert await server.stop() == 0
    assert "lifespan left" in server.text


async def test_the_cli_flags_reach_the_app(tmp_path: Path) -> None:
    argv = mcpkit(
        "run", f"{lifespan_server(tmp_path)}:server", "--transport", "http", "--port", "0",
        "--path", "/x", "--json-response", "--stateless", "--http", "h11",
    )  # fmt: skip
    async with running(argv, env={"MCPKIT_UVLOOP": "0"}) as server:
        url = await server.started()
        assert url.endswith("/x") and "(uvicorn, h11, asyncio)" in server.text
        async with httpx.AsyncClient(timeout=WAIT) as client:
            response = await client.post(url, json=INITIALIZE, headers=headers())
            assert response.headers["content-type"] == "application/json"
            assert "mcp-session-id" not in response.headers
            assert "server" not in response.headers
        assert await server.stop() == 0


async def test_dns_rebinding_protection_follows_the_chosen_port(tmp_path: Path) -> None:
    argv = mcpkit("run", str(lifespan_server(tmp_path)), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        port = url.split(":")[2].split("/")[0]
        async with httpx.AsyncClient(timeout=WAIT) as client:
            ours = headers(origin=f"http://localhost:{port}")
            assert (await client.post(url, json=INITIALIZE, headers=ours)).status_code == 200
            foreign = headers(origin="http://evil.example")
            assert (await client.post(url, json=INITIALIZE, headers=foreign)).status_code == 403
        assert await server.stop() == 0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        mcpkit(*args), capture_output=True, text=True, timeout=WAIT, env=env, cwd=REPO
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "9000"], "--port is an option of --transport http; add --transport http"),
        (["--stateless"], "--stateless is an option of --transport http"),
        (["--transport", "http", "--port", "70000"], "--port 70000 is not a port"),
        (["--transport", "http", "--path", "mcp"], "must start with '/'"),
        (["--transport", "http", "--http", "granian"], "invalid choice: 'granian'"),
        (["--transport", "http", "--keep-alive", "0"], "--keep-alive 0 must be above 0"),
        (["--transport", "http", "--keep-alive", "9000"], "--keep-alive 9000 is above its"),
        (["--keep-alive", "75"], "--keep-alive is an option of --transport http"),
    ],
)
def test_bad_options_are_named(args: list[str], message: str) -> None:
    done = run_cli("run", "examples/tools.py", *args)
    assert done.returncode == 2
    assert message in done.stderr


class _ConfigSeen(Exception):
    """Raised by the recording `uvicorn.Config` once it has what serve_http gave it."""


@pytest.mark.parametrize(("keep_alive", "expected"), [(None, 5), (75, 75)])
async def test_keep_alive_reaches_uvicorns_config(
    monkeypatch: pytest.MonkeyPatch, keep_alive: int | None, expected: int
) -> None:
    """Behind an AWS ALB (60 s idle) the server's keep-alive must be longer, and uvicorn's 5 s
    could not be changed: `keep_alive` is given to uvicorn as `timeout_keep_alive`."""
    import uvicorn

    seen: dict[str, object] = {}

    def record(app: object, **config: object) -> None:
        seen.update(config, app=app)
        raise _ConfigSeen

    monkeypatch.setattr(uvicorn, "Config", record)
    settings: HttpSettings = {} if keep_alive is None else {"keep_alive": keep_alive}
    with pytest.raises(_ConfigSeen):
        await serve_http(Server("keep"), port=0, **settings)
    assert seen["timeout_keep_alive"] == expected
    app = seen["app"]
    assert isinstance(app, McpHttpApp) and app.keep_alive == expected  # its idle deadline


def test_a_run_at_import_time_is_named(tmp_path: Path) -> None:
    """Unguarded, the file's own run() would serve first and `mcpkit run` again after it."""
    path = tmp_path / "bare.py"
    path.write_text("from mcpkit import Server\nServer('bare').run('http', port=0)\n")
    done = run_cli("run", str(path), "--transport", "http", "--port", "0")
    assert done.returncode == 1
    assert "calls server.run() while it is imported" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
    assert "over Streamable HTTP" not in done.stderr  # nothing was served


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_cli("run", "examples/tools.py", "--transport", "http", "--port", str(port))
    assert done.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: the port is in use" in done.stderr
    assert "or 0 for a free one" in done.stderr


def test_run_refuses_mixed_up_arguments() -> None:
    server = Server("mixed")
    with pytest.raises(ValueError, match="need transport='http'"):
        server.run(port=9000)
    with pytest.raises(ValueError, match="are for transport='stdio'"):
        server.run("http", stdin=0)
    with pytest.raises(ValueError, match="bind_host follows host and port"):
        server.run("http", port=0, bind_host="0.0.0.0")
    with pytest.raises(ValueError, match="unknown transport 'websocket'"):
        server.run("websocket")  # type: ignore[arg-type]


def test_a_name_is_bound_on_each_of_its_addresses_on_one_port() -> None:
    """`localhost` is 127.0.0.1 and often ::1 too: a client may try either first."""
    sockets = bind_sockets("localhost", 0)
    try:
        names = {sock.getsockname()[0] for sock in sockets}
        ports = {sock.getsockname()[1] for sock in sockets}
    finally:
        for sock in sockets:
            sock.close()
    resolved = socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    assert "127.0.0.1" in names and names <= {str(info[4][0]) for info in resolved}
    assert len(ports) == 1 and ports != {0}


@pytest.mark.parametrize("port", [-1, 65536, 70000, 2**31])
def test_a_port_out_of_range_is_one_line_naming_the_range(port: int) -> None:
    with pytest.raises(SystemExit, match="give a port from 0 to 65535"):
        bind_sockets("127.0.0.1", port)


def test_auto_picks_httptools_when_installed() -> None:
    installed = importlib.util.find_spec("httptools") is not None
    assert http_implementation("auto") == ("httptools" if installed else "h11")
    assert http_implementation("h11") == "h11"
    if not installed:
        with pytest.raises(ValueError, match="pip install httptools"):
            http_implementation("httptools")
        done = run_cli("run", "examples/tools.py", "--transport", "http", "--http", "httptools")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "error: the HTTP implementation 'httptools' is not installed" in done.stderr


async def test_stdout_is_the_users_over_http(tmp_path: Path) -> None:
    """Over HTTP nothing is taken from stdio: a print at import time goes to stdout."""
    path = tmp_path / "printing.py"
    path.write_text("print('imported')\nfrom mcpkit import Server\nserver = Server('p')\n")
    argv = mcpkit("run", str(path), "--transport", "http", "--port", "0")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        async with asyncio.timeout(WAIT):
            assert await proc.stdout.readline() == b"imported\n"
            while b"over Streamable HTTP" not in await proc.stderr.readline():
                pass
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# ------------------------------------------------------------- the docs, as written

DOCS = REPO / "docs"


def section(doc: str, title: str) -> str:
    text = (DOCS / doc).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, re.S)


def log_line_pattern(line: str) -> re.Pattern[str]:
    """The documented log line, with its server name, port and parser left open."""
    pattern = re.escape(line.strip())
    pattern = re.sub(r"serving\\ \w+", r"serving\\ \\S+", pattern)
    pattern = re.sub(r":\d+/", r":\\d+/", pattern)
    pattern = pattern.replace("h11", "(?:h11|httptools)")
    return re.compile(pattern.replace("uvloop", "(?:uvloop|asyncio)"))


def weather_example(tmp_path: Path) -> Path:
    python = blocks((DOCS / "http.md").read_text(), "python")
    (module,) = [block for block in python if block.startswith("# weather.py\n")]
    path = tmp_path / "weather.py"
    path.write_text(module)
    return path


async def forecast(url: str, stateless: bool = False) -> str:
    async with httpx.AsyncClient(timeout=WAIT) as client:
        sid = None if stateless else await open_session(client, url)
        request = call(2, "forecast", {"city": "Oslo", "days": 2})
        response = await client.post(url, json=request, headers=headers(sid))
        text: str = messages_of(response)[-1]["result"]["content"][0]["text"]
        return text


@starts(2)
async def test_the_serving_section_of_http_md_works(tmp_path: Path) -> None:
    serving_doc = section("http.md", "Serving")
    (command,) = blocks(serving_doc, "sh")
    (log_line,) = blocks(serving_doc, "text")
    assert command.strip() == "mcpkit run weather.py --transport http --port 8000"
    path = weather_example(tmp_path)
    args = command.split()[2:]
    args[args.index("8000")] = "0"  # 8000 may be taken on this machine
    async with running(mcpkit("run", *args), cwd=tmp_path) as server:
        url = await server.started()
        assert any(log_line_pattern(log_line).fullmatch(line) for line in server.log)
        assert await forecast(url) == "Oslo: sunny for 2 days"
        assert await server.stop() == 0
    # From code: the line the section gives, appended to the module.
    ending = re.search(r"`(if __name__ == \"__main__\": server\.run\(.*?\))`", serving_doc)
    assert ending is not None
    path.write_text(path.read_text() + "\n" + ending.group(1).replace("8000", "0") + "\n")
    async with running([sys.executable, str(path)], cwd=tmp_path) as server:
        assert await forecast(await server.started()) == "Oslo: sunny for 2 days"
        assert await server.stop() == 0


async def test_the_stateless_section_of_http_md_works(tmp_path: Path) -> None:
    stateless_doc = section("http.md", "Stateless")
    assert "`mcpkit run FILE.py --transport http --stateless`" in stateless_doc
    path = weather_example(tmp_path)
    argv = mcpkit("run", str(path), "--transport", "http", "--stateless", "--port", "0")
    async with running(argv, cwd=tmp_path) as server:
        url = await server.started()
        assert await forecast(url, stateless=True) == "Oslo: sunny for 2 days"
        async with httpx.AsyncClient(timeout=WAIT) as client:
            assert (await client.get(url, headers=headers())).status_code == 405
        assert await server.stop() == 0


@starts(2)
async def test_the_http_section_of_cli_md_works(tmp_path: Path) -> None:
    over_http = section("cli.md", "Over HTTP")
    (command,) = blocks(over_http, "sh")
    (log_line,) = blocks(over_http, "text")
    (tmp_path / "server.py").write_text("from mcpkit import Server\nserver = Server('demo')\n")
    async with running(mcpkit(*command.split()[1:]), cwd=tmp_path) as server:
        url = await server.started()
        assert any(log_line_pattern(log_line).fullmatch(line) for line in server.log)
        async with httpx.AsyncClient(timeout=WAIT) as client:
            await open_session(client, url)
        assert await server.stop() == 0
    # Every option the table names is one the command takes.
    options = re.findall(r"^\| `(--[a-z-]+)` \|", over_http, re.M)
    assert len(options) == 6
    usage = run_cli("run", "--help").stdout
    assert all(option in usage for option in options)


async def test_the_demo_client_over_http() -> None:
    """The README's HTTP lines end to end: `mcpkit run examples/everything.py --transport http`
    in a subprocess, and `examples/client.py URL` using every feature over Streamable HTTP
    (the server's sampling and elicitation requests answered on POSTs of their own)."""
    spec = importlib.util.spec_from_file_location("demo_client", REPO / "examples" / "client.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    everything = str(REPO / "examples" / "everything.py")
    argv = mcpkit("run", everything, "--transport", "http", "--port", "0")
    out = io.StringIO()
    async with running(argv) as server:
        url = await server.started()
        with contextlib.redirect_stdout(out):
            await demo.main(url)
    text = out.getvalue()
    for expected in [
        "connected to everything 1.0.0 over HTTP",
        "add(2, 3) -> structured {'result': 5}",
        "sign_up -> Ada, 36, red",
        "ask_model -> (an LLM would answer",
        "notifications/resources/updated",
        "notifications/tools/list_changed",
        "greet -> Hello, world!",
        "ping ok",
    ]:
        assert expected in text, f"{expected!r} not in demo output:\n{text}"


PROTECTED_WITHOUT_RESOURCE = """
from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource


class Refuses:
    async def verify(self, token, *, resource):
        raise ValueError("never called")


server = Server("guarded", auth=ProtectedResource(verifier=Refuses()))
"""


def test_a_protected_server_on_a_public_bind_without_resource_does_not_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "guarded.py"
    path.write_text(PROTECTED_WITHOUT_RESOURCE)
    argv = mcpkit("run", str(path), "--transport", "http", "--host", "0.0.0.0", "--port", "0")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT, cwd=REPO)
    assert done.returncode == 1
    assert "needs ProtectedResource(resource=...)" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
