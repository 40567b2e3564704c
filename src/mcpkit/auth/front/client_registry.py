"""The MCP clients the front knows: registered ones (RFC 7591, checked as the development
server checks them, kept in the server's store) and client ID metadata documents (fetched,
checked and cached as the development server does)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.devserver.cimd import is_metadata_url
from mcpkit.auth.devserver.clients import Clients
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.front.state import FrontState
from mcpkit.auth.metadata import ClientInformation

__all__ = ["StoredClients"]

logger = logging.getLogger("mcpkit.auth.front")


class StoredClients(Clients):
    """`Clients` whose registrations live in the front's store, so that every worker finds
    them; lookup, authentication and validation are the development server's."""

    def __init__(
        self,
        policy: DevServerSettings,
        clock: Callable[[], float],
        state: FrontState,
        ttl: float,
        unused_ttl: float,
    ) -> None:
        super().__init__(policy, clock)
        self._state = state
        self._ttl = ttl
        self._unused_ttl = min(unused_ttl, ttl)

    async def find(self, client_id: str) -> ClientInformation | None:
        if is_metadata_url(client_id):
            return await self.documents.get(client_id)
        found = await self._state.get("client.kept", client_id, ClientInformation)
        return found or await self._state.get("client", client_id, ClientInformation)

    async def register_stored(self, body: bytes, source: str) -> ClientInformation:
        """RFC 7591 section 3: the new client, kept `unused_client_ttl` until it gets
        tokens (`keep`)."""
        client = self.new_client(body, prefix=self._state.source_tag(source) + ".")
        await self._state.put("client", client.client_id, client, self._unused_ttl)
        return client

    async def keep(self, client: ClientInformation) -> None:
        """`client` got tokens: keep its registration `client_ttl` from now, apart from the
        registrations not used yet (a metadata document client has none). Its tokens are
        issued already, so a store that refuses is logged, not answered."""
        if is_metadata_url(client.client_id):
            return
        # Moved out of the pool of new registrations: one in use is not unfinished work that
        # a flood of registrations may push out.
        try:
            await self._state.put("client.kept", client.client_id, client, self._ttl)
        except Refused as refused:
            logger.warning("client %s kept as it was: %s", client.client_id, refused.description)
            return
        await self._state.delete("client", client.client_id)
