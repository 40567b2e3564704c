"""Discovery (spec: basic/authorization, "Authorization Server Discovery"): where the client
looks and in which order, the resource and issuer checks, the 2025-03-26 fallbacks, the
`WWW-Authenticate` parser and the scope selection strategy."""

from __future__ import annotations

import gzip
import tracemalloc
from typing import Any

import httpx
import msgspec
import pytest
from _devserver_helpers import serving

from mcpkit.auth.client._calls import get_document
from mcpkit.auth.client.challenge import Challenge, bearer_challenge, parse_challenges
from mcpkit.auth.client.discovery import (
    authorization_server_metadata_urls,
    discover,
    discover_resource,
    resource_metadata_urls,
)
from mcpkit.auth.client.flow import select_scope
from mcpkit.auth.metadata import ProtectedResourceMetadata
from mcpkit.errors import AuthorizationFailed

SERVER = "https://mcp.example.com/public/mcp"
AS = "https://auth.example.com"


class Site:
    """Serves the given documents at their URLs; 404 elsewhere; records what was asked."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.asked.append(url)
        if url in self.documents:
            return httpx.Response(200, content=msgspec.json.encode(self.documents[url]))
        return httpx.Response(404)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def as_doc(issuer: str = AS) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "code_challenge_methods_supported": ["S256"],
    }


def test_the_challenges_resource_metadata_url_is_the_only_one_tried() -> None:
    challenge = Challenge("bearer", {"resource_metadata": "https://mcp.example.com/prm"})
    assert resource_metadata_urls(SERVER, challenge) == ["https://mcp.example.com/prm"]


def test_without_it_the_path_inserted_then_the_root_well_known_url() -> None:
    assert resource_metadata_urls(SERVER, Challenge("bearer")) == [
        "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://mcp.example.com/.well-known/oauth-protected-resource",
    ]
    assert resource_metadata_urls("https://mcp.example.com", None) == [
        "https://mcp.example.com/.well-known/oauth-protected-resource"
    ]


def test_authorization_server_metadata_urls_follow_the_spec_order() -> None:
    assert authorization_server_metadata_urls("https://auth.example.com/tenant1") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]
    assert authorization_server_metadata_urls("https://auth.example.com") == [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration",
    ]


async def test_every_url_is_tried_in_order_until_one_answers() -> None:
    issuer = "https://auth.example.com/tenant1"
    site = Site(
        {
            "https://mcp.example.com/.well-known/oauth-protected-resource": {
                "resource": "https://mcp.example.com",
                "authorization_servers": [issuer],
            },
            f"{issuer}/.well-known/openid-configuration": as_doc(issuer),
        }
    )
    async with site.client() as http:
        found = await discover(http, SERVER, None)
    assert site.asked == [
        "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://mcp.example.com/.well-known/oauth-protected-resource",
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]
    assert found.authorization_server.issuer == issuer
    assert found.resource == "https://mcp.example.com"  # the document's, verbatim


@pytest.mark.parametrize(
    "resource",
    [
        "https://evil.example.com/public/mcp",
        "https://mcp.example.com/other",
        "https://mcp.example.com/public/mcp2",
        "http://mcp.example.com/public/mcp",
    ],
)
async def test_metadata_for_another_resource_is_refused(resource: str) -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site({prm: {"resource": resource, "authorization_servers": [AS]}})
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="RFC 9728") as caught:
            await discover(http, SERVER, None)
    assert caught.value.error == "invalid_resource_metadata"


async def test_metadata_naming_no_authorization_server_is_refused() -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site({prm: {"resource": SERVER}})
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="authorization_servers"):
            await discover(http, SERVER, None)


async def test_an_issuer_mismatch_is_refused() -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site(
        {
            prm: {"resource": SERVER, "authorization_servers": [AS]},
            f"{AS}/.well-known/oauth-authorization-server": as_doc("https://evil.example.com"),
        }
    )
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="RFC 8414") as caught:
            await discover(http, SERVER, None)
    assert caught.value.error == "invalid_issuer"


@pytest.mark.parametrize("stated", [AS + "/", AS.upper(), AS.replace("https://", "https://www.")])
async def test_an_issuer_that_is_not_identical_is_refused(stated: str) -> None:
    # "MUST be identical" (spec: "Authorization Server Metadata Discovery"): that issuer is what
    # the authorization response's iss is compared with, character for character, later on.
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site(
        {
            prm: {"resource": SERVER, "authorization_servers": [AS]},
            f"{AS}/.well-known/oauth-authorization-server": as_doc(stated),
        }
    )
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="RFC 8414") as caught:
            await discover(http, SERVER, None)
    assert caught.value.error == "invalid_issuer"


async def test_an_authorization_server_without_metadata_is_refused_when_prm_names_it() -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site({prm: {"resource": SERVER, "authorization_servers": [AS]}})
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="publishes no metadata"):
            await discover(http, SERVER, None)


async def test_2025_03_26_no_resource_metadata_means_the_servers_origin_is_the_issuer() -> None:
    origin = "https://mcp.example.com"
    site = Site({f"{origin}/.well-known/oauth-authorization-server": as_doc(origin)})
    async with site.client() as http:
        found = await discover(http, SERVER, None)
    assert found.resource_metadata is None
    assert found.authorization_server.issuer == origin
    assert found.resource == SERVER


async def test_2025_03_26_no_metadata_at_all_means_the_default_endpoints() -> None:
    async with Site({}).client() as http:
        found = await discover(http, SERVER, None)
    metadata = found.authorization_server
    assert (metadata.authorization_endpoint, metadata.token_endpoint) == (
        "https://mcp.example.com/authorize",
        "https://mcp.example.com/token",
    )
    assert metadata.registration_endpoint == "https://mcp.example.com/register"


async def test_a_plain_http_authorization_server_is_refused_unless_on_loopback() -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
    site = Site({prm: {"resource": SERVER, "authorization_servers": ["http://auth.example.com"]}})
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="HTTPS"):
            await discover(http, SERVER, None)


async def test_a_huge_or_broken_document_is_refused_not_swallowed() -> None:
    prm = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"

    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" * (1024 * 1024))

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"resource": 5}')

    for handler, match in ((huge, "over the limit"), (broken, "not a valid")):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(AuthorizationFailed, match=match):
                await discover(http, SERVER, Challenge("bearer", {"resource_metadata": prm}))


PRM_PATH = "/.well-known/oauth-protected-resource/mcp"
BOMB = gzip.compress(b'{"resource": "' + b"x" * (16 * 1024 * 1024) + b'"}')  # 16 KiB


async def bomb_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BOMB})


async def test_a_compressed_document_is_never_inflated() -> None:
    # Issue 19: the protected resource metadata was inflated before the limit (+117 MB).
    async with serving(bomb_app) as base, httpx.AsyncClient() as http:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            with pytest.raises(AuthorizationFailed, match=r"compressed \(gzip\)"):
                await get_document(http, base + PRM_PATH, ProtectedResourceMetadata)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"


def test_challenges_are_parsed_with_quotes_commas_and_several_schemes() -> None:
    header = (
        'Basic realm="x, y", Bearer error="insufficient_scope", '
        'scope="files:read files:write", resource_metadata="https://a.example/prm",'
        ' error_description="needs \\"write\\""'
    )
    first, second = parse_challenges(header)
    assert first == Challenge("basic", {"realm": "x, y"})
    assert second.scheme == "bearer" and second.error == "insufficient_scope"
    assert second.scopes == ("files:read", "files:write")
    assert second.resource_metadata == "https://a.example/prm"
    assert second.params["error_description"] == 'needs "write"'


def test_a_bearer_challenge_is_found_among_header_lines() -> None:
    found = bearer_challenge(["Negotiate abc==", "bEaReR scope=a"])
    assert found is not None and found.scopes == ("a",)
    assert bearer_challenge(["Basic realm=x"]) is None
    assert bearer_challenge(["Bearer"]) == Challenge("bearer")


@pytest.mark.parametrize(
    "header",
    ['Bearer scope="unterminated', "Bearer ====", "\x00\x01", "Bearer " + "a=b, " * 10_000, ","],
)
def test_broken_headers_never_raise(header: str) -> None:
    parse_challenges(header)


def test_scope_selection_prefers_the_challenge_then_scopes_supported_then_none() -> None:
    prm = ProtectedResourceMetadata(resource=SERVER, scopes_supported=["a", "b"])
    assert select_scope(Challenge("bearer", {"scope": "c"}), prm) == "c"
    assert select_scope(Challenge("bearer"), prm) == "a b"
    assert select_scope(None, ProtectedResourceMetadata(resource=SERVER)) is None
    assert select_scope(None, None) is None


async def test_metadata_missing_where_the_challenge_says_is_refused_not_guessed() -> None:
    named = Challenge("bearer", {"resource_metadata": "https://mcp.example.com/prm"})
    site = Site({"https://mcp.example.com/.well-known/oauth-authorization-server": as_doc()})
    async with site.client() as http:
        with pytest.raises(AuthorizationFailed, match="which has none"):
            await discover(http, SERVER, named)
    assert site.asked == ["https://mcp.example.com/prm"]


async def test_a_resource_metadata_on_another_origin_is_ignored_for_the_well_known() -> None:
    # Issue 19: a challenge naming https://evil.example/prm had it fetched; the spec orders
    # the resource's own location, then the well-known one.
    seen: list[str] = []
    good = {"resource": SERVER, "authorization_servers": ["https://auth.example.com"]}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "evil.example":
            return httpx.Response(200, json={**good, "authorization_servers": ["https://x"]})
        if "oauth-protected-resource" in request.url.path:
            return httpx.Response(200, json=good)
        return httpx.Response(404)

    challenge = Challenge("bearer", {"resource_metadata": "https://evil.example/prm"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        found = await discover_resource(http, SERVER, challenge)
    assert found is not None and found.authorization_servers == ["https://auth.example.com"]
    assert all("evil.example" not in url for url in seen), seen
