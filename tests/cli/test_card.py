"""`mcpkit card URL` (Server Cards, SEP-2127, experimental) against examples/everything.py
served by uvicorn on 127.0.0.1: the card printed for people and as JSON, and each failure in
one line with its exit code."""

from __future__ import annotations

import json

from _examples import fresh_example
from _verbs import acli, cli

from mcpkit import Server
from mcpkit.types.server_card import card_problems

from _serving import serving  # isort: skip


def everything() -> Server:
    """A fresh examples/everything.py server (each test publishes its own card)."""
    return fresh_example("everything.py", "cli_card_everything")


async def test_card_prints_the_card_of_everything() -> None:
    server = everything()
    server.publish_card("com.example/everything", "https://mcp.example.com/mcp")
    async with serving(server.http_app()) as base:
        shown = await acli("card", base + "/mcp")
        as_json = await acli("card", base + "/mcp/server-card", "--json")
    assert shown.code == 0, shown.err
    assert "Everything example 1.0.0" in shown.out
    assert "name: com.example/everything" in shown.out
    assert "https://mcp.example.com/mcp" in shown.out and "2025-11-25" in shown.out
    assert as_json.code == 0, as_json.err
    document = json.loads(as_json.out)
    assert card_problems(document) == []
    assert document["name"] == "com.example/everything"
    assert [remote["type"] for remote in document["remotes"]] == ["streamable-http", "sse"]


async def test_a_server_without_a_card_exits_1_in_one_line() -> None:
    async with serving(everything().http_app()) as base:
        ran = await acli("card", base + "/mcp")
    assert ran.code == 1
    assert ran.err.count("\n") == 1
    assert "answered 404, not a Server Card" in ran.err
    assert "Server.publish_card" in ran.err


def test_an_unreachable_server_exits_3_and_a_bad_url_2() -> None:
    unreachable = cli("card", "http://127.0.0.1:9/mcp")
    assert unreachable.code == 3
    assert unreachable.err.count("\n") == 1
    assert "cannot fetch the Server Card at http://127.0.0.1:9/mcp/server-card" in unreachable.err
    assert "check the URL, and that the server is running" in unreachable.err
    bad = cli("card", "not a url")
    assert bad.code == 2
    assert "URL:" in bad.err
