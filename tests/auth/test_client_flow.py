"""The OAuth httpx.Auth against a fake MCP server and authorization server (httpx.MockTransport):
the whole flow on 401, reuse, refresh before expiry and on 401, step-up on 403 (bounded), and
the checks that make it refuse: state, iss, PKCE S256 (spec: basic/authorization)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from _client_world import ISSUER, MCP, World, mock_client

from mcpkit.auth.client import AuthorizationResponse, HeadlessRedirect, LoopbackBrowser, OAuth
from mcpkit.auth.client.flow import check_response, with_offline_access
from mcpkit.auth.client.redirect import ClosingRedirect
from mcpkit.auth.client.storage import MemoryTokenStorage
from mcpkit.auth.metadata import AuthorizationServerMetadata, ClientMetadata
from mcpkit.errors import AuthorizationFailed


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_auth(world: World, **options: object) -> OAuth:
    http = mock_client(world)
    redirect = HeadlessRedirect(http_client=http)
    return OAuth(redirect, http_client=http, **options)  # type: ignore[arg-type]  # test options


async def test_the_whole_flow_runs_on_401_and_the_token_is_reused() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        first = await client.get(MCP)
        second = await client.post(MCP, content=b"{}")
    assert first.status_code == 200 and second.status_code == 200
    assert world.urls() == [
        MCP,
        world.prm_path,
        f"{ISSUER}/.well-known/oauth-authorization-server",
        f"{ISSUER}/register",
        f"{ISSUER}/authorize",
        f"{ISSUER}/token",
        MCP,
        MCP,
    ]
    authorize = world.requests_to(f"{ISSUER}/authorize")[0].url.params
    assert authorize["resource"] == MCP and authorize["scope"] == "mcp:read"
    assert authorize["code_challenge_method"] == "S256" and len(authorize["state"]) >= 32
    token_form = world.requests_to(f"{ISSUER}/token")[0].content.decode()
    assert "resource=https%3A%2F%2Fmcp.example.com%2Fmcp" in token_form
    assert "code_verifier=" in token_form
    sent = [r.headers.get("authorization") for r in world.requests_to(MCP)]
    assert sent[0] is None and sent[1] == sent[2] and sent[1] is not None
    assert sent[1].startswith("Bearer ")


async def test_tokens_go_to_the_mcp_servers_origin_only() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
        await client.get("https://elsewhere.example.net/mcp")
        await client.get("http://mcp.example.com/mcp")  # another scheme: another origin
    others = [r for r in world.seen if r.url.host != "mcp.example.com" or r.url.scheme != "https"]
    assert others and all("authorization" not in r.headers for r in others)


async def test_a_401_from_another_origin_starts_no_flow() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
        flows = len(world.requests_to(f"{ISSUER}/authorize"))
        stranger = await client.get("https://mcp.example.com.evil.test/mcp")
    assert stranger.status_code == 404
    assert len(world.requests_to(f"{ISSUER}/authorize")) == flows


async def test_tokens_are_refreshed_before_they_expire() -> None:
    world, clock = World(expires_in=100), Clock()
    auth = make_auth(world, clock=clock, refresh_margin=60)
    async with mock_client(world, auth) as client:
        await client.get(MCP)
        clock.now += 30  # 70 s left: more than the margin
        await client.get(MCP)
        assert len(world.requests_to(f"{ISSUER}/token")) == 1
        clock.now += 20  # 50 s left: refresh first
        assert (await client.get(MCP)).status_code == 200
    forms = [r.content.decode() for r in world.requests_to(f"{ISSUER}/token")]
    assert len(forms) == 2 and "grant_type=refresh_token" in forms[1]
    assert "resource=https%3A%2F%2Fmcp.example.com%2Fmcp" in forms[1]
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1


async def test_a_401_with_a_token_refreshes_it() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        await client.get(MCP)
        world.tokens.clear()  # the server forgot every access token
        assert (await client.get(MCP)).status_code == 200
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1
    assert "grant_type=refresh_token" in world.requests_to(f"{ISSUER}/token")[1].content.decode()


async def test_a_refused_refresh_runs_the_whole_flow_again() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        await client.get(MCP)
        world.tokens.clear()
        world.refresh_tokens.clear()
        assert (await client.get(MCP)).status_code == 200
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 2


async def test_a_token_refused_right_after_the_flow_fails_clearly() -> None:
    world = World(refuse_all=True)
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        with pytest.raises(AuthorizationFailed) as caught:
            await client.get(MCP)
    assert caught.value.error == "invalid_token" and caught.value.status == 401
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1


async def test_403_insufficient_scope_steps_up_with_the_union_of_scopes() -> None:
    world = World(needed_scope={"mcp:read", "files:write"}, step_up_scope="files:write")
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
    scopes = [r.url.params["scope"] for r in world.requests_to(f"{ISSUER}/authorize")]
    assert scopes == ["mcp:read", "mcp:read files:write"]


async def test_step_up_gives_up_after_max_step_ups() -> None:
    # The server asks for a scope, yet the request needs another it never names.
    world = World(needed_scope={"mcp:read", "admin"}, step_up_scope="files:write")
    auth = make_auth(world, max_step_ups=2)
    async with mock_client(world, auth) as client:
        with pytest.raises(AuthorizationFailed) as caught:
            await client.get(MCP)
    assert caught.value.error == "insufficient_scope" and caught.value.status == 403
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 3  # the first, then two step-ups


async def test_a_step_up_the_authorization_server_refuses_stops_at_once() -> None:
    """The server asks for `admin`, the authorization server grants the user everything but
    (scopes are roles): one step-up shows it, and a second sign-in would show it again."""
    world = World(needed_scope={"mcp:read", "admin"}, step_up_scope="admin", withheld={"admin"})
    auth = make_auth(world, max_step_ups=2)
    async with mock_client(world, auth) as client:
        with pytest.raises(AuthorizationFailed, match="did not grant it") as caught:
            await client.get(MCP)
    assert caught.value.error == "insufficient_scope" and caught.value.status == 403
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 2  # the first, one step-up


async def test_a_forged_state_is_refused() -> None:
    world = World(forged_state="someone-elses")
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="state") as caught:
            await client.get(MCP)
    assert caught.value.error == "invalid_state"
    assert world.requests_to(f"{ISSUER}/token") == []


async def test_an_iss_from_another_issuer_is_refused() -> None:
    world = World(forged_iss="https://evil.example.com")
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="mix-up") as caught:
            await client.get(MCP)
    assert caught.value.error == "invalid_issuer"
    assert world.requests_to(f"{ISSUER}/token") == []


async def test_a_missing_iss_is_refused_when_the_server_promised_one() -> None:
    world = World(
        send_iss=False, metadata_extra={"authorization_response_iss_parameter_supported": True}
    )
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="RFC 9207"):
            await client.get(MCP)


async def test_no_iss_is_fine_when_the_server_does_not_send_it() -> None:
    world = World(send_iss=False)
    async with mock_client(world, make_auth(world)) as client:
        assert (await client.get(MCP)).status_code == 200


# The spec's table ("Authorization Response Validation"): advertised, iss sent -> outcome.
ISS_TABLE = [
    (True, ISSUER, "code"),
    (True, None, "invalid_issuer"),
    (True, "https://evil.example.com", "invalid_issuer"),
    (False, ISSUER, "code"),  # sent before the metadata says so: compared all the same
    (False, "https://evil.example.com", "invalid_issuer"),
    (None, "https://evil.example.com", "invalid_issuer"),
    (False, None, "code"),
    (None, None, "code"),
]


@pytest.mark.parametrize(("advertised", "iss", "outcome"), ISS_TABLE)
def test_the_iss_table(advertised: bool | None, iss: str | None, outcome: str) -> None:
    metadata = AuthorizationServerMetadata(
        issuer=ISSUER, authorization_response_iss_parameter_supported=advertised
    )
    answer = AuthorizationResponse(code="code", state="s", iss=iss)
    if outcome == "code":
        assert check_response(answer, state="s", metadata=metadata) == "code"
    else:
        with pytest.raises(AuthorizationFailed) as caught:
            check_response(answer, state="s", metadata=metadata)
        assert caught.value.error == outcome


@pytest.mark.parametrize(
    "iss",
    [
        ISSUER + "/",  # trailing slash
        ISSUER.upper(),  # scheme and host case
        "https://auth.example.com:443",  # the default port spelled out
        "https://auth%2Eexample.com",  # percent-encoding
    ],
)
async def test_an_iss_equal_only_after_normalization_is_refused(iss: str) -> None:
    world = World(forged_iss=iss)  # the iss parameter decodes to exactly this string
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="mix-up") as caught:
            await client.get(MCP)
    assert caught.value.error == "invalid_issuer"
    assert world.requests_to(f"{ISSUER}/token") == []  # the code was never redeemed


async def test_an_unadvertised_iss_is_compared_too() -> None:
    world = World(send_iss=False, forged_iss="https://evil.example.com")
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="mix-up"):
            await client.get(MCP)
    assert world.requests_to(f"{ISSUER}/token") == []


async def test_an_unadvertised_matching_iss_is_accepted() -> None:
    world = World(send_iss=False, forged_iss=ISSUER)
    async with mock_client(world, make_auth(world)) as client:
        assert (await client.get(MCP)).status_code == 200
    assert len(world.requests_to(f"{ISSUER}/token")) == 1


def test_an_error_response_from_another_issuer_is_not_acted_on() -> None:
    metadata = AuthorizationServerMetadata(issuer=ISSUER)
    answer = AuthorizationResponse(
        state="s", iss="https://evil.example.com", error="access_denied", error_description="go"
    )
    with pytest.raises(AuthorizationFailed) as caught:
        check_response(answer, state="s", metadata=metadata)
    assert caught.value.error == "invalid_issuer" and "go" not in str(caught.value)


@pytest.mark.parametrize(
    ("supported", "grant_types", "asked"),
    [
        (["mcp:read", "offline_access"], None, "mcp:read offline_access"),
        (["mcp:read"], None, "mcp:read"),
        (None, None, "mcp:read"),
        (["mcp:read", "offline_access"], ["authorization_code"], "mcp:read"),
    ],
)
async def test_offline_access_is_asked_for_when_the_authorization_server_lists_it(
    supported: list[str] | None, grant_types: list[str] | None, asked: str
) -> None:
    world = World(metadata_extra={"scopes_supported": supported})
    metadata = ClientMetadata(client_name="t", grant_types=grant_types)
    async with mock_client(world, make_auth(world, client_metadata=metadata)) as client:
        assert (await client.get(MCP)).status_code == 200
    assert world.requests_to(f"{ISSUER}/authorize")[0].url.params["scope"] == asked


def test_offline_access_is_never_the_only_scope_nor_added_twice() -> None:
    metadata = AuthorizationServerMetadata(issuer=ISSUER, scopes_supported=["offline_access"])
    assert with_offline_access(None, metadata) is None
    assert with_offline_access("", metadata) == ""
    assert with_offline_access("a offline_access", metadata) == "a offline_access"
    assert with_offline_access("a", metadata) == "a offline_access"


@pytest.mark.parametrize("methods", [None, ["plain"], []])
async def test_an_authorization_server_without_s256_is_refused(methods: list[str] | None) -> None:
    world = World(metadata_extra={"code_challenge_methods_supported": methods})
    async with mock_client(world, make_auth(world)) as client:
        with pytest.raises(AuthorizationFailed, match="S256") as caught:
            await client.get(MCP)
    assert caught.value.error == "unsupported_pkce"
    assert world.requests_to(f"{ISSUER}/authorize") == []


async def test_an_error_redirect_is_reported() -> None:
    world = World()

    def deny(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/authorize":
            state = request.url.params["state"]
            location = f"{request.url.params['redirect_uri']}?error=access_denied&state={state}"
            location += f"&iss={ISSUER}"
            return httpx.Response(302, headers={"location": location})
        return world(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(deny))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http)
    async with httpx.AsyncClient(transport=httpx.MockTransport(deny), auth=auth) as client:
        with pytest.raises(AuthorizationFailed) as caught:
            await client.get(MCP)
    assert caught.value.error == "access_denied"


async def test_concurrent_401s_run_one_flow() -> None:
    world = World()
    auth = make_auth(world)
    async with mock_client(world, auth) as client:
        answers = await asyncio.gather(*(client.get(MCP) for _ in range(5)))
    assert all(a.status_code == 200 for a in answers)
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1


def test_the_sync_client_is_refused_with_a_reason() -> None:
    world = World()
    with httpx.Client(transport=httpx.MockTransport(world), auth=make_auth(world)) as client:
        with pytest.raises(RuntimeError, match="AsyncClient"):
            client.get(MCP)


async def test_a_flow_failing_before_the_browser_frees_the_loopback_port() -> None:
    world = World(metadata_extra={"code_challenge_methods_supported": ["plain"]})
    opened: list[str] = []
    loopback = LoopbackBrowser(open_browser=opened.append)
    auth = OAuth(loopback, http_client=mock_client(world))
    async with mock_client(world, auth) as client:
        with pytest.raises(AuthorizationFailed, match="S256"):
            await client.get(MCP)
    assert opened == [] and loopback.port != 0
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", loopback.port))


async def test_step_up_keeps_the_asked_scope_when_the_server_omits_scope() -> None:
    world = World(needed_scope={"mcp:read", "files:write"}, step_up_scope="files:write")

    def no_scope(request: httpx.Request) -> httpx.Response:
        response = world(request)
        if request.url.path == "/token":
            body = response.json()
            body.pop("scope")
            return httpx.Response(200, json=body)
        return response

    http = httpx.AsyncClient(transport=httpx.MockTransport(no_scope))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http)
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_scope), auth=auth) as client:
        assert (await client.get(MCP)).status_code == 200
    scopes = [r.url.params["scope"] for r in world.requests_to(f"{ISSUER}/authorize")]
    assert scopes == ["mcp:read", "mcp:read files:write"]


async def test_a_refresh_goes_to_the_issuers_token_endpoint_never_the_stored_one() -> None:
    # Issue 19: FileTokenStorage loaded planted token files with their token_endpoint, which
    # the refresh then used. The endpoint now comes from the issuer's metadata.
    world = World()
    storage = MemoryTokenStorage()
    auth = make_auth(world, storage=storage)
    async with mock_client(world, auth) as client:
        await client.get(MCP)
        key = next(iter(storage._tokens))
        planted = storage._tokens[key]
        planted.token_endpoint = "https://evil.example/steal"
        world.tokens.clear()  # the server forgot every access token: a refresh follows
        assert (await client.get(MCP)).status_code == 200
    assert world.requests_to("https://evil.example/steal") == []
    assert "grant_type=refresh_token" in world.requests_to(f"{ISSUER}/token")[1].content.decode()


async def test_tokens_are_kept_per_url_with_its_query() -> None:
    # Issue 19: /mcp?tenant=b reused tenant a's tokens (keyed without the query).
    world = World()
    storage = MemoryTokenStorage()
    for tenant in ("a", "b"):
        auth = make_auth(world, storage=storage)
        async with mock_client(world, auth) as client:
            assert (await client.get(f"{MCP}?tenant={tenant}")).status_code == 200
    assert sorted(storage._tokens) == [f"{MCP}?tenant=a", f"{MCP}?tenant=b"]
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 2


class ClosingHeadless(HeadlessRedirect):
    """A `ClosingRedirect`: counts the flows after which it was asked to release its hold."""

    def __init__(self, http_client: httpx.AsyncClient) -> None:
        super().__init__(http_client=http_client)
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1


async def test_a_redirect_that_holds_something_is_closed_after_each_flow() -> None:
    """`OAuth` tells a `ClosingRedirect` apart when it is made, and closes it after each
    flow, however the flow ended (a loopback listener must not outlive it)."""
    world = World()
    http = mock_client(world)
    redirect = ClosingHeadless(http)
    assert isinstance(redirect, ClosingRedirect)
    assert not isinstance(HeadlessRedirect(http_client=http), ClosingRedirect)
    auth = OAuth(redirect, http_client=http)
    async with mock_client(world, auth) as client:
        assert (await client.get(MCP)).status_code == 200
    assert redirect.closed == 1
