"""`mcpkit generate ... --check` for CI: a file made from the server's tools now is current
(exit 0); one made before a tool was added or changed is stale (exit 1), saying which; a file
that is missing or was not generated is refused before any server is started. And the script
`mcpkit generate cli` writes calls the server, one subcommand per tool."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from _codegen_files import REPO
from _hostile_tools import SERVER_NAME, TOOLS

from mcpkit.cli.main import main
from mcpkit.codegen import cli_script, client_module
from mcpkit.codegen._header import FORMAT, differences, read_header


def test_check_says_current_then_which_tools_changed(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = generated / "everything_client.py"
    target = str(REPO / "examples" / "everything.py")
    assert main(["generate", "client", target, "-o", str(made), "--check"]) == 0
    assert f"{made} is current" in capsys.readouterr().err
    # As if made before the server gained `stats` and changed `add`: the header says so.
    lines = made.read_text().splitlines(keepends=True)
    stale = tmp_path / "stale_client.py"
    stale.write_text(
        "".join(
            re.sub(r'"add" [0-9a-f]{16}', '"add" 0123456789abcdef', line)
            for line in lines
            if '"stats"' not in line
        )
    )
    assert main(["generate", "client", target, "-o", str(stale), "--check"]) == 1
    err = capsys.readouterr().err
    assert f'{stale} is stale: tools added: "stats"; tools changed: "add"' in err
    assert f"regenerate it: mcpkit generate client {target} -o {stale}" in err


def test_check_sees_a_file_edited_or_made_with_other_options(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = generated / "everything_client.py"
    target = str(REPO / "examples" / "everything.py")
    edited = tmp_path / "edited_client.py"
    edited.write_text(made.read_text() + "\nprint('added by hand')\n")
    assert main(["generate", "client", target, "-o", str(edited), "--check"]) == 1
    assert "its text is not what `mcpkit generate` makes" in capsys.readouterr().err
    assert main(["generate", "client", target, "-o", str(made), "--check"]) == 0
    capsys.readouterr()
    renamed = ["--class-name", "Other"]
    assert main(["generate", "client", target, "-o", str(made), "--check", *renamed]) == 1
    assert "is stale" in capsys.readouterr().err


def test_check_refuses_a_missing_or_hand_written_file_without_starting_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the target does not exist: reaching it would fail with exit 3, not 1
    nowhere = str(tmp_path / "absent_server.py")
    missing = tmp_path / "missing.py"
    assert main(["generate", "client", nowhere, "-o", str(missing), "--check"]) == 1
    assert f"{missing}: No such file or directory" in capsys.readouterr().err
    hand = tmp_path / "hand.py"
    hand.write_text("# a comment\nx = 1\n")
    assert main(["generate", "cli", nowhere, "-o", str(hand), "--check"]) == 1
    assert "was not made by `mcpkit generate`" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["generate", "client", nowhere, "--check"])
    assert exc.value.code == 2
    assert "--check needs -o FILE" in capsys.readouterr().err


def test_a_class_name_that_is_no_python_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = str(tmp_path / "absent_server.py")  # refused before any server is reached
    for wrong in ("1st", "class", "A B", "X:\n    import os", "Client", "Any", "list"):
        with pytest.raises(SystemExit) as exc:
            main(["generate", "client", nowhere, "--class-name", wrong])
        assert exc.value.code == 2
        assert f"--class-name: {wrong!r} cannot name the class" in capsys.readouterr().err
        with pytest.raises(ValueError, match="cannot name the class"):
            client_module([], "s", class_name=wrong)
    assert "\nclass Notes:\n" in client_module([], "s", class_name="Notes")


def test_differences_name_the_kind_and_the_format() -> None:
    tools = [{"name": "a", "inputSchema": {"type": "object"}}]
    text = cli_script(tools, "s", "s.py")
    recorded = read_header(text)
    assert recorded is not None and differences(recorded, "cli", "s", tools) == []
    assert differences(recorded, "client", "s", tools) == [
        "the file was made by `mcpkit generate cli`, not client"
    ]
    assert differences(recorded, "cli", 'a "new" name', tools) == [
        'the server\'s name is now "a \\"new\\" name"'
    ]
    old = read_header(text.replace(f"cli format {FORMAT}", "cli format 1"))
    assert old is not None
    assert differences(old, "cli", "s", tools) == [
        f"made by an older generator (format 1, now {FORMAT})"
    ]
    moved = [*tools, {"name": "b", "inputSchema": {}}]
    reordered = read_header(cli_script(moved, "s", "s.py"))
    assert reordered is not None
    assert differences(reordered, "cli", "s", moved[::-1]) == [
        "the server lists its tools in another order"
    ]


def test_the_generated_script_calls_everything(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _codegen_files import import_file

    script = import_file(generated / "everything_cli.py")
    target = ["--server", str(REPO / "examples" / "everything.py")]
    assert script.main([*target, "stats", "--values", "1", "2", "6"]) == 0
    assert json.loads(capsys.readouterr().out) == {"count": 3, "mean": 3.0, "values": [1, 2, 6]}
    assert script.main([*target, "divide", "--a", "1", "--b", "0"]) == 1
    shown = capsys.readouterr()
    assert shown.out == "b must not be zero\n"
    assert "error: the tool 'divide' failed" in shown.err


def test_a_hostile_tool_list_gives_a_script_whose_every_help_shows(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _codegen_files import import_file

    parser: argparse.ArgumentParser = import_file(generated / "hostile_cli.py").parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    shown = capsys.readouterr().out
    for command in ("class_2", "Class", "ToolResult", "client", "init", "class_3", "odd_shapes"):
        assert re.search(rf"^    {re.escape(command)}(\s|$)", shown, re.M), command
    for command in ("class", "class_2", "Class", "ToolResult", "client", "init", "odd_shapes"):
        with pytest.raises(SystemExit):
            parser.parse_args([command, "--help"])
    words = ["class", "--class", "3", "--a-b", "x", "--arg_2", "", "--None", "null"]
    args = parser.parse_args([*words, "--raise_runtime_error_injected_3", "\\"])
    given = vars(args)
    assert {key: given[dest] for dest, key in args.keys.items() if dest in given} == {
        "class": 3,
        "a-b": "x",
        "": "",
        "None": None,
        '"); raise RuntimeError("injected 3"); ("': "\\",
    }
    with pytest.raises(SystemExit):
        # "--clas" is no abbreviation of --class: a misspelt option is refused
        parser.parse_args(["class", "--class", "3", "--clas", "4", "--a-b", "x", "--arg_2", ""])
    assert "unrecognized arguments: --clas" in capsys.readouterr().err


def test_a_script_names_its_server_as_given() -> None:
    script = cli_script(TOOLS[:1], SERVER_NAME, "npx -y 'some server'")
    assert "TARGET = \"npx -y 'some server'\"" in script
