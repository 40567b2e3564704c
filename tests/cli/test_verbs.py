"""`mcpkit list`, `call`, `read` and `prompt` against a server file over stdio: what they print,
`--json` output, and the exit code of every way a command can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _verbs import REPO, SERVER, cli, cli_env

S = str(SERVER)


def test_list_shows_tools_with_parameters_resources_templates_and_prompts() -> None:
    ran = cli("list", S)
    assert ran.code == 0, ran.err
    for expected in (
        "Tool add: Add two integers.",
        "parameter",
        "integer",
        "array of string",
        "memo://hello",
        "notes://{name}",
        "Prompt greet: Greet someone.",
        "style",
    ):
        assert expected in ran.out
    assert "\x1b" not in ran.out + ran.err  # no ANSI codes into a pipe


def test_list_json_is_the_lists_and_nothing_else() -> None:
    ran = cli("list", S, "--json")
    found = json.loads(ran.out)
    assert ran.code == 0
    assert [t["name"] for t in found["tools"]][:3] == ["add", "echo", "fail"]  # server order
    assert found["tools"][0]["inputSchema"]["required"] == ["a", "b"]
    assert [r["uri"] for r in found["resources"]] == ["memo://hello"]
    assert [t["uriTemplate"] for t in found["resourceTemplates"]] == ["notes://{name}"]
    assert found["prompts"][0]["arguments"][0] == {"name": "name", "required": True}


def test_call_reads_each_value_as_the_schema_types_it() -> None:
    assert cli("call", S, "add", "a=2", "b=40").out == "42\n"
    ran = cli("call", S, "echo", "text=007", 'tags=["a","b"]', "loud=yes")
    assert (ran.code, ran.out) == (0, "007 [a, b]\n")  # "007" stays a string


def test_call_whole_arguments_as_json_and_json_output() -> None:
    ran = cli("call", S, "add", "--args", '{"a": 1}', "b=2", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == {
        "content": [{"type": "text", "text": "3"}],
        "structuredContent": {"result": 3},
    }


def test_bad_arguments_are_refused_before_the_call_with_usage_code() -> None:
    cases = {
        ("add", "a=x", "b=1"): "argument 'a' must be integer; 'x' is not",
        ("add", "a=1", "c=2"): "unknown argument 'c'; it takes a, b",
        ("add", "a=1"): "missing argument 'b' (integer)",
        ("add", "a"): "'a' is not key=value",
        ("echo", "text=x", "tags=a,b"): "argument 'tags' must be array or null",
        ("add", "--args", "[1]"): "--args must be a JSON object",
        ("nope",): "the server has no tool 'nope' (its tools: add, echo, fail,",
    }
    for words, message in cases.items():
        ran = cli("call", S, *words)
        assert ran.code == 2, (words, ran.err)
        assert message in ran.err, ran.err
        assert ran.out == ""


def test_a_tool_error_exits_1_with_its_text_on_stderr() -> None:
    ran = cli("call", S, "fail")
    assert ran.code == 1
    assert "the disk is full" in ran.err
    assert ran.out == ""
    assert json.loads(cli("call", S, "fail", "--json").out)["isError"] is True


def test_media_is_shown_by_type_and_size_and_saved_on_request(tmp_path: object) -> None:
    assert cli("call", S, "picture").out == "[image/png, 2 KB]\n"
    ran = cli("call", S, "picture", "--save-dir", str(tmp_path))
    saved = tmp_path / "content-0.png"  # type: ignore[operator]
    assert f"saved to {saved}" in ran.out
    assert saved.read_bytes().startswith(b"\x89PNG")


def test_read_prints_a_resource_and_json_gives_the_result() -> None:
    assert cli("read", S, "memo://hello").out == "hello, reader\n"
    assert cli("read", S, "notes://x").out == "note x\n"
    ran = cli("read", S, "memo://missing")
    assert ran.code == 1
    assert "the server answered error -32602" in ran.err
    contents = json.loads(cli("read", S, "memo://hello", "--json").out)["contents"]
    assert contents == [{"uri": "memo://hello", "mimeType": "text/plain", "text": "hello, reader"}]


def test_prompt_fills_arguments_and_refuses_unknown_or_missing_ones() -> None:
    ran = cli("prompt", S, "greet", "name=Bo", "style=warm")
    assert ran.code == 0
    assert ran.out == "Greet someone.\n[user]\nGreet Bo in a warm way.\n"
    assert json.loads(cli("prompt", S, "greet", "name=Bo", "--json").out)["messages"][0] == {
        "role": "user",
        "content": {"type": "text", "text": "Greet Bo in a plain way."},
    }
    assert "missing argument 'name'" in cli("prompt", S, "greet").err
    unknown = cli("prompt", S, "greet", "name=a", "tone=b")
    assert (unknown.code, "unknown argument 'tone'; it takes name, style" in unknown.err) == (
        2,
        True,
    )
    assert cli("prompt", S, "nope").code == 2


def test_targets_that_cannot_be_reached_exit_3() -> None:
    missing = cli("list", "no_such_server.py")
    assert missing.code == 3
    assert "no_such_server.py does not exist" in missing.err
    crashed = cli("list", "python -c 'import sys; sys.exit(5)'")
    assert crashed.code == 3
    assert "cannot connect" in crashed.err
    refused = cli("list", "http://127.0.0.1:9/mcp")
    assert refused.code == 3
    assert "cannot reach" in refused.err


def test_a_server_that_dies_mid_call_exits_4() -> None:
    ran = cli("call", S, "die")
    assert ran.code == 4
    assert "exited with code 7" in ran.err


def test_no_answer_in_time_exits_124() -> None:
    ran = cli("call", S, "slow", "--timeout", "0.5")
    assert ran.code == 124
    assert "no answer in time" in ran.err


def test_server_text_is_never_read_as_markup_or_terminal_escapes() -> None:
    listed = cli("list", S)
    assert listed.code == 0, listed.err
    assert "Tool hostile: [/] [bold]not markup\ufffd[2J" in listed.out
    called = cli("call", S, "hostile", "--log-level", "info")
    assert (called.code, called.out) == (0, "\ufffd[31mred?[/] [link=x]no[/link]\n")
    assert "[info] [/red] log \ufffd]0;retitled\ufffd" in called.err
    assert "progress 1/2: [/] half \ufffd[1A" in called.err
    assert "\x1b" not in called.err + listed.out
    exact = cli("call", S, "hostile", "--json")  # --json keeps the exact text
    assert json.loads(exact.out)["content"][0]["text"] == "\x1b[31mred?[/] [link=x]no[/link]"


def test_a_tool_that_only_runs_as_a_task_is_called_as_one() -> None:
    ran = cli("call", S, "report", "pages=3")
    assert (ran.code, ran.out) == (0, "3 pages\n"), ran.err


def test_building_the_parser_imports_neither_rich_nor_the_client() -> None:
    # `mcpkit --help` and completion build every verb's parser: it must stay cheap
    heavy = "('asyncio', 'rich', 'mcpkit.client', 'msgspec')"
    probe = (
        "import sys; from mcpkit.cli.main import build_parser; build_parser(); "
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=cli_env()
    )
    assert done.stdout == "[]\n", done.stderr


NUMBERS = str(REPO / "tests" / "cli" / "servers" / "numbers_server.py")


def test_a_whole_number_fits_an_integer_as_the_server_says() -> None:
    ran = cli("call", NUMBERS, "scale", "factor=3.0")
    assert (ran.code, ran.out, ran.err) == (0, "6\n", "")
    refused = cli("call", NUMBERS, "scale", "factor=2.5")
    assert refused.code == 2 and "argument 'factor' must be integer" in refused.err


def test_a_nested_argument_is_refused_by_its_json_path() -> None:
    ran = cli("call", NUMBERS, "place", 'order={"item": "tea", "quantity": "many"}')
    assert ran.code == 2, ran.err
    assert "argument $.order.quantity is refused by the tool's schema" in ran.err


def test_list_to_a_pipe_never_wraps_long_uris_or_descriptions(tmp_path: Path) -> None:
    uri = "docs://" + "/".join(["a-rather-long-segment"] * 6) + "/readme.md"
    words = "words that go well past eighty columns " * 4
    (tmp_path / "wide.py").write_text(
        "from mcpkit import Server\nserver = Server('wide')\n"
        f"@server.resource({uri!r})\ndef readme() -> str:\n    return 'hi'\n"
        f"@server.tool()\ndef tool(x: int) -> int:\n    {words.strip()!r}\n    return x\n"
    )
    ran = cli("list", str(tmp_path / "wide.py"))  # stdout is a pipe here
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert any(uri in line for line in lines)
    assert any(words.strip() in line for line in lines)
    assert not any(line != line.rstrip() for line in lines)  # no padding to a width


LOGIN = """
from mcpkit import Server
from mcpkit.errors import UrlElicitationRequired

server = Server("login")

@server.tool()
def account() -> str:
    raise UrlElicitationRequired([{
        "mode": "url", "elicitationId": "e1", "url": "https://example.com/login",
        "message": "Sign in to your account",
    }])
"""


def test_a_url_elicitation_required_error_shows_its_urls_and_json_the_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "login.py").write_text(LOGIN)
    ran = cli("call", str(tmp_path / "login.py"), "account")
    assert ran.code == 1 and ran.out == ""
    assert "open: https://example.com/login (Sign in to your account)" in ran.err
    assert "then run the command again" in ran.err
    as_json = cli("call", str(tmp_path / "login.py"), "account", "--json")
    error = json.loads(as_json.out)
    assert error["code"] == -32042
    assert error["data"]["elicitations"][0]["url"] == "https://example.com/login"
