"""Handlers for the skills extension's methods (SEP-2640): skills/list, skills/get and
resources/directory/read, answered from the server's `Skills` (`mcpkit.server.catalog.skills`).

A request reaches them only where the server serves skills: only then do its sessions know
the methods (`catalog.extension_methods`), so a client that never saw the extension declared
gets -32601 from the protocol, not an empty list from here. Lists are paged like the spec's
own lists (server/utilities/pagination)."""

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
    """ttlMs and cacheScope, which 2026-07-28 requires of these results (CacheableResult).

    Empty for an earlier revision, whose result types have no such fields: sending them
    would be unknown members a strict client may refuse. The values are the session's
    cache settings for `method`, as for the core lists."""
    if ctx.protocol_version not in MODERN_REVISIONS:
        return {}
    ttl, scope = ctx.session.cache.for_method(method)
    return {"ttl_ms": ttl, "cache_scope": scope}


async def list_skills(
    server: FeatureServer, ctx: Context, params: ListSkillsRequestParams
) -> ListSkillsResult:
    """skills/list: one page of the skills' entries, in the order they were added. The
    entries were made when each skill was added, from the bytes served, so a client that
    checks a file's digest against its entry finds them equal."""
    page, cursor = paginate(list(server.skills), params.cursor, server.page_size)
    return ListSkillsResult(
        skills=[spec.entry for spec in page],
        next_cursor=cursor,
        **_cache_hints(ctx, "skills/list"),
    )


async def get_skill(
    server: FeatureServer, ctx: Context, params: GetSkillRequestParams
) -> GetSkillResult:
    """skills/get: the entry of the skill at `params.uri`; -32602 naming the URI when no
    skill is served there."""
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
    """resources/directory/read: one page of the resources directly inside the directory
    `params.uri` (a skill's folder, or one within it); -32602 when the URI is not a
    directory this server serves, so a file's URI is refused too."""
    children = server.skills.directory(params.uri)
    if children is None:
        raise McpError(
            codes.INVALID_PARAMS,
            f"{params.uri} is not a directory resource of this server",
            {"uri": params.uri},
        )
    page, cursor = paginate(children, params.cursor, server.page_size)
    return ReadResourceDirectoryResult(resources=page, next_cursor=cursor)
