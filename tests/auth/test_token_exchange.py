"""`TokenExchange` against the OpenID provider double's token endpoint (uvicorn on 127.0.0.1):
the RFC 8693 form and client authentication, Entra's on-behalf-of form, the cache (per caller
token, audience and scopes; until shortly before expiry; bounded; encrypted in a shared
store), refusals, the caller's own token never handed back, and a tool calling it through
`Client` in both eras."""

from __future__ import annotations

import asyncio
import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from _oidc_double import ACCESS_TOKEN_TYPE, EXCHANGE, OBO, Provider
from _serving import WAIT, serving
from _verify_tokens import FixedClock

from mcpkit import Client, Context, Server
from mcpkit.auth.server.exchange import TokenExchange, TokenExchangeFailed
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.protocol.events import RequestInfo
from mcpkit.types import TextContent

API = "https://api.example.com"


def ctx_of(token: str | None, scheme: str = "Bearer") -> Any:
    """What `token_for` reads of a Context: the verified token and the request's headers."""
    headers = [] if token is None else [(b"authorization", f"{scheme} {token}".encode())]
    info = RequestInfo(transport="http", headers=headers)
    auth = None if token is None else AccessToken(subject="alice")
    return SimpleNamespace(auth=auth, request_info=info)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def exchange_for(provider: Provider, **settings: Any) -> TokenExchange:
    client_id, secret = provider.client
    return TokenExchange(
        token_endpoint=provider.base + "/token",
        client_id=client_id,
        client_secret=secret,
        **settings,
    )


