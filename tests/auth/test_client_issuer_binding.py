"""Client credentials belong to the authorization server that issued them (spec:
basic/authorization, "Authorization Server Binding", SEP-2352): registrations are stored
under the issuer, used with no other server, and the client registers anew when the MCP
server's authorization server changes; registrations stored under the server's URL by earlier
versions move to their issuer's key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from _client_world import ISSUER, MCP, World

from mcpkit.auth.client import FileTokenStorage, HeadlessRedirect, MemoryTokenStorage, OAuth
from mcpkit.auth.client.storage import (
    StoredClient,
    StoredTokens,
    TokenStorage,
    load_issuer_client,
)
from mcpkit.auth.metadata import ClientInformation
from mcpkit.errors import AuthorizationFailed

NEW_ISSUER = "https://auth2.example.com"
REDIRECT = "http://127.0.0.1/callback"


class Migration:
    """One MCP server whose protected resource metadata names the old authorization server
    until `moved`, then the new one; each authorization server keeps its own clients and
    tokens, and the MCP server accepts only the current one's tokens."""

    def __init__(self) -> None:
        self.old = World(issuer=ISSUER)
        self.new = World(issuer=NEW_ISSUER)
        self.new.clients["someone-else"] = {}  # so that its client ids differ from the old's
        self.moved = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == httpx.URL(ISSUER).host:
            return self.old(request)
        if request.url.host == httpx.URL(NEW_ISSUER).host:
            return self.new(request)
        return (self.new if self.moved else self.old)(request)

    def client(self, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self), auth=auth)

    def oauth(self, storage: TokenStorage, **options: object) -> OAuth:
        http = self.client()
        redirect = HeadlessRedirect(http_client=http)
        return OAuth(redirect, http_client=http, storage=storage, **options)  # type: ignore[arg-type]  # test options


def client_ids(world: World, endpoint: str) -> list[str]:
    ids: list[str] = []
    for request in world.requests_to(f"{world.issuer}/{endpoint}"):
        params = (
            request.url.params
            if endpoint == "authorize"
            else httpx.QueryParams(request.content.decode())
        )
        ids.append(params["client_id"])
    return ids


@pytest.mark.parametrize("kind", ["memory", "file"])
async def test_a_new_authorization_server_means_a_new_registration(
    kind: str, tmp_path: Path
) -> None:
    servers = Migration()
    storage: TokenStorage = MemoryTokenStorage() if kind == "memory" else FileTokenStorage(tmp_path)
    async with servers.client(servers.oauth(storage)) as client:
        assert (await client.get(MCP)).status_code == 200
        servers.moved = True
        assert (await client.get(MCP)).status_code == 200
    (old_id,) = servers.old.clients
    assert len(servers.new.requests_to(f"{NEW_ISSUER}/register")) == 1
    (new_id,) = [cid for cid in servers.new.clients if cid != "someone-else"]
    # The old server's client id never reaches the new server, at either endpoint.
    assert old_id != new_id
    assert client_ids(servers.new, "authorize") == [new_id]
    assert client_ids(servers.new, "token") == [new_id]
    # Each registration is kept under its own issuer; the tokens are the new server's.
    old = await storage.load_client(ISSUER)
    new = await storage.load_client(NEW_ISSUER)
    assert old is not None and old.issuer == ISSUER and old.information.client_id == old_id
    assert new is not None and new.issuer == NEW_ISSUER and new.information.client_id == new_id
    tokens = await storage.load_tokens(MCP)
    assert tokens is not None and tokens.issuer == NEW_ISSUER


async def test_after_a_restart_each_issuer_gets_its_own_registration_back(tmp_path: Path) -> None:
    servers = Migration()
    storage = FileTokenStorage(tmp_path)
    for moved in (False, True, False):  # the old server, the new one, and back
        servers.moved = moved
        await storage.save_tokens(MCP, None)  # a restart that lost the tokens
        async with servers.client(servers.oauth(storage)) as client:
            assert (await client.get(MCP)).status_code == 200
    assert len(servers.old.requests_to(f"{ISSUER}/register")) == 1
    assert len(servers.new.requests_to(f"{NEW_ISSUER}/register")) == 1
    (old_id,) = servers.old.clients
    assert client_ids(servers.old, "authorize") == [old_id, old_id]


async def test_a_refresh_uses_only_the_registration_at_the_tokens_issuer() -> None:
    servers = Migration()
    storage = MemoryTokenStorage()
    async with servers.client(servers.oauth(storage)) as client:
        assert (await client.get(MCP)).status_code == 200
    tokens = await storage.load_tokens(MCP)
    assert tokens is not None
    await storage.save_client(ISSUER, None)  # no registration left at the tokens' issuer
    other = ClientInformation(client_id="elsewhere", redirect_uris=[REDIRECT])
    await storage.save_client(NEW_ISSUER, StoredClient(issuer=NEW_ISSUER, information=other))
    servers.old.tokens.clear()  # the access token is refused: a refresh would be next
    async with servers.client(servers.oauth(storage)) as client:
        assert (await client.get(MCP)).status_code == 200
    forms = [r.content.decode() for r in servers.old.requests_to(f"{ISSUER}/token")]
    assert not any("refresh_token" in form for form in forms)  # a new flow instead
    assert all("elsewhere" not in form for form in forms)
    assert servers.new.seen == []


