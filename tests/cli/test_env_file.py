"""`mcpkit install --env-file` files, read by python-dotenv (the `cli` extra) as the other
tools that take a .env read them, with nothing expanded from the user's environment, and
every line it cannot read, or whose name is no environment variable's, refused by number."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mcpkit.cli.hosts import parse_env_file
from mcpkit.errors import MissingExtra


def read(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return parse_env_file(path)


def test_values_read_as_dotenv_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_OF_THE_USER", "leaked")
    text = (
        "# secrets\n\nexport TOKEN='a b'\n"
        'ESCAPED="one\\ttwo\\n"\n'
        "LITERAL='one\\ttwo ${HOME}'\n"
        "NOTED=value # a comment\n"
        "HASH=a#b\n"
        'KEPT="${SECRET_OF_THE_USER} $SECRET_OF_THE_USER"\n'
        'MULTI="first\nsecond"\n'
        "EMPTY=\n"
        "EQUALS=a=b\n"
    )
    assert read(tmp_path, text) == {
        "TOKEN": "a b",
        "ESCAPED": "one\ttwo\n",
        "LITERAL": "one\\ttwo ${HOME}",
        "NOTED": "value",
        "HASH": "a#b",
        "KEPT": "${SECRET_OF_THE_USER} $SECRET_OF_THE_USER",
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "EQUALS": "a=b",
    }


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"\xef\xbb\xbfTOKEN=x\n")
    assert parse_env_file(tmp_path / ".env") == {"TOKEN": "x"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("A=1\nthis is not an assignment\n", "line 2: 'this is not an assignment' is not KEY"),
        ("A=1\n\n# note\n\nBARE\n", "line 5: 'BARE' is not KEY=VALUE"),
        ("A=1\nN.O=1\n", "line 2: 'N.O' is not an environment variable name"),
        ("1X=2\n", "line 1: '1X' is not an environment variable name"),
        ('A="open\nB=1\n', "line 1: 'A=\"open' is not KEY=VALUE, or opens a quote it never closes"),
    ],
)
def test_a_line_it_cannot_take_is_refused_by_number(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ValueError, match="^--env-file .*" + says.replace(".", r"\.")):
        read(tmp_path, text)


def test_without_python_dotenv_the_extra_to_install_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)  # as if python-dotenv were not installed
    monkeypatch.delitem(sys.modules, "dotenv.parser", raising=False)
    with pytest.raises(MissingExtra) as refused:
        read(tmp_path, "A=1\n")
    assert str(refused.value) == (
        "--env-file needs python-dotenv, which is not installed: pip install 'mcpkit[cli]'"
    )
