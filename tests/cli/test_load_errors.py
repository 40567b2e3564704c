"""A server file that fails to load on a mistake mcpkit can name is told in one `error:` line
naming the fix (a tool's annotation with no JSON Schema: the function, the parameter, the
annotation and the types that work); its traceback of mcpkit's and msgspec's frames only with
`mcpkit run --verbose`. An error in the user's own code keeps its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from _verbs import cli

PLAIN_CLASS = """
from mcpkit import Server

server = Server("points")


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


@server.tool()
def plot(p: Point) -> str:
    return "plotted"
"""

BAD_GENERIC = """
from mcpkit import Server

server = Server("pairs")


@server.tool()
def pair(p: list[int, str]) -> str:
    return "paired"
"""

IN_A_PROMPT = """
from mcpkit import Context, Server

server = Server("prompts")


class Point:
    pass


@server.prompt()
def draw(ctx: Context, size: int, where: list[Point] | None = None) -> str:
    return "drawn"
"""

WORKS = "a dataclass, a TypedDict, a msgspec.Struct, a pydantic model"


@pytest.mark.parametrize(
    ("source", "told"),
    [
        (
            PLAIN_CLASS,
            "server.py, line 12: plot(p: Point): the annotation of parameter 'p' has no JSON "
            "Schema (Point is a plain class: make it a dataclass, a TypedDict or a "
            "msgspec.Struct)",
        ),
        (
            BAD_GENERIC,
            "server.py, line 7: pair(p: list[int, str]): the annotation of parameter 'p' has "
            "no JSON Schema (list takes one type: list[int], or list[int | str] for items of "
            "either)",
        ),
        (
            IN_A_PROMPT,
            "server.py, line 11: draw(where: list[Point] | None): the annotation of parameter "
            "'where' has no JSON Schema (Point is a plain class",
        ),
    ],
)
def test_an_annotation_with_no_schema_is_one_error_line(
    tmp_path: Path, source: str, told: str
) -> None:
    server = tmp_path / "server.py"
    server.write_text(source)
    ran = cli("run", str(server))
    assert ran.code == 1, ran.err
    (line,) = ran.err.splitlines()
    assert line.startswith(f"error: {told}"), line
    assert line.endswith(f"annotate it with a type that has one: {_rest_of_the_list()}")
    assert WORKS in line


def _rest_of_the_list() -> str:
    from mcpkit.server.schemas._unsupported import TYPES_THAT_WORK

    return TYPES_THAT_WORK


def test_verbose_shows_the_traceback_before_the_same_line(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(PLAIN_CLASS)
    quiet = cli("run", str(server))
    ran = cli("run", str(server), "--verbose")
    assert ran.code == 1, ran.err
    assert ran.err.startswith("Traceback (most recent call last):")
    assert "mcpkit.errors.UnsupportedAnnotation: plot(p: Point)" in ran.err
    assert "The above exception was the direct cause" not in ran.err
    assert ran.err.endswith(quiet.err)


def test_list_of_such_a_file_says_the_same_line(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(PLAIN_CLASS)
    ran = cli("list", str(server))
    assert ran.code == 3, ran.err
    first, then = ran.err.splitlines()
    assert first.startswith("error: server.py, line 12: plot(p: Point): ")
    assert then.startswith("error: cannot connect to ")
    assert "Traceback" not in ran.err


def test_an_error_in_the_users_code_keeps_its_traceback(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text('from mcpkit import Server\nserver = Server("x")\nraise ValueError("boom")\n')
    ran = cli("run", str(server))
    assert ran.code == 1, ran.err
    assert ran.err.startswith("Traceback (most recent call last):")
    assert ran.err.endswith(
        "error: importing "
        f"{server} raised ValueError (traceback above); fix that error in your code and run "
        "again\n"
    )
