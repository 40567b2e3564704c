"""Composed mcpkit servers for test_compose_interop.py, one factory per shape in `SHAPES`;
`python mcpkit_compose_server.py SHAPE` serves one over stdio.

Shapes (each a `Server`, made fresh, so two runs share no state):

- `openapi`: `Server.from_openapi` over the document of tests/openapi/_shop_app.py's FastAPI
  shop, its calls going to the app through an in-process `httpx.ASGITransport`;
- `fastapi`: `Server.from_fastapi` over the same app;
- `proxy`: a front server with a tool of its own (`status`) that mounts, under `shop`, a
  `ProxyServer` of `python mcpkit_compose_server.py upstream` (the `fastapi` shop plus a tool
  `note` whose listing and result carry `_meta`).

A shape is added with one factory decorated `@shape("name")` here and one `Shape` row in
test_compose_interop.py (which checks that the two agree).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mcpkit import Server
from mcpkit.proxy import ProxyServer
from mcpkit.types import CallToolResult, TextContent

SHOP_APP = Path(__file__).resolve().parents[2] / "openapi"  # _shop_app.py's folder
__all__ = ["SHAPES", "shape"]

SHAPES: dict[str, Callable[[], Server]] = {}
# `_meta` of the front's own tool and of the upstream's `note`: a prefixed key (the spec's
# reverse-DNS form) and a plain one, which every client must hand on as they are.
FRONT_META = {"com.example.front/role": "status", "plain": 1}
NOTE_META = {"com.example.shop/owner": "shop", "plain": True}
NOTED_META = {"com.example.shop/trace": "n-1"}  # `_meta` of `note`'s result


def shop_app() -> Any:
    """A fresh FastAPI shop (imported here: the `proxy` shape's front needs no FastAPI)."""
    if str(SHOP_APP) not in sys.path:
        sys.path.insert(0, str(SHOP_APP))
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


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    factory = upstream_shop if which == "upstream" else SHAPES.get(which)
    if factory is None:
        sys.exit(f"usage: mcpkit_compose_server.py {{{','.join([*SHAPES, 'upstream'])}}}")
    factory().run()
