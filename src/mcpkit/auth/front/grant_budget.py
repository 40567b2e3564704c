"""The budget of grants each user at the provider holds (`FrontSettings.max_grants_per_user`,
`max_bytes_per_user`): counted per user, never per client address (behind a proxy or a NAT
one address is everyone), and never a lockout: a new sign-in past it ends that user's oldest
grant. Checked and made room for before a code is claimed, so that no refusal spends one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.front.state import FrontState, Grant, UserGrants

__all__ = ["GrantBudget"]

#: How many of a user's oldest grants a write that does not fit may end before it gives up
#: (only a grant larger than the whole budget by itself is then refused).
_MAX_EVICTIONS = 8


class GrantBudget:
    """Places grants in the store within their user's budget."""

    def __init__(
        self,
        state: FrontState,
        max_grants: int,
        ttl: float,
        end: Callable[[str], Awaitable[None]],
    ) -> None:
        self._state = state
        self._max = max_grants
        self._ttl = ttl
        self._end = end  # revokes a grant (at the provider too)

    async def place(self, grant: Grant) -> str:
        """Write the new `grant` and return its handle, after ending the user's oldest grants
        beyond `max_grants_per_user`."""
        source = self._state.user_source(grant.subject)
        handle = self._state.new_handle(source)
        index = await self._index(source)
        live = await self._live(index.handles)
        while len(live) >= self._max:
            await self._evict(live.pop(0))
        index.handles = live
        await self.write(handle, grant, index)
        return handle

    async def write(self, handle: str, grant: Grant, index: UserGrants | None = None) -> None:
        """Write `grant` under `handle` (kept in its user's index, whose time is renewed with
        it), ending the user's oldest other grants while it does not fit within
        `max_bytes_per_user`; refused (429) only when it cannot fit alone."""
        source = self._state.user_source(grant.subject)
        index = index or await self._index(source)
        if handle not in index.handles:
            index.handles.append(handle)
        await self._save_index(source, index)
        for _ in range(_MAX_EVICTIONS):
            if await self._state.fits("grant", handle, grant, self._ttl):
                return
            others = [h for h in await self._live(index.handles) if h != handle]
            if not others:
                break
            await self._evict(others[0])
            index.handles.remove(others[0])
            await self._save_index(source, index)
        await self._state.put("grant", handle, grant, self._ttl)  # its refusal names the setting

    async def forget(self, handle: str) -> None:
        """Drop a grant written by `place` that was never given out (its code went to another
        request)."""
        await self._state.delete("grant", handle)

    async def _evict(self, handle: str) -> None:
        await self._end(handle)
        await self._state.delete("grant", handle)  # its revocation mark stays: `_save`

    async def _live(self, handles: list[str]) -> list[str]:
        """`handles` whose grant is still in force (revoked or expired ones leave the index,
        and a revoked one's record the store)."""
        live: list[str] = []
        for handle in handles:
            grant = await self._state.get("grant", handle, Grant)
            if grant is not None and not grant.revoked:
                live.append(handle)
            elif grant is not None:
                await self._state.delete("grant", handle)
        return live

    async def _index(self, source: str) -> UserGrants:
        found = await self._state.get("user", self._index_handle(source), UserGrants)
        return found or UserGrants()

    async def _save_index(self, source: str, index: UserGrants) -> None:
        try:
            await self._state.put("user", self._index_handle(source), index, self._ttl)
        except Refused as refused:  # (past its bytes only when handles are oversized)
            raise Refused("temporarily_unavailable", refused.description, status=503) from None

    def _index_handle(self, source: str) -> str:
        return f"{self._state.source_tag(source)}.grants"
