"""Composed mcpkit servers for test_compose_interop.py, one factory per shape in `SHAPES`;
`python mcpkit_compose_server.py SHAPE` serves one over stdio.

Shapes (each a `Server`, made fresh, so two runs share no state):

- `openapi`: `Server.from_openapi` over the document of tests/openapi/_shop_app.py's FastAPI
  shop, its calls going to the app through an in-process `httpx.ASGITransport`;
- `petstore`: `Server.from_openapi` over tests/openapi/_petstore.py, an OpenAPI 3.0 document
  (`nullable`, a `discriminator`, a recursive schema), its API a small `httpx.MockTransport`;
- `fastapi`: `Server.from_fastapi` over the same app;
- `proxy`: a front server with a tool of its own (`status`) that mounts, under `shop`, a
  `ProxyServer` of `python mcpkit_compose_server.py upstream` (the `fastapi` shop plus a tool
  `note` whose listing and result carry `_meta`);
- `shaped`: tools shaped as docs/compose.md shapes them: a derived tool (an argument renamed,
  one hidden with a value), tags with a tag disabled, an old name kept as an alias, a
  tombstone, a mounted tool shown under a name of its own;
- `search`: a catalog behind tool search (a pinned tool, and the search and call pair).

A shape is added with one factory decorated `@shape("name")` here and one `Shape` row in
test_compose_interop.py (which checks that the two agree).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mcpkit import Server
from mcpkit.proxy import ProxyServer
from mcpkit.server import Arg
from mcpkit.types import CallToolResult, TextContent

__all__ = ["SHAPES", "shape"]

# _shop_app.py and _petstore.py, imported where used: the `proxy` shape's front needs no FastAPI
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "openapi"))

SHAPES: dict[str, Callable[[], Server]] = {}
# `_meta` of the front's own tool and of the upstream's `note`: a prefixed key (the spec's
# reverse-DNS form) and a plain one, which every client must hand on as they are.
FRONT_META = {"com.example.front/role": "status", "plain": 1}
NOTE_META = {"com.example.shop/owner": "shop", "plain": True}
NOTED_META = {"com.example.shop/trace": "n-1"}  # `_meta` of `note`'s result


def shop_app() -> Any:
    """A fresh FastAPI shop."""
    from _shop_app import make_app

    return make_app()


def shape(name: str) -> Callable[[Callable[[], Server]], Callable[[], Server]]:
    """Register the decorated factory as shape `name`."""

    def register(factory: Callable[[], Server]) -> Callable[[], Server]:
        SHAPES[name] = factory
        return factory

    return register


@shape("openapi")
def openapi_shop() -> Server:
    """The shop, from its OpenAPI document, called through an httpx client."""
    app = shop_app()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop")
    return Server.from_openapi(app.openapi(), client=client, name="shop-openapi")


REX = {"id": 1, "name": "Rex", "tag": None, "kind": "dog", "owner": None}
TREE = {"name": "a", "children": [{"name": "b", "children": []}]}


def pet_api(request: httpx.Request) -> httpx.Response:
    """The petstore document's API, as far as the test calls it."""
    match request.method, request.url.path:
        case "GET", "/v1/pets":
            return httpx.Response(200, json=[REX])
        case "GET", "/v1/pets/1":
            return httpx.Response(200, json=REX)
        case "POST", "/v1/pets":
            return httpx.Response(201, json={**json.loads(request.content), "id": 2})
        case "GET", "/v1/categories/a/tree":
            return httpx.Response(200, json=TREE)
    return httpx.Response(404, json={"error": "no such pet"})


@shape("petstore")
def petstore() -> Server:
    """The petstore document, its calls answered by `pet_api`."""
    from _petstore import petstore as document

    transport = httpx.MockTransport(pet_api)
    client = httpx.AsyncClient(transport=transport, base_url="http://pets.test/v1")
    return Server.from_openapi(document(), client=client)


@shape("fastapi")
def fastapi_shop() -> Server:
    """The shop, from the FastAPI app itself."""
    return Server.from_fastapi(shop_app(), name="shop-fastapi")


def upstream_shop() -> Server:
    """What the `proxy` shape's ProxyServer serves: the shop, and `note` with `_meta`."""
    server = Server.from_fastapi(shop_app(), name="shop-upstream")

    @server.tool(meta=NOTE_META)
    def note(text: str) -> CallToolResult:
        """Echo a note, with `_meta` on the result."""
        return CallToolResult(content=[TextContent(text=f"noted: {text}")], meta=NOTED_META)

    return server


@shape("proxy")
def mounted_proxy() -> Server:
    """A front server with its own tool and a mounted proxy of `upstream_shop` (stdio)."""
    front = Server("compose-front", version="1.0.0")

    @front.tool(meta=FRONT_META)
    def status() -> str:
        """Whether the front is up."""
        return "ok"

    upstream = ProxyServer([sys.executable, __file__, "upstream"], stderr="devnull")
    front.mount(upstream, namespace="shop")
    return front


@shape("shaped")
def shaped() -> Server:
    """Tools shaped by transforms, tags, aliases, a tombstone and a mount's `tool_names`."""
    server = Server("compose-shaped", version="1.0.0")

    @server.tool(tags={"public"})
    def greet(name: str, greeting: str) -> str:
        """Greet someone."""
        return f"{greeting}, {name}!"

    server.transform_tool(
        "greet",
        name="hello",
        description="Say hello to someone.",
        arguments={"name": Arg(name="who"), "greeting": Arg(hide=True, value="Hi")},
    )

    @server.tool(tags={"admin"})
    def wipe() -> str:
        """Wipe everything (disabled below: neither listed nor callable)."""
        return "wiped"

    @server.tool(aliases=["old_total"])
    def total(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.tombstone("sum", replacement="total")
    library = Server("library")

    @library.tool()
    def lend(book: str) -> str:
        """Lend a book."""
        return f"lent {book}"

    server.mount(library, namespace="lib", tool_names={"lend": "lend_book"})
    server.disable(tags={"admin"})
    return server


#: The `search` shape's catalog: name -> description (each takes a `city` or a `text`).
SEARCHED = {
    "get_forecast": "The weather forecast for a city, for the next days.",
    "convert_currency": "Convert an amount of money into another currency.",
    "translate_text": "Translate a text into another language.",
    "count_words": "Count the words of a text.",
}


def _echoing(name: str) -> Callable[[str], str]:
    def tool(text: str) -> str:
        return f"{name}({text})"

    return tool


@shape("search")
def searched() -> Server:
    """A catalog behind tool search: `status` pinned, the rest found by `search_tools`."""
    server = Server("compose-search", version="1.0.0")

    @server.tool()
    def status() -> str:
        """Whether the server is up."""
        return "ok"

    for name, description in SEARCHED.items():
        server.add_tool(_echoing(name), name=name, description=description)
    server.add_tool_search(pinned=["status"], max_results=1)
    return server


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    factory = upstream_shop if which == "upstream" else SHAPES.get(which)
    if factory is None:
        sys.exit(f"usage: mcpkit_compose_server.py {{{','.join([*SHAPES, 'upstream'])}}}")
    factory().run()
