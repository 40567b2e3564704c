"""Turning an OpenAPI 3.0/3.1 document into MCP tools, resources and templates that call
the API over an `httpx.AsyncClient` (the engine under `Server.from_openapi`)."""

from __future__ import annotations

from mcpkit.openapi.components import ComponentFn, OpenApiComponent
from mcpkit.openapi.exceptions import (
    OpenApiArgumentError,
    OpenApiError,
    OpenApiRequestError,
    OpenApiSpecError,
    OpenApiStatusError,
)
from mcpkit.openapi.load import SpecSource, check_spec, load_spec, read_spec
from mcpkit.openapi.operations import Operation
from mcpkit.openapi.requests import OpenApiResult
from mcpkit.openapi.route_maps import RouteKind, RouteMap, RouteMapFn
from mcpkit.openapi.routes import OpenApiRoute, build_routes

__all__ = [
    "ComponentFn",
    "OpenApiArgumentError",
    "OpenApiComponent",
    "OpenApiError",
    "OpenApiRequestError",
    "OpenApiResult",
    "OpenApiRoute",
    "OpenApiSpecError",
    "OpenApiStatusError",
    "Operation",
    "RouteKind",
    "RouteMap",
    "RouteMapFn",
    "SpecSource",
    "build_routes",
    "check_spec",
    "load_spec",
    "read_spec",
]
