"""A small FastAPI shop the OpenAPI tests call in process: path, query, header, cookie and
JSON body parameters, a list answer, a `oneOf` body, a form and uploaded files, errors."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Cookie, FastAPI, File, Form, Header, HTTPException, Query, UploadFile
from pydantic import BaseModel, Field

__all__ = ["make_app"]


class ItemIn(BaseModel):
    name: str
    price: float = Field(ge=0)
    tags: list[str] = []


class Item(ItemIn):
    id: int


class Card(BaseModel):
    kind: Literal["card"]
    number: str


class Transfer(BaseModel):
    kind: Literal["transfer"]
    iban: str


class Receipt(BaseModel):
    paid: float
    by: str


def make_app() -> FastAPI:
    app = FastAPI(title="Shop")
    items: dict[int, Item] = {1: Item(id=1, name="kettle", price=30.0, tags=["kitchen"])}

    @app.get("/items", operation_id="list_items")
    async def list_items(
        tag: Annotated[list[str] | None, Query()] = None, limit: int = 10
    ) -> list[Item]:
        found = [i for i in items.values() if not tag or set(tag) & set(i.tags)]
        return found[:limit]

    @app.get("/items/{item_id}", operation_id="get_item", summary="One item")
    async def get_item(
        item_id: int, x_currency: Annotated[str, Header()] = "EUR"
    ) -> dict[str, object]:
        if item_id not in items:
            raise HTTPException(status_code=404, detail=f"no item {item_id}")
        return {"item": items[item_id].model_dump(), "currency": x_currency}

    @app.post("/items", operation_id="create_item", status_code=201)
    async def create_item(item: ItemIn, session: Annotated[str | None, Cookie()] = None) -> Item:
        created = Item(id=max(items) + 1, **item.model_dump())
        items[created.id] = created
        return created

    @app.put("/items/{item_id}", operation_id="rename_item")
    async def rename_item(item_id: int, name: Annotated[str, Query()], body: ItemIn) -> Item:
        # a query `name` beside the body's `name`: the collision the tests resolve
        items[item_id] = Item(id=item_id, name=f"{name}/{body.name}", price=body.price)
        return items[item_id]

    @app.post("/pay", operation_id="pay")
    async def pay(payment: Card | Transfer, amount: float = 1.0) -> Receipt:
        return Receipt(paid=amount, by=payment.kind)

    @app.post("/upload", operation_id="upload")
    async def upload(
        title: Annotated[str, Form()],
        files: Annotated[list[UploadFile], File()],
    ) -> dict[str, object]:
        sizes = {f.filename or "": len(await f.read()) for f in files}
        return {"title": title, "sizes": sizes}

    @app.post("/login", operation_id="login")
    async def login(user: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> str:
        return f"{user}:{remember}"

    @app.delete("/items/{item_id}", operation_id="delete_item", status_code=204)
    async def delete_item(item_id: int) -> None:
        items.pop(item_id, None)

    return app