async def test_pre_registered_credentials_are_not_sent_to_another_authorization_server() -> None:
    servers = Migration()
    given = ClientInformation(client_id="pre", client_secret="s")
    auth = servers.oauth(MemoryTokenStorage(), client=given)
    async with servers.client(auth) as client:
        assert (await client.get(MCP)).status_code == 200
        assert auth.client_issuer == ISSUER  # learned where they worked
        servers.moved = True
        with pytest.raises(AuthorizationFailed, match="client_issuer") as caught:
            await client.get(MCP)
    assert caught.value.error == "invalid_client"
    assert client_ids(servers.new, "authorize") == [] and client_ids(servers.new, "token") == []


async def test_pre_registered_credentials_for_a_named_issuer_only() -> None:
    servers = Migration()
    given = ClientInformation(client_id="pre", client_secret="s")
    auth = servers.oauth(MemoryTokenStorage(), client=given, client_issuer=NEW_ISSUER)
    async with servers.client(auth) as client:
        with pytest.raises(AuthorizationFailed, match=NEW_ISSUER):
            await client.get(MCP)
    assert servers.old.requests_to(f"{ISSUER}/authorize") == []


# ------------------------------------------------------- the stored data of earlier versions


def registration(issuer: str, client_id: str = "kept") -> StoredClient:
    info = ClientInformation(client_id=client_id, redirect_uris=[REDIRECT])
    return StoredClient(issuer=issuer, information=info)


async def test_a_registration_stored_under_the_server_moves_to_its_issuer(tmp_path: Path) -> None:
    world = World()
    storage = FileTokenStorage(tmp_path)
    await storage.save_client(MCP, registration(ISSUER))  # how earlier versions kept it
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, storage=storage)
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as client:
        assert (await client.get(MCP)).status_code == 200
    assert world.requests_to(f"{ISSUER}/register") == []  # the old registration was used
    assert client_ids(world, "authorize") == ["kept"]
    assert await storage.load_client(ISSUER) == registration(ISSUER)
    assert await storage.load_client(MCP) is None


async def test_a_refresh_finds_a_registration_stored_the_old_way(tmp_path: Path) -> None:
    world = World()
    storage = FileTokenStorage(tmp_path)
    http = httpx.AsyncClient(transport=httpx.MockTransport(world))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, storage=storage)
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=auth) as client:
        assert (await client.get(MCP)).status_code == 200
    kept = await storage.load_client(ISSUER)
    assert kept is not None
    await storage.save_client(ISSUER, None)
    await storage.save_client(MCP, kept)  # as an earlier version would have left the files
    world.tokens.clear()
    again = OAuth(HeadlessRedirect(http_client=http), http_client=http, storage=storage)
    async with httpx.AsyncClient(transport=httpx.MockTransport(world), auth=again) as client:
        assert (await client.get(MCP)).status_code == 200
    last = world.requests_to(f"{ISSUER}/token")[-1].content.decode()
    assert "grant_type=refresh_token" in last
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1


async def test_an_old_registration_from_another_issuer_moves_but_is_not_used() -> None:
    storage = MemoryTokenStorage()
    await storage.save_client(MCP, registration(NEW_ISSUER))
    assert await load_issuer_client(storage, ISSUER, legacy_key=MCP) is None
    assert await storage.load_client(NEW_ISSUER) == registration(NEW_ISSUER)
    assert await storage.load_client(MCP) is None


async def test_a_registration_already_under_its_issuer_is_left_alone() -> None:
    # An issuer's URL may also be an MCP server's: its entry is the new format, not an old one.
    storage = MemoryTokenStorage()
    await storage.save_client(NEW_ISSUER, registration(NEW_ISSUER))
    assert await load_issuer_client(storage, ISSUER, legacy_key=NEW_ISSUER) is None
    assert await storage.load_client(NEW_ISSUER) == registration(NEW_ISSUER)


async def test_a_registration_at_another_issuer_is_never_returned() -> None:
    storage = MemoryTokenStorage()
    await storage.save_client(ISSUER, registration(NEW_ISSUER))  # filed under the wrong key
    assert await load_issuer_client(storage, ISSUER) is None


async def test_the_newer_registration_wins_over_an_old_one() -> None:
    storage = MemoryTokenStorage()
    await storage.save_client(ISSUER, registration(ISSUER, "newer"))
    await storage.save_client(MCP, registration(ISSUER, "older"))
    found = await load_issuer_client(storage, ISSUER, legacy_key=MCP)
    assert found is not None and found.information.client_id == "newer"


def test_a_storage_with_its_own_parameter_names_still_fits() -> None:
    class Keyring:
        async def load_tokens(self, key: str) -> StoredTokens | None:
            return None

        async def save_tokens(self, key: str, tokens: StoredTokens | None) -> None:
            return None

        async def load_client(self, key: str) -> StoredClient | None:
            return None

        async def save_client(self, key: str, client: StoredClient | None) -> None:
            return None

    storage: TokenStorage = Keyring()  # the type checkers accept it: positional parameters
    assert isinstance(storage, TokenStorage)
