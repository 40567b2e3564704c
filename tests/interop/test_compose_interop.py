"""Composed mcpkit servers used by the official Python SDK's and the TypeScript SDK v2's clients.

Each shape of peers/mcpkit_compose_server.py (servers from OpenAPI documents, one from a
FastAPI app, a front server with a mounted proxy, tools derived, tagged, renamed and put
behind tool search) is served over Streamable HTTP (uvicorn on
an ephemeral port of 127.0.0.1, in this process) and over stdio (a process per client); each
client, in each era it speaks, lists its tools and calls some. A call whose arguments come
from path, query and body, answers with `structuredContent` that the client SDK checks against
the listed `outputSchema` (it throws on a mismatch; the summary keeps that error), an API
error that must come back as a tool error, and `_meta` on listed tools that must reach the
client as the server gave it. One `Shape` row per server shape says what every client sees.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from interop_harness import PEERS, client_command, run_summary, server_command

sys.path.insert(0, str(PEERS))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving
from mcpkit_compose_server import FRONT_META, NOTE_META, NOTED_META, SHAPES

SUITE = "compose"  # which peers (see interop_harness)
# Under 2026-07-28 mcpkit names the server that answered in each result's `_meta` (basic/index,
# "_meta": a key the spec reserves; the front's, never a mounted upstream's).
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"

# (client, mode, the era it must get): each client's default and its other era.
RUNS = [
    ("official", "auto", MODERN),
    ("official", "legacy", HANDSHAKE),
    ("ts", "default", HANDSHAKE),
    ("ts", "auto", MODERN),
]


@dataclass(frozen=True)
class Call:
    """A tool call a client makes, and its answer as the client must summarize it."""

    tool: str
    arguments: Mapping[str, Any]
    is_error: bool = False
    text: str | None = None
    structured: Any = None
    meta: Mapping[str, Any] | None = None  # the result's `_meta`, less the reserved key below
    refused: bool = False  # answered with a JSON-RPC error (the SDK raises), not a result

    def summary(self) -> dict[str, Any]:
        """This call as a client's summary must have it (`error` None: the SDK took it)."""
        if self.refused:
            return {"refused": True}
        meta = dict(self.meta) if self.meta else None
        answer = {"is_error": self.is_error, "text": self.text, "structured": self.structured}
        return {**answer, "_meta": meta, "error": None}


@dataclass(frozen=True)
class Listed:
    """What a client must see of one listed tool."""

    properties: tuple[str, ...]  # its input schema's properties, sorted
    required: tuple[str, ...] = ()  # and those required, sorted
    output_schema: bool = False  # whether it declares an output schema
    meta: Mapping[str, Any] | None = None  # its `_meta`, as listed


@dataclass(frozen=True)
class Shape:
    """One server shape of mcpkit_compose_server.py, as every client must see it."""

    name: str
    server_name: str
    tools: frozenset[str]  # every tool listed
    listed: Mapping[str, Listed]  # details of some
    calls: tuple[Call, ...]


# ------------------------------------------------------------------ the shop (_shop_app.py)

SHOP_TOOLS = [
    "create_item",
    "delete_item",
    "get_item",
    "list_items",
    "login",
    "pay",
    "rename_item",
    "upload",
]
KETTLE = {"id": 1, "name": "kettle", "price": 30.0, "tags": ["kitchen"]}
RENAMED = {"id": 1, "name": "big/kettle", "price": 35.0, "tags": []}


def shop_listed(prefix: str) -> dict[str, Listed]:
    return {
        # path `item_id`, query `name` (renamed, as the body has a `name`) and the body
        f"{prefix}rename_item": Listed(
            properties=("item_id", "name", "name__query", "price", "tags"),
            required=("item_id", "name", "name__query", "price"),
            output_schema=True,
        ),
        f"{prefix}get_item": Listed(("item_id", "x-currency"), ("item_id",), output_schema=True),
        f"{prefix}list_items": Listed(("limit", "tag"), output_schema=True),
        f"{prefix}delete_item": Listed(("item_id",), ("item_id",)),
    }


def shop_calls(prefix: str, base_url: str) -> tuple[Call, ...]:
    """The shop's calls; those that read the kettle first, as rename_item changes it."""
    return (
        # a JSON array answer, wrapped as {"result": [...]} (structured content is an object)
        Call(
            f"{prefix}list_items",
            {"tag": ["kitchen"]},
            text='[{"name":"kettle","price":30.0,"tags":["kitchen"],"id":1}]',
            structured={"result": [KETTLE]},
        ),
        # a path parameter and a header one; the answer's schema is an open object
        Call(
            f"{prefix}get_item",
            {"item_id": 1, "x-currency": "USD"},
            text='{"item":{"name":"kettle","price":30.0,"tags":["kitchen"],"id":1},'
            '"currency":"USD"}',
            structured={"item": KETTLE, "currency": "USD"},
        ),
        # a body that is one of two schemas (`anyOf` in the input schema)
        Call(
            f"{prefix}pay",
            {"body": {"kind": "card", "number": "4111"}, "amount": 2.5},
            text='{"paid":2.5,"by":"card"}',
            structured={"paid": 2.5, "by": "card"},
        ),
        Call(
            f"{prefix}rename_item",
            {"item_id": 1, "name__query": "big", "name": "kettle", "price": 35.0},
            text='{"name":"big/kettle","price":35.0,"tags":[],"id":1}',
            structured=RENAMED,
        ),
        Call(
            f"{prefix}get_item",
            {"item_id": 7},
            is_error=True,
            text='GET /items/{item_id} answered HTTP 404: {"detail":"no item 7"}',
        ),
        # a form body, and a string answer wrapped as {"result": "..."}
        Call(
            f"{prefix}login", {"user": "ada"}, text="ada:False", structured={"result": "ada:False"}
        ),
    )


