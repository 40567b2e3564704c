"""The verbs against URLs: the test server served by uvicorn in this loop (headers reaching
the tools), and examples/protected.py run by `mcpkit run` (OAuth, headless)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _verbs import SERVER, WAIT, acli, cli, load_server

# tests/http's helpers, importable once _verbs has put their folder on the path
from _running import mcpkit, running  # isort: skip
from _serving import serving  # isort: skip

PROTECTED = ["run", "examples/protected.py", "--transport", "http", "--port", "0"]


async def test_list_call_read_and_prompt_over_http() -> None:
    server = load_server().server
    async with serving(server.http_app()) as base:
        url = base + "/mcp"
        listed = await acli("list", url, "--json")
        added = await acli("call", url, "add", "a=1", "b=2")
        read = await acli("read", url, "memo://hello")
        prompt = await acli("prompt", url, "greet", "name=Bo")
    assert listed.code == 0, listed.err
    assert "add" in [tool["name"] for tool in json.loads(listed.out)["tools"]]
    assert (added.code, added.out) == (0, "3\n")
    assert read.out == "hello, reader\n"
    assert prompt.out.endswith("Greet Bo in a plain way.\n")


async def test_headers_reach_the_server() -> None:
    server = load_server().server
    async with serving(server.http_app()) as base:
        ran = await acli(
            "call", base + "/mcp", "header", "name=x-api-key",
            "--header", "X-Api-Key: s3cret", "--header", "X-Other: 1",
        )  # fmt: skip
    assert (ran.code, ran.out) == (0, "s3cret\n"), ran.err


def test_bad_headers_are_usage_errors() -> None:
    malformed = cli("list", "http://127.0.0.1:9/mcp", "--header", "no colon")
    assert malformed.code == 2
    assert "--header: the header 'no colon' is not 'Name: value'" in malformed.err
    inspect = cli("inspect", "http://127.0.0.1:9/mcp", "--header", "no colon")
    assert inspect.code == 2
    assert "--header: the header 'no colon' is not 'Name: value'" in inspect.err
    for_a_process = cli("list", str(SERVER), "--header", "X-A: b")
    assert for_a_process.code == 2
    assert "--header is for URL targets" in for_a_process.err


# A server and three command lines started one after another, each a Python start (and a
# sign-in): on a busy machine their sum passed the default 30 s whole-test bound once, while
# each step stays within its own bound (WAIT).
@pytest.mark.mcpkit_timeout(WAIT * 4)
async def test_oauth_headless_against_the_protected_example(tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path)}
    async with running(mcpkit(*PROTECTED)) as server:
        url = await server.started()
        refused = await acli("list", url, "--oauth", "off", env=cache)
        first = await acli("call", url, "whoami", "--oauth", "headless", "--json", env=cache)
        again = await acli("call", url, "whoami", "--oauth", "headless", env=cache)
    assert refused.code == 3
    assert "401" in refused.err
    assert first.code == 0, first.err
    assert '"subject":"dev-user"' in json.loads(first.out)["content"][0]["text"]
    assert '"subject": "dev-user"' in again.out  # shown pretty
    assert list((tmp_path / "mcpkit" / "oauth").iterdir())  # tokens kept between runs


async def test_a_server_that_dies_mid_call_over_http_exits_4() -> None:
    async with running(mcpkit("run", str(SERVER), "--transport", "http", "--port", "0")) as server:
        url = await server.started()
        ran = await acli("call", url, "die")
    assert ran.code == 4, ran.err
    assert "the connection ended" in ran.err