class Recording:
    """A `CacheStore` that keeps what it is given, to look at (TTLs ignored)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        assert ttl is not None and ttl > 0
        self.values[key] = value


async def test_the_rfc_8693_request_and_its_cache() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        caller = provider.token(aud="https://mcp.example.com/mcp")
        async with exchange_for(provider) as exchange:
            first = await exchange.token_for(ctx_of(caller), audience=API, scopes=["b", "a"])
            again = await exchange.token_for(ctx_of(caller), audience=API, scopes=["a", "b"])
            other = await exchange.token_for(ctx_of(caller), audience=API, scopes=["a"])
    assert first == again != other != caller
    assert claims_of(first)["aud"] == API and claims_of(first)["scope"] == "a b"
    assert len(provider.exchanges) == 2  # the second call was the cache's
    form = provider.exchanges[0]
    assert form == {
        "grant_type": EXCHANGE,
        "subject_token": caller,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "requested_token_type": ACCESS_TOKEN_TYPE,
        "audience": API,
        "scope": "a b",
    }  # the client authenticated with HTTP Basic: no secret in the form


async def test_a_cached_token_is_renewed_shortly_before_it_expires() -> None:
    provider = Provider()
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        ctx = ctx_of(provider.token())
        async with exchange_for(provider, clock=clock, refresh_before=60) as exchange:
            await exchange.token_for(ctx, audience=API)
            clock.advance(239)  # expires_in 300, renewed from 240 on
            await exchange.token_for(ctx, audience=API)
            assert len(provider.exchanges) == 1
            clock.advance(1)
            await exchange.token_for(ctx, audience=API)
    assert len(provider.exchanges) == 2


async def test_the_memory_cache_is_bounded() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        ctx = ctx_of(provider.token())
        async with exchange_for(provider, max_cached=2) as exchange:
            for audience in ("https://a.example", "https://b.example", "https://c.example"):
                await exchange.token_for(ctx, audience=audience)
            await exchange.token_for(ctx, audience="https://c.example")  # still held
            await exchange.token_for(ctx, audience="https://a.example")  # evicted: again
    assert len(provider.exchanges) == 4


async def test_a_shared_store_holds_the_token_encrypted() -> None:
    provider = Provider()
    store = Recording()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        ctx = ctx_of(provider.token())
        async with exchange_for(provider, kv=store) as one, exchange_for(provider, kv=store) as two:
            token = await one.token_for(ctx, audience=API)
            assert await two.token_for(ctx, audience=API) == token  # another worker's cache
        assert len(provider.exchanges) == 1
        assert token not in json.dumps(store.values)
        # A store read with another secret (or tampered with) is not trusted: exchanged again.
        async with TokenExchange(
            token_endpoint=base + "/token", client_id="mcp-server", client_secret="rotated",
            kv=store,
        ) as rotated:  # fmt: skip
            with pytest.raises(TokenExchangeFailed, match="invalid_client"):
                await rotated.token_for(ctx, audience=API)


async def test_the_callers_own_token_is_never_returned() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        caller = provider.token()
        provider.exchange_answer = {"access_token": caller, "token_type": "Bearer"}
        async with exchange_for(provider) as exchange:
            with pytest.raises(TokenExchangeFailed, match="caller's own token"):
                await exchange.token_for(ctx_of(caller), audience=API)


async def test_refusals_say_why() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        caller = provider.token()
        async with exchange_for(provider) as exchange:
            with pytest.raises(TokenExchangeFailed, match="no verified access token"):
                await exchange.token_for(ctx_of(None), audience=API)
            with pytest.raises(TokenExchangeFailed, match="DPoP-bound"):
                await exchange.token_for(ctx_of(caller, scheme="DPoP"), audience=API)
        async with TokenExchange(
            token_endpoint=base + "/token", client_id="mcp-server", client_secret="wrong"
        ) as exchange:
            with pytest.raises(TokenExchangeFailed, match="invalid_client") as refused:
                await exchange.token_for(ctx_of(caller), audience=API)
    assert refused.value.error == "invalid_client"
    assert provider.exchanges[-1]["subject_token"] == caller


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="https"):
        TokenExchange(token_endpoint="http://idp.example/token", client_id="a", client_secret="b")
    with pytest.raises(ValueError, match="flow"):
        TokenExchange(
            token_endpoint="https://idp.example/token", client_id="a", client_secret="b",
            flow="implicit",  # type: ignore[arg-type]
        )  # fmt: skip


async def test_entras_on_behalf_of_form() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        caller = provider.token()
        async with exchange_for(
            provider, flow="on-behalf-of", client_auth="client_secret_post"
        ) as exchange:
            await exchange.token_for(ctx_of(caller), scopes=["api://downstream/.default"])
    assert provider.exchanges == [
        {
            "grant_type": OBO,
            "assertion": caller,
            "requested_token_use": "on_behalf_of",
            "scope": "api://downstream/.default",
            "client_id": "mcp-server",
            "client_secret": "server-secret",
        }
    ]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_tool_calls_downstream_as_its_caller(era: str) -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        verifier = JwtVerifier.from_issuer(base)
        server = Server("downstream", auth=ProtectedResource(verifier=verifier))
        exchange = exchange_for(provider, kv=server.kv)

        @server.tool()
        async def downstream_audience(ctx: Context) -> str:
            """The audience and subject of the token got for the downstream API."""
            token = await exchange.token_for(ctx, audience=API, scopes=["files:read"])
            claims = claims_of(token)
            return f"{claims['aud']} {claims['sub']}"

        async with verifier, exchange, serving(server.http_app()) as mcp:
            caller = provider.token(aud=mcp + "/mcp")
            headers = {"authorization": f"Bearer {caller}"}
            async with Client(f"{mcp}/mcp", headers=headers, protocol=era) as client:
                results = [await client.call_tool("downstream_audience", {}) for _ in range(2)]
    texts = [c.text for r in results for c in r.content if isinstance(c, TextContent)]
    assert texts == [f"{API} alice"] * 2
    assert [form["subject_token"] for form in provider.exchanges] == [caller]  # then cached


async def test_an_expires_in_past_the_stores_longest_ttl_is_kept_that_long() -> None:
    # Before: the exchange succeeded, then keeping its answer raised ValueError (a TTL past
    # MAX_TTL, ten years), and the call failed with a token in hand.
    provider = Provider()
    provider.expires_in = 10**12
    server = Server("exchanging")
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        ctx = ctx_of(provider.token())
        async with exchange_for(provider, kv=server.kv) as exchange:
            token = await exchange.token_for(ctx, audience=API)
            assert await exchange.token_for(ctx, audience=API) == token  # kept, read back
    assert len(provider.exchanges) == 1


@pytest.mark.parametrize("damaged", ["not base64!", base64.b64encode(b"short").decode()])
async def test_a_damaged_cache_entry_is_a_miss_and_written_over(
    damaged: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: a value that was not base64, or too short for a nonce, raised out of token_for.
    provider = Provider()
    store = Recording()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        ctx = ctx_of(provider.token())
        async with exchange_for(provider, kv=store) as exchange:
            await exchange.token_for(ctx, audience=API)
            ((key, entry),) = store.values.items()
            store.values[key] = {**entry, "t": damaged}
            fresh = await exchange.token_for(ctx, audience=API)  # exchanged again
            assert store.values[key]["t"] != damaged  # written over
            assert await exchange.token_for(ctx, audience=API) == fresh  # and read back
    assert len(provider.exchanges) == 2
    assert any("could not be read" in r.getMessage() for r in caplog.records)
