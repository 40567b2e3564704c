"""Handler for logging/setLevel (spec: server/utilities/logging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.session import ServerSessionHandle
from mcpkit.types import EmptyResult, SetLevelRequestParams

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["set_level"]


async def set_level(
    server: FeatureServer, ctx: Context, params: SetLevelRequestParams
) -> EmptyResult:
    session = ctx.session
    assert isinstance(session, ServerSessionHandle)  # (a 2025-era method: a session's)
    session.log_level = params.level
    return EmptyResult()
