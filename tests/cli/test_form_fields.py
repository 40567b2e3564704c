"""The command line's elicitation form, one field at a time (its prompt function driven with
typed lines): numbers keep their kind, defaults included, and the form's question asks again
on anything it does not know."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mcpkit.cli import _interactive


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """Lines the person types, one per prompt (None: the end of stdin)."""
    lines: list[str | None] = []

    async def ask(prompt: str) -> str | None:
        assert lines, f"asked {prompt!r} with nothing left to type"
        return lines.pop(0)

    monkeypatch.setattr(_interactive, "_ask", ask)
    yield lines
    assert lines == [], "some typed lines were never asked for"


async def field(prop: dict[str, Any], *, required: bool = False) -> Any:
    return await _interactive._field("x", prop, required)  # pyright: ignore[reportPrivateUsage]


async def test_enter_takes_a_number_fields_default_as_a_float(typed: list[str | None]) -> None:
    typed += [""]
    value = await field({"type": "number", "default": 1.5})
    assert value == 1.5 and isinstance(value, float)


async def test_an_integer_fields_default_and_answers_are_ints(typed: list[str | None]) -> None:
    typed += ["", "", "3.0", "2.5", "4"]
    for prop in ({"type": "integer", "default": 2}, {"type": "integer", "default": 2.0}):
        value = await field(prop)
        assert value == 2 and type(value) is int
    value = await field({"type": "integer"}, required=True)  # 3.0 is whole: 3
    assert value == 3 and type(value) is int
    value = await field({"type": "integer"}, required=True)  # 2.5 asked again, then 4
    assert value == 4 and type(value) is int


async def test_typed_numbers_keep_their_fraction(typed: list[str | None]) -> None:
    typed += ["2.5", "7"]
    assert await field({"type": "number"}) == 2.5
    assert await field({"type": "number"}) == 7


async def test_the_forms_question_asks_again_until_y_n_or_c(typed: list[str | None]) -> None:
    typed += ["", "sure", "N"]
    assert await _interactive._choose("Answer? ", "ync") == "n"  # pyright: ignore[reportPrivateUsage]
    typed += [None]
    assert await _interactive._choose("Answer? ", "ync") is None  # pyright: ignore[reportPrivateUsage]
