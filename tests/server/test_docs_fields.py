"""docs/server.md, pydantic's `Field`: its example runs as written (with the page's other
blocks, as a reader pastes them into one file) and the tool advertises and checks what the
text says."""

from __future__ import annotations

import pathlib
import re
from typing import Any

from _schema_checks import schema_problems

from mcpkit import Client, Server

DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"


def _page() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        # Our own docs, as a reader runs them: not under this module's `from __future__`.
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    return namespace


async def test_the_field_example_advertises_and_checks_what_the_text_says() -> None:
    shop: Server = _page()["shop"]
    async with Client(shop) as client:
        tool = next(t for t in await client.list_tools() if t.name == "order")
        schema = tool.input_schema
        assert schema_problems(schema) == []
        quantity = schema["properties"]["quantity"]
        assert quantity["type"] == "integer" and quantity["default"] == 1
        assert quantity["exclusiveMinimum"] == 0 and quantity["maximum"] == 100
        assert quantity["description"] == "How many"
        note = schema["properties"]["giftNote"]
        assert {"type": "string", "maxLength": 200} in note["anyOf"]
        assert {"type": "null"} in note["anyOf"]
        assert schema["required"] == ["item"]
        refused = await client.call_tool("order", {"item": "tea", "quantity": 0})
        assert (
            refused.is_error is True and "quantity: must be greater than 0 (got 0)" in refused.text
        )
        plain = await client.call_tool("order", {"item": "tea"})
        assert plain.text == "1 x tea, tagged []"
        noted = await client.call_tool("order", {"item": "tea", "giftNote": "enjoy"})
        assert noted.text == "1 x tea with the note 'enjoy', tagged []"


async def test_the_dataclass_example_advertises_and_checks_what_the_text_says() -> None:
    shop: Server = _page()["shop"]
    async with Client(shop) as client:
        tool = next(t for t in await client.list_tools() if t.name == "basket")
        assert schema_problems(tool.input_schema) == []
        line = tool.input_schema["properties"]["lines"]["items"]
        assert line["properties"]["item"]["description"] == "What to buy"
        quantity = line["properties"]["quantity"]
        assert quantity["default"] == 1
        assert quantity["exclusiveMinimum"] == 0 and quantity["maximum"] == 100
        refused = await client.call_tool(
            "basket", {"lines": [{"item": "tea"}, {"item": "jam", "quantity": 0}]}
        )
        assert (
            refused.is_error is True
            and "lines[1].quantity: must be greater than 0 (got 0)" in refused.text
        )
        done = await client.call_tool("basket", {"lines": [{"item": "tea"}]})
        assert done.text == "1 x tea"