# ------------------------------------------------------------------ the petstore (_petstore.py)


def tagged(*tags: str) -> dict[str, Any]:
    return {"io.mcpkit/tags": list(tags)}


REX = {"id": 1, "name": "Rex", "tag": None, "kind": "dog", "owner": None}
TREE = {"name": "a", "children": [{"name": "b", "children": []}]}
PETSTORE = Shape(
    name="petstore",
    server_name="Pet Store",
    # `add pet!` and an operation without operationId, named by what tool names allow
    tools=frozenset(["add_pet", "categoryTree", "delete_pets_petId", "getPet", "listPets"]),
    listed={
        # the document's tags are the tools' (mcpkit's, in `_meta`)
        "getPet": Listed(("petId",), ("petId",), output_schema=True, meta=tagged("pets")),
        "categoryTree": Listed(("depth", "id"), ("id",), output_schema=True),
        "delete_pets_petId": Listed(
            ("X-Api-Key", "petId"), ("X-Api-Key", "petId"), meta=tagged("admin")
        ),
    },
    calls=(
        # `nullable` (3.0) answers, checked against the 2020-12 schemas made of them
        Call(
            "listPets",
            {},
            text=json.dumps([REX], separators=(",", ":")),
            structured={"result": [REX]},
        ),
        Call("getPet", {"petId": 1}, text=json.dumps(REX, separators=(",", ":")), structured=REX),
        # a recursive schema (`$ref` to itself), kept as `$defs`
        Call(
            "categoryTree",
            {"id": "a"},
            text=json.dumps(TREE, separators=(",", ":")),
            structured=TREE,
        ),
        Call(
            "getPet",
            {"petId": 9},
            is_error=True,
            text='GET /pets/{petId} answered HTTP 404: {"error":"no such pet"}',
        ),
        Call(
            "add_pet",
            {"name": "Tom", "kind": "cat"},
            text='{"name":"Tom","kind":"cat","id":2}',
            structured={"name": "Tom", "kind": "cat", "id": 2},
        ),
    ),
)

# ------------------------------------------------------------------ shaped and searched tools

FORECAST = {  # (in the order the server writes it: the text is compared as it is)
    "description": "The weather forecast for a city, for the next days.",
    "inputSchema": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    },
    "name": "get_forecast",
}
SHAPED = Shape(
    name="shaped",
    server_name="compose-shaped",
    # `wipe` is disabled by its tag; `sum` is a tombstone; `old_total` an alias of `total`
    tools=frozenset(["hello", "total", "old_total", "lend_book"]),
    listed={
        # `greet` derived: `name` shown as `who`, `greeting` hidden (its value given)
        "hello": Listed(("who",), ("who",), meta={"io.mcpkit/tags": ["public"]}),
        "old_total": Listed(("a", "b"), ("a", "b"), True, {"io.mcpkit/aliasOf": "total"}),
        "lend_book": Listed(("book",), ("book",)),
    },
    calls=(
        Call("hello", {"who": "Ada"}, text="Hi, Ada!"),
        Call("old_total", {"a": 1, "b": 2}, text="3", structured={"result": 3}),
        Call("lend_book", {"book": "Dune"}, text="lent Dune"),
        Call("wipe", {}, refused=True),
        Call("sum", {"a": 1}, refused=True),
        # a hidden argument is not the caller's to give: a tool error, as bad input is
        Call(
            "hello",
            {"who": "Ada", "greeting": "Bye"},
            is_error=True,
            text="Invalid arguments for tool 'hello': (arguments): Additional properties are not "
            "allowed ('greeting' was unexpected)",
        ),
    ),
)
SEARCH = Shape(
    name="search",
    server_name="compose-search",
    tools=frozenset(["status", "search_tools", "call_tool"]),
    listed={
        "search_tools": Listed(("query",), ("query",), output_schema=True),
        "call_tool": Listed(("arguments", "name"), ("name",)),
    },
    calls=(
        Call(
            "search_tools",
            {"query": "weather forecast"},
            text=json.dumps({"tools": [FORECAST]}, separators=(",", ":")),
            structured={"tools": [FORECAST]},
        ),
        Call(
            "call_tool",
            {"name": "translate_text", "arguments": {"text": "hi"}},
            text="translate_text(hi)",
        ),
        Call("count_words", {"text": "a b"}, text="count_words(a b)"),  # callable by name
    ),
)

