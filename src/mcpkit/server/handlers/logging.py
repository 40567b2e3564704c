"""Handler for logging/setLevel (spec: server/utilities/logging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.types import EmptyResult, SetLevelRequestParams

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["set_level"]


async def set_level(
    server: FeatureServer, ctx: Context, params: SetLevelRequestParams
) -> EmptyResult:
    ctx.session.log_level = params.level
    return EmptyResult()
