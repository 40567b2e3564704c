"""What each agent framework's MCP adapter does with an mcpkit server; the table in docs/agents.md.

Run it with the python of a virtualenv that holds mcpkit, and a virtualenv per framework
(they pin different `mcp`, `openai` and `protobuf` versions; none is an mcpkit test
dependency, and this script is not part of the test suite):

    python3 -m venv /tmp/agents-venv && /tmp/agents-venv/bin/pip install -e '.[http]'
    mk() { python3 -m venv /tmp/agents-venvs/$1 && /tmp/agents-venvs/$1/bin/pip install "${@:2}"; }
    mk openai-agents openai-agents
    mk pydantic-ai 'pydantic-ai-slim[mcp]'
    mk langchain-mcp-adapters langchain-mcp-adapters langgraph
    mk llama-index llama-index-tools-mcp
    mk mcp-use mcp-use
    mk smolagents 'smolagents[mcp]' 'mcp<2' websockets   # mcpadapt 0.1 needs mcp 1
    mk autogen 'autogen-ext[mcp]' 'mcp<2'                # autogen-ext 0.7 needs mcp 1
    mk agno agno mcp 'fastmcp>=4,<5'
    mk strands strands-agents
    mk google-adk google-adk mcp
    mk crewai 'crewai-tools[mcp]'
    /tmp/agents-venv/bin/python scripts/agent_frameworks.py --venvs /tmp/agents-venvs

No model and no network: each framework's adapter is used the way its agent loop uses it
(list the tools it makes, the schema it gives a model, call a tool as the loop would), over
stdio and over Streamable HTTP (`mcpkit run --transport http --port 0` on 127.0.0.1),
against scripts/agent_frameworks_server.py. Each framework runs in a child process of its
own, so one that hangs or breaks its event loop costs only its own row. The probes are in
scripts/agent_probes.py; scripts/downstream runs them in CI, against examples/everything.py too,
with the frameworks at pinned versions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER_FILE = HERE / "agent_frameworks_server.py"
MCPKIT = str(Path(sys.executable).parent / "mcpkit")
# stdio servers are started as `python -m mcpkit run ...`: agno runs only commands it knows
# by name (python, node, uvx, ...).
URL = re.compile(r"at (http://127\.0\.0\.1:\d+/mcp)")
CHILD_TIMEOUT = 240.0

# Framework name: the distribution whose version the table shows.
FRAMEWORKS = {
    "openai-agents": "openai-agents",
    "pydantic-ai": "pydantic-ai-slim",
    "langchain-mcp-adapters": "langchain-mcp-adapters",
    "llama-index": "llama-index-tools-mcp",
    "mcp-use": "mcp-use",
    "smolagents": "smolagents",
    "autogen": "autogen-ext",
    "agno": "agno",
    "strands": "strands-agents",
    "google-adk": "google-adk",
    "crewai": "crewai-tools",
}


TREE = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}


def plan(error_text: str) -> dict[str, Any]:
    """What scripts/agent_probes.py asks of the harness's server: every tool's schema, and a
    call of each (`lookup` is a tool error whose text holds `error_text`)."""
    return {
        "convert": ["add", "count_nodes", "lookup", "forecast"],
        "calls": [
            {"tool": "add", "arguments": {"a": 2, "b": 3}, "expect": "5"},
            {"tool": "count_nodes", "arguments": {"tree": TREE}, "expect": "3"},
            {"tool": "lookup", "arguments": {"key": "k1"}, "expect": error_text, "error": True},
            {"tool": "forecast", "arguments": {"city": "Paris"}, "expect": "21"},
        ],
    }


# Server name: (`mcpkit run` target, what the probes ask of it).
SERVERS = {
    "plain": (f"{SERVER_FILE}:server", plan("no entry 'k1'")),
    "workaround": (f"{SERVER_FILE}:workaround", plan("Error executing tool lookup: no entry")),
}


@contextlib.contextmanager
def http_server(target: str) -> Iterator[str]:
    """`mcpkit run TARGET --transport http --port 0`; yields the URL its log names."""
    proc = subprocess.Popen(
        [MCPKIT, "run", target, "--transport", "http", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise RuntimeError(f"mcpkit run exited ({proc.wait(5)}) before naming its URL")
            if found := URL.search(line):
                url = found[1]
        if url is None:
            raise RuntimeError("mcpkit run named no URL within 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def served(servers: dict[str, tuple[str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The probes' targets for each of `servers` over stdio and over HTTP (an `mcpkit run`
    process each, serving for the `with` block)."""
    targets: dict[str, dict[str, Any]] = {"stdio": {}, "http": {}}
    with contextlib.ExitStack() as stack:
        for name, (target, asked) in servers.items():
            command = {"command": sys.executable, "args": ["-m", "mcpkit", "run", target]}
            targets["stdio"][name] = {"connect": command, **asked}
            url = stack.enter_context(http_server(target))
            targets["http"][name] = {"connect": {"url": url}, **asked}
        yield targets


def python_for(name: str, venvs: Path | None) -> str:
    """VENVS/NAME/bin/python when there is one (frameworks pin different `mcp` and `openai`
    versions, so one virtualenv each is the way to have them all), else this python."""
    own = venvs / name / "bin" / "python" if venvs else None
    return str(own) if own and own.exists() else sys.executable


def run_child(
    python: str, name: str, targets: dict[str, Any], timeout: float = CHILD_TIMEOUT
) -> dict[str, Any]:
    """One framework's probes in a child process; its JSON answer, or what went wrong."""
    cmd = [python, str(HERE / "agent_probes.py"), name, json.dumps(targets)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"no answer within {timeout:.0f} s"}
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        answer: dict[str, Any] = json.loads(last[0])
    except json.JSONDecodeError:
        return {"failed": f"exit {done.returncode}: {done.stderr.strip()[-600:]}"}
    return answer


def versions(python: str, *dists: str) -> list[str]:
    """The installed versions of `dists` in the environment of `python`."""
    code = (
        "import sys; from importlib import metadata as m\n"
        "def v(d):\n"
        "    try: return m.version(d)\n"
        "    except m.PackageNotFoundError: return 'not installed'\n"
        "print(','.join(v(d) for d in sys.argv[1:]))"
    )
    done = subprocess.run([python, "-c", code, *dists], capture_output=True, text=True, timeout=60)
    return done.stdout.strip().split(",")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="*", default=list(FRAMEWORKS), choices=list(FRAMEWORKS))
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument(
        "--venvs", type=Path, help="a folder with a virtualenv per framework, named as --only"
    )
    options = parser.parse_args()
    report: dict[str, Any] = {"mcpkit": versions(sys.executable, "mcpkit")[0], "rows": {}}
    with served(SERVERS) as targets:
        for name in options.only:
            python = python_for(name, options.venvs)
            framework, mcp = versions(python, FRAMEWORKS[name], "mcp")
            row = {"version": framework, "mcp": mcp, **run_child(python, name, targets)}
            report["rows"][name] = row
            if not options.json:
                print_row(name, row)
    if options.json:
        print(json.dumps(report, indent=2))


def print_row(name: str, row: dict[str, Any]) -> None:
    print(f"== {name} {row['version']} (mcp {row['mcp']})", flush=True)
    if "failed" in row:
        print(f"   failed: {row['failed']}")
        return
    for transport in ("stdio", "http"):
        for server, found in row[transport].items():
            for key, value in found.items():
                verdict, detail = value["verdict"], value["detail"]
                print(f"   {transport:5} {server:10} {key:19} {verdict}: {detail}")


if __name__ == "__main__":
    main()