SHAPE_ROWS = [
    SHAPED,
    SEARCH,
    PETSTORE,
    Shape(
        name="openapi",
        server_name="shop-openapi",
        tools=frozenset(SHOP_TOOLS),
        listed=shop_listed(""),
        calls=shop_calls("", "http://shop"),
    ),
    Shape(
        name="fastapi",
        server_name="shop-fastapi",
        tools=frozenset(SHOP_TOOLS),
        listed=shop_listed(""),
        calls=shop_calls("", "http://fastapi"),
    ),
    Shape(
        name="proxy",
        server_name="compose-front",
        # the front's own tool, and the upstream's under the mount's namespace
        tools=frozenset(["status", "shop_note", *(f"shop_{name}" for name in SHOP_TOOLS)]),
        listed={
            **shop_listed("shop_"),
            "status": Listed((), meta=FRONT_META),
            "shop_note": Listed(("text",), ("text",), meta=NOTE_META),
        },
        calls=(
            *shop_calls("shop_", "http://fastapi"),
            Call("status", {}, text="ok"),
            Call("shop_note", {"text": "hi"}, text="noted: hi", meta=NOTED_META),
            # the upstream's own name is not the front's
            Call("note", {"text": "hi"}, refused=True),
        ),
    ),
]


# ------------------------------------------------------------------ the check


def check_tool(name: str, tool: dict[str, Any], want: Listed) -> None:
    schema = tool["inputSchema"]
    assert schema["type"] == "object", name
    assert tuple(sorted(schema.get("properties", {}))) == want.properties, name
    assert tuple(sorted(schema.get("required", []))) == want.required, name
    assert ("outputSchema" in tool) == want.output_schema, name
    assert tool.get("_meta") == want.meta, name


def check(summary: dict[str, Any], shape: Shape, client: str, mode: str, era: str) -> None:
    assert (summary["client"], summary["mode"]) == (client, mode)
    assert summary["protocol_version"] == era
    assert summary["server_name"] == shape.server_name
    assert set(summary["tools"]) == shape.tools
    for name, want in shape.listed.items():
        check_tool(name, summary["tools"][name], want)
    # `error` None: the SDK took each answer, its structured content checked against the
    # listed output schema; a tool error is an answer (isError), not a failed request.
    got = summary["calls"]
    assert len(got) == len(shape.calls)
    assert [result_of(g, w, era, shape) for g, w in zip(got, shape.calls, strict=True)] == [
        call.summary() for call in shape.calls
    ]


def result_of(call: dict[str, Any], want: Call, era: str, shape: Shape) -> dict[str, Any]:
    """A call's summary, with the front's `serverInfo` checked and taken out of its `_meta`
    (an SDK's error is kept whole, unless the call was to be refused)."""
    if call.get("error") is not None:
        return {"refused": True} if want.refused else call
    meta = dict(call.get("_meta") or {})
    info = meta.pop(SERVER_INFO, None)
    if era == MODERN:
        assert info is not None and info["name"] == shape.server_name, call
    else:
        assert info is None, call
    return {**call, "_meta": meta or None}


def calls_json(shape: Shape) -> str:
    return json.dumps([[call.tool, call.arguments] for call in shape.calls])


def run_client(client: str, mode: str, shape: Shape, target: list[str], how: str) -> Any:
    argv = [*client_command(client, SUITE), mode, calls_json(shape), *target]
    return run_summary(argv, f"{client} client ({mode}) vs mcpkit {shape.name} over {how}")


SHAPE_PARAMS = [pytest.param(shape, id=shape.name) for shape in SHAPE_ROWS]
RUN_PARAMS = [pytest.param(*run, id=f"{run[0]}-{run[1]}") for run in RUNS]


def test_every_server_shape_has_a_row() -> None:
    assert sorted(SHAPES) == sorted(shape.name for shape in SHAPE_ROWS)


@pytest.mark.parametrize("shape", SHAPE_PARAMS)
@pytest.mark.parametrize(("client", "mode", "era"), RUN_PARAMS)
async def test_sdk_clients_over_http(shape: Shape, client: str, mode: str, era: str) -> None:
    app = SHAPES[shape.name]().http_app()
    async with serving(app) as base:
        # The client runs in a thread: this loop serves it.
        target = [f"{base}/mcp"]
        summary = await asyncio.to_thread(run_client, client, mode, shape, target, "HTTP")
    check(summary, shape, client, mode, era)


# Over stdio, the shape that composes most (a proxy mounted in a front server, itself over
# stdio): the OpenAPI shapes differ from it in what is served, not in how it is carried, and
# each run here starts two or three processes.
STDIO_SHAPE_PARAMS = [param for param in SHAPE_PARAMS if param.id == "proxy"]


@pytest.mark.parametrize("shape", STDIO_SHAPE_PARAMS)
@pytest.mark.parametrize(("client", "mode", "era"), RUN_PARAMS)
def test_sdk_clients_over_stdio(shape: Shape, client: str, mode: str, era: str) -> None:
    target = [*server_command("mcpkit", SUITE), shape.name]
    check(run_client(client, mode, shape, target, "stdio"), shape, client, mode, era)
