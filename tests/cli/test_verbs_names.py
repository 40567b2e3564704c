"""`mcpkit list` and `call` name a server's tools as the server does: in its order, with each
parameter's default, and a command that names no tool, or a misspelt one, is told which
tools there are (issue 38)."""

from __future__ import annotations

import json

from _verbs import REPO, SERVER, cli

DEFAULTS = str(REPO / "tests" / "cli" / "servers" / "defaults_server.py")
IN_SERVER_ORDER = ["search", "forecast", "sign"]  # the order they are registered in


def rows(table: str) -> dict[str, list[str]]:
    """The cells of each row of the tables in `mcpkit list`'s plain output, by first cell."""
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line[:1] in ("│", "┃"):  # a row, or the header
            cells = [cell.strip() for cell in line.replace("┃", "│").strip("│").split("│")]
            found[cells[0]] = cells
    return found


def test_list_keeps_the_servers_order_of_tools() -> None:
    ran = cli("list", DEFAULTS, "--json")
    assert ran.code == 0, ran.err
    assert [tool["name"] for tool in json.loads(ran.out)["tools"]] == IN_SERVER_ORDER
    shown = cli("list", DEFAULTS).out
    headings = [line.split(":")[0] for line in shown.splitlines() if line.startswith("Tool ")]
    assert headings == [f"Tool {name}" for name in IN_SERVER_ORDER]


def test_inspect_still_sorts_its_snapshot() -> None:
    ran = cli("inspect", DEFAULTS, "--format", "json")
    assert ran.code == 0, ran.err
    assert [tool["name"] for tool in json.loads(ran.out)["tools"]] == sorted(IN_SERVER_ORDER)


def test_list_shows_each_default_the_schema_has() -> None:
    ran = cli("list", DEFAULTS)
    assert ran.code == 0, ran.err
    table = rows(ran.out)
    assert table["parameter"] == ["parameter", "type", "required", "default", "description"]
    assert table["query"][:4] == ["query", "string", "yes", ""]  # no default: an empty cell
    assert table["lang"][:4] == ["lang", "string", "no", '""']  # the empty string, visibly
    assert table["limit"][3] == "10"
    assert table["exact"][3] == "false"
    assert table["tags"][3] == "null"


def test_call_without_a_tool_says_so_and_lists_the_tools() -> None:
    expected = (
        "error: the tool's name is missing: mcpkit call TARGET TOOL key=value ... "
        "(its tools: search, forecast, sign)"
    )
    for words in ((), ("query=x",), ("--json",), ("--json", "query=x")):
        ran = cli("call", DEFAULTS, *words)
        assert (ran.code, ran.out) == (2, ""), (words, ran.err)
        assert ran.err.splitlines()[0] == expected, (words, ran.err)


def test_options_may_come_before_the_tool() -> None:
    ran = cli("call", DEFAULTS, "--json", "forecast", "city=Oslo")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["content"][0]["text"] == "sunny in Oslo"


def test_a_misspelt_tool_gets_the_close_names_in_one_error_line() -> None:
    ran = cli("call", DEFAULTS, "serch", "query=x")
    assert (ran.code, ran.out) == (2, ""), ran.err
    error, pointer = ran.err.splitlines()
    assert error == (
        "error: the server has no tool 'serch'; did you mean 'search'? "
        "(its tools: search, forecast, sign)"
    )
    assert pointer == "(run 'mcpkit call --help' for its usage)"
    unlike = cli("call", DEFAULTS, "xyz")
    assert "did you mean" not in unlike.err  # nothing close: no guess
    assert "the server has no tool 'xyz' (its tools: search, forecast, sign)" in unlike.err


def test_prompt_without_a_name_says_so_and_lists_the_prompts() -> None:
    for words in ((), ("name=Ada",), ("--json",)):
        ran = cli("prompt", str(SERVER), *words)
        assert (ran.code, ran.out) == (2, ""), (words, ran.err)
        assert ran.err.splitlines()[0] == (
            "error: the prompt's name is missing: mcpkit prompt TARGET NAME key=value ... "
            "(its prompts: greet)"
        ), (words, ran.err)
    ran = cli("prompt", str(SERVER), "--json", "greet", "name=Ada")
    assert ran.code == 0 and "Ada" in ran.out, ran.err  # options may come before the name
