"""pydantic in return hints: a model's output schema is its serialization schema (what it
dumps), results are checked against it, and a pydantic dataclass whose dump has other names
than its fields is refused."""

from __future__ import annotations

from typing import Annotated

import pydantic
import pytest
from pydantic import BaseModel, Field, computed_field

from mcpkit import Client, Server
from mcpkit.server.schemas.signature import OutputError, build_signature


@pydantic.dataclasses.dataclass
class Span:
    start: Annotated[int, Field(ge=0)]
    end: int


class Invoice(BaseModel):
    amount: int = Field(serialization_alias="Amount")
    tax: int = 0

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def total(self) -> int:
        return self.amount + self.tax


def test_a_model_output_schema_describes_its_dump() -> None:
    def bill() -> Invoice:
        return Invoice(amount=3)

    output = build_signature(bill).output
    schema = output.output_schema
    assert schema is not None
    assert set(schema["properties"]) == {"Amount", "tax", "total"}
    assert schema["properties"]["total"]["readOnly"] is True
    assert output.to_structured(Invoice(amount=3, tax=1)) == {"Amount": 3, "tax": 1, "total": 4}
    with pytest.raises(OutputError, match="Amount"):
        output.to_structured({"amount": 3})  # what the model takes is not what it sends

    def bills() -> list[Invoice]: ...

    wrapped = build_signature(bills).output
    assert wrapped.to_structured([Invoice(amount=1)]) == {
        "result": [{"Amount": 1, "tax": 0, "total": 1}]
    }
    with pytest.raises(OutputError, match=r"at `\$\.result\[0\]`"):
        wrapped.to_structured([{"tax": 1}])

    def take(invoice: Invoice) -> None: ...

    taken = build_signature(take).input_schema["properties"]["invoice"]
    assert set(taken["properties"]) == {"amount", "tax"}  # arguments: what it validates


@pydantic.dataclasses.dataclass
class Priced:
    net: int

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def gross(self) -> int:
        return self.net * 2


def test_a_pydantic_dataclass_result_is_sent_by_its_fields_or_refused() -> None:
    def span() -> Span: ...

    output = build_signature(span).output
    assert output.to_structured(Span(start=1, end=2)) == {"start": 1, "end": 2}
    with pytest.raises(OutputError, match=r"minimum of 0 - at `\$\.start`"):
        output.to_structured({"start": -1, "end": 0})

    def priced() -> list[Priced]: ...

    with pytest.raises(TypeError, match="priced: the pydantic dataclass Priced is sent by"):
        build_signature(priced)


async def test_a_model_result_reaches_the_client_as_its_schema_says() -> None:
    server = Server("billing")

    @server.tool()
    def bill(amount: int) -> Invoice:
        return Invoice(amount=amount, tax=1)

    async with Client(server) as client:
        (tool,) = await client.list_tools()
        assert tool.output_schema is not None and "total" in tool.output_schema["required"]
        done = await client.call_tool("bill", {"amount": 2})
        assert done.is_error is not True
        assert done.structured_content == {"Amount": 2, "tax": 1, "total": 3}
