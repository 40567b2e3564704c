"""Choosing the client registration (spec: basic/authorization, "Client Registration
Approaches"): pre-registered, then a client ID metadata document, then dynamic registration."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from _client_world import ISSUER, MCP, World, mock_client

from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.client.registration import (
    application_type_for,
    check_client_id_metadata_url,
    choose_client,
)
from mcpkit.auth.client.storage import StoredClient
from mcpkit.auth.metadata import AuthorizationServerMetadata, ClientInformation, ClientMetadata
from mcpkit.errors import AuthorizationFailed

CIMD = "https://app.example.com/oauth/client.json"
REDIRECT = "http://127.0.0.1/callback"


def metadata(**extra: object) -> AuthorizationServerMetadata:
    return AuthorizationServerMetadata(
        issuer=ISSUER,
        registration_endpoint=f"{ISSUER}/register",
        **extra,  # type: ignore[arg-type]
    )


async def choose(
    world: World, meta: AuthorizationServerMetadata, **kw: object
) -> tuple[ClientInformation, bool]:
    async with mock_client(world) as http:
        return await choose_client(
            http,
            meta,
            redirect_uri=REDIRECT,
            client_metadata=ClientMetadata(client_name="t"),
            **kw,  # type: ignore[arg-type]
        )


async def test_pre_registered_credentials_come_first() -> None:
    world = World()
    given = ClientInformation(client_id="pre", client_secret="s")
    chosen = await choose(
        world,
        metadata(client_id_metadata_document_supported=True),
        pre_registered=given,
        client_id_metadata_url=CIMD,
    )
    assert chosen == (given, False) and world.seen == []


async def test_a_client_id_metadata_document_when_the_server_supports_them() -> None:
    world = World()
    chosen, new = await choose(
        world, metadata(client_id_metadata_document_supported=True), client_id_metadata_url=CIMD
    )
    assert chosen.client_id == CIMD and not new and world.seen == []


async def test_dynamic_registration_when_the_server_does_not_support_them() -> None:
    world = World()
    chosen, new = await choose(world, metadata(), client_id_metadata_url=CIMD)
    assert new and chosen.client_id == "client-1"
    sent = msgspec.json.decode(world.seen[0].content)
    assert sent["redirect_uris"] == [REDIRECT] and sent["token_endpoint_auth_method"] == "none"
    assert sent["grant_types"] == ["authorization_code", "refresh_token"]
    assert sent["client_name"] == "t"


async def test_a_stored_registration_is_reused_only_when_it_still_fits() -> None:
    world = World()
    info = ClientInformation(client_id="old", redirect_uris=[REDIRECT])
    fits = StoredClient(issuer=ISSUER, information=info)
    assert await choose(world, metadata(), stored=fits) == (info, False)
    other_port = StoredClient(
        issuer=ISSUER,
        information=ClientInformation(client_id="old", redirect_uris=["http://127.0.0.1:1/cb"]),
    )
    other_issuer = StoredClient(issuer="https://other.example.com", information=info)
    expired = StoredClient(
        issuer=ISSUER,
        information=ClientInformation(
            client_id="old", redirect_uris=[REDIRECT], client_secret="s", client_secret_expires_at=1
        ),
    )
    for stale in (other_port, other_issuer, expired):
        chosen, new = await choose(world, metadata(), stored=stale)
        assert new and chosen.client_id != "old"


async def test_no_way_to_register_says_how_to_give_credentials() -> None:
    meta = AuthorizationServerMetadata(issuer=ISSUER)
    with pytest.raises(AuthorizationFailed, match="ClientInformation"):
        await choose(World(), meta)


async def test_a_refused_registration_names_the_servers_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "invalid_redirect_uri", "error_description": "no loopback"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(AuthorizationFailed, match="no loopback") as caught:
            await choose_client(
                http, metadata(), redirect_uri=REDIRECT, client_metadata=ClientMetadata()
            )
    assert caught.value.error == "invalid_redirect_uri"
    # SEP-837: a meaningful error says what was registered and what to change.
    assert "application_type 'native'" in caught.value.description
    assert REDIRECT in caught.value.description


@pytest.mark.parametrize(
    ("uris", "kind"),
    [
        (["http://127.0.0.1:8123/callback"], "native"),
        (["http://localhost/callback"], "native"),
        (["http://[::1]:9000/cb"], "native"),
        (["https://localhost:8443/cb"], "native"),  # a web app served on this machine
        (["com.example.app:/oauth2redirect"], "native"),  # private-use scheme (RFC 8252)
        (["https://app.example.com/callback"], "web"),
        (["http://127.0.0.1/cb", "https://app.example.com/cb"], "web"),
    ],
)
def test_the_application_type_follows_the_redirect_uris(uris: list[str], kind: str) -> None:
    assert application_type_for(uris) == kind


async def test_dynamic_registration_sends_an_application_type() -> None:
    world = World()
    await choose(world, metadata())
    sent = msgspec.json.decode(world.seen[0].content)
    assert sent["application_type"] == "native"  # a loopback redirect URI


async def test_an_application_type_the_app_gives_is_kept() -> None:
    world = World()
    async with mock_client(world) as http:
        await choose_client(
            http,
            metadata(),
            redirect_uri="https://app.example.com/callback",
            client_metadata=ClientMetadata(client_name="t", application_type="native"),
        )
    assert msgspec.json.decode(world.seen[0].content)["application_type"] == "native"


async def test_a_web_redirect_uri_registers_a_web_client() -> None:
    world = World()
    async with mock_client(world) as http:
        chosen, _ = await choose_client(
            http,
            metadata(),
            redirect_uri="https://app.example.com/callback",
            client_metadata=ClientMetadata(client_name="t"),
        )
    assert msgspec.json.decode(world.seen[0].content)["application_type"] == "web"
    assert chosen.application_type == "web"  # echoed back, kept with the registration


@pytest.mark.parametrize(
    "url", ["http://app.example.com/c.json", "https://app.example.com", "https://app.example.com/"]
)
def test_a_client_id_metadata_url_must_be_https_with_a_path(url: str) -> None:
    with pytest.raises(ValueError, match="https URL with a path"):
        check_client_id_metadata_url(url)
    with pytest.raises(ValueError):
        OAuth(client_id_metadata_url=url)


async def test_the_flow_uses_the_metadata_document_url_as_client_id() -> None:
    world = World(metadata_extra={"client_id_metadata_document_supported": True})
    http = mock_client(world)
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, client_id_metadata_url=CIMD)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
    assert world.requests_to(f"{ISSUER}/register") == []
    assert world.requests_to(f"{ISSUER}/authorize")[0].url.params["client_id"] == CIMD


async def test_a_pre_registered_confidential_client_authenticates_at_the_token_endpoint() -> None:
    world = World()
    http = mock_client(world)
    client_info = ClientInformation(
        client_id="pre", client_secret="s3cret", token_endpoint_auth_method="client_secret_post"
    )
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, client=client_info)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
    assert world.requests_to(f"{ISSUER}/register") == []
    assert "client_secret=s3cret" in world.requests_to(f"{ISSUER}/token")[0].content.decode()
