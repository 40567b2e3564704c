"""Handlers for the skills extension's methods (SEP-2640): skills/list, skills/get and
resources/directory/read, answered from the server's `Skills` (`mcpkit.server.catalog.skills`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.pagination import paginate
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.types.methods import MODERN_REVISIONS
from mcpkit.types.skills import (
    GetSkillRequestParams,
    GetSkillResult,
    ListSkillsRequestParams,
    ListSkillsResult,
    ReadResourceDirectoryRequestParams,
    ReadResourceDirectoryResult,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["get_skill", "list_skills", "read_directory"]


def _cache_hints(ctx: Context, method: str) -> dict[str, Any]:
    """ttlMs and cacheScope, which 2026-07-28 requires of these results (CacheableResult)."""
    if ctx.protocol_version not in MODERN_REVISIONS:
        return {}
    ttl, scope = ctx.session.cache.for_method(method)
    return {"ttl_ms": ttl, "cache_scope": scope}


async def list_skills(
    server: FeatureServer, ctx: Context, params: ListSkillsRequestParams
) -> ListSkillsResult:
    page, cursor = paginate(list(server.skills), params.cursor, server.page_size)
    return ListSkillsResult(
        skills=[spec.entry for spec in page],
        next_cursor=cursor,
        **_cache_hints(ctx, "skills/list"),
    )


async def get_skill(
    server: FeatureServer, ctx: Context, params: GetSkillRequestParams
) -> GetSkillResult:
    spec = server.skills.get(params.uri)
    if spec is None:
        # SEP-2640, Error Handling: an unknown skill is -32602, as resources/read answers.
        raise McpError(
            codes.INVALID_PARAMS, f"No skill is served at {params.uri}", {"uri": params.uri}
        )
    return GetSkillResult(skill=spec.entry, **_cache_hints(ctx, "skills/get"))


async def read_directory(
    server: FeatureServer, ctx: Context, params: ReadResourceDirectoryRequestParams
) -> ReadResourceDirectoryResult:
    children = server.skills.directory(params.uri)
    if children is None:
        raise McpError(
            codes.INVALID_PARAMS,
            f"{params.uri} is not a directory resource of this server",
            {"uri": params.uri},
        )
    page, cursor = paginate(children, params.cursor, server.page_size)
    return ReadResourceDirectoryResult(resources=page, next_cursor=cursor)
