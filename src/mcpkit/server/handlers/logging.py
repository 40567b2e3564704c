"""Handler for logging/setLevel (spec: server/utilities/logging).

Only sessions of 2025-11-25 and before have it (`handlers.HANDLERS` routes no modern
handler): 2026-07-28 requests carry their wanted level in their own `_meta`, so there is no
session-wide level to set."""

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
    """Set the lowest level of notifications/message this session is sent. The level is
    kept on the session, not the server: each client chooses its own verbosity."""
    session = ctx.session
    assert isinstance(session, ServerSessionHandle)  # (a 2025-era method: a session's)
    session.log_level = params.level
    return EmptyResult()
