"""The token endpoint call (RFC 6749 section 3.2): client authentication strategies, extra
request steps, grants with `resource`, refusals and hostile answers; and PKCE (RFC 7636)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import msgspec
import pytest

from mcpkit.auth.client.pkce import Pkce, require_s256, s256
from mcpkit.auth.client.token import (
    ClientSecretBasic,
    ClientSecretPost,
    NoClientAuthentication,
    TokenRequest,
    client_authentication_for,
    client_credentials_grant,
    refresh_token_grant,
    request_token,
)
from mcpkit.auth.metadata import AuthorizationServerMetadata, ClientInformation
from mcpkit.errors import AuthorizationFailed

ENDPOINT = "https://auth.example.com/token"


class Endpoint:
    def __init__(self, status: int = 200, body: bytes | None = None) -> None:
        self.status = status
        self.body = body or b'{"access_token": "at", "token_type": "bearer", "expires_in": 60}'
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[-1].content.decode()).items()}


async def call(endpoint: Endpoint, auth: object, **kwargs: object) -> object:
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        grant = refresh_token_grant("rt", resource="https://mcp.example.com/mcp")
        return await request_token(http, ENDPOINT, grant, auth, **kwargs)  # type: ignore[arg-type]


async def test_a_public_client_names_itself_in_the_form() -> None:
    endpoint = Endpoint()
    token = await call(endpoint, NoClientAuthentication("cid"))
    assert endpoint.form() == {
        "grant_type": "refresh_token",
        "refresh_token": "rt",
        "resource": "https://mcp.example.com/mcp",
        "client_id": "cid",
    }
    assert "authorization" not in endpoint.requests[0].headers
    assert token.access_token == "at"  # type: ignore[attr-defined]


async def test_client_secret_basic_url_encodes_id_and_secret() -> None:
    endpoint = Endpoint()
    await call(endpoint, ClientSecretBasic("my id", "s:e/c%"))
    header = endpoint.requests[0].headers["authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")) == b"my%20id:s%3Ae%2Fc%25"
    assert "client_secret" not in endpoint.form()


async def test_client_secret_post_puts_both_in_the_form() -> None:
    endpoint = Endpoint()
    await call(endpoint, ClientSecretPost("cid", "secret"))
    form = endpoint.form()
    assert (form["client_id"], form["client_secret"]) == ("cid", "secret")


async def test_further_steps_shape_the_request_after_client_authentication() -> None:
    class Proof:
        async def apply(self, request: TokenRequest) -> None:
            assert request.form["client_id"] == "cid"
            request.headers["dpop"] = "proof"

    endpoint = Endpoint()
    await call(endpoint, NoClientAuthentication("cid"), steps=[Proof()])
    assert endpoint.requests[0].headers["dpop"] == "proof"


def test_the_strategy_follows_the_registered_method() -> None:
    def pick(**kw: object) -> object:
        return client_authentication_for(ClientInformation(client_id="c", **kw))  # type: ignore[arg-type]

    assert isinstance(pick(), NoClientAuthentication)
    assert isinstance(pick(client_secret="s"), ClientSecretBasic)
    assert isinstance(
        pick(client_secret="s", token_endpoint_auth_method="client_secret_post"), ClientSecretPost
    )
    with pytest.raises(AuthorizationFailed, match="no client_secret"):
        pick(token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(AuthorizationFailed, match="private_key_jwt"):
        pick(client_secret="s", token_endpoint_auth_method="private_key_jwt")


def test_secrets_stay_out_of_reprs() -> None:
    assert "hunter2" not in repr(ClientSecretBasic("c", "hunter2"))
    assert "hunter2" not in repr(ClientSecretPost("c", "hunter2"))


async def test_an_oauth_error_names_the_servers_error() -> None:
    endpoint = Endpoint(400, b'{"error": "invalid_grant", "error_description": "expired"}')
    with pytest.raises(AuthorizationFailed, match="expired") as caught:
        await call(endpoint, NoClientAuthentication("cid"))
    assert (caught.value.error, caught.value.status) == ("invalid_grant", 400)


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (500, b"<html>oops</html>", "without an OAuth error body"),
        (200, b'{"token_type": "bearer"}', "no valid token"),
        (200, b'{"access_token": "a", "token_type": "mac"}', "'mac' token"),
        (200, b"{" * (512 * 1024), "over the limit"),
        # Issue 19: a non-ASCII token raised in a background task, then a 30 s hang.
        (200, '{"access_token": "tök", "token_type": "bearer"}'.encode(), "bearer token cannot"),
        (200, b'{"access_token": "a b", "token_type": "bearer"}', "bearer token cannot"),
        (
            200,
            '{"access_token": "a", "token_type": "bearer", "refresh_token": "r\u00e9"}'.encode(),
            "refresh token with characters",
        ),
    ],
)
async def test_hostile_answers_are_refused(status: int, body: bytes, match: str) -> None:
    with pytest.raises(AuthorizationFailed, match=match):
        await call(Endpoint(status, body), NoClientAuthentication("cid"))


@pytest.mark.parametrize("expires_in", [-3600, 0])
async def test_a_nonsense_lifetime_is_taken_as_unknown(expires_in: int) -> None:
    # Issue 19: a negative expires_in made the client refresh before every request.
    body = msgspec.json.encode(
        {"access_token": "a", "token_type": "bearer", "expires_in": expires_in}
    )
    token = await call(Endpoint(200, body), NoClientAuthentication("cid"))
    assert token.access_token == "a" and token.expires_in is None


async def test_a_plain_http_token_endpoint_is_refused_off_loopback() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(Endpoint())) as http:
        with pytest.raises(AuthorizationFailed, match="HTTPS"):
            await request_token(
                http,
                "http://auth.example.com/token",
                client_credentials_grant(resource="r"),
                NoClientAuthentication("c"),
            )
        await request_token(
            http,
            "http://127.0.0.1:9/token",
            client_credentials_grant(resource="r", scope="a b"),
            NoClientAuthentication("c"),
        )


def test_pkce_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_verifiers_are_long_random_and_unreserved() -> None:
    made = {Pkce.new().verifier for _ in range(50)}
    assert len(made) == 50
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    for verifier in made:
        assert 43 <= len(verifier) <= 128 and set(verifier) <= allowed
    pkce = Pkce.new()
    assert pkce.method == "S256" and pkce.challenge == s256(pkce.verifier)


@pytest.mark.parametrize("methods", [None, [], ["plain"]])
def test_an_authorization_server_without_s256_is_refused(methods: list[str] | None) -> None:
    metadata = AuthorizationServerMetadata(
        issuer="https://a", code_challenge_methods_supported=methods
    )
    with pytest.raises(AuthorizationFailed, match="S256"):
        require_s256(metadata)
    require_s256(
        AuthorizationServerMetadata(
            issuer="https://a", code_challenge_methods_supported=["plain", "S256"]
        )
    )
