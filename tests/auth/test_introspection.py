"""IntrospectionVerifier against an RFC 7662 endpoint served by real uvicorn on 127.0.0.1:
client authentication, inactive tokens, the same issuer/audience/time/scope checks as for a
JWT, a short bounded cache, and an endpoint that fails, floods or hangs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from _serving import serving
from _verify_servers import WAIT, IntrospectionEndpoint
from _verify_tokens import ISSUER, NOW, RESOURCE, FixedClock

from mcpkit.auth.server.introspection import IntrospectionVerifier
from mcpkit.errors import InsufficientScope, InvalidToken, VerifierUnavailable

CLIENT = ("mcp-server", "s3cret")
TOKEN = "opaque-token-1"


def active(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "active": True,
        "iss": ISSUER,
        "sub": "alice",
        "aud": RESOURCE,
        "client_id": "client-1",
        "scope": "mcp:read mcp:write",
        "exp": int(NOW) + 300,
        "iat": int(NOW),
        "token_type": "Bearer",
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def endpoint_with(answer: dict[str, Any] | None = None) -> IntrospectionEndpoint:
    endpoint = IntrospectionEndpoint(*CLIENT)
    endpoint.answers[TOKEN] = active() if answer is None else answer
    return endpoint


def verifier(url: str, **settings: Any) -> IntrospectionVerifier:
    found: dict[str, Any] = {
        "client_id": CLIENT[0],
        "client_secret": CLIENT[1],
        "issuer": ISSUER,
        "clock": FixedClock(),
    }
    found.update(settings)
    return IntrospectionVerifier(url + "/introspect", **found)


async def check(answer: dict[str, Any] | None, token: str = TOKEN, **settings: Any) -> Any:
    """The access token, or the error, that verifying `token` gives when the endpoint answers
    `answer` for it."""
    async with asyncio.timeout(WAIT), serving(endpoint_with(answer)) as url:
        async with verifier(url, **settings) as checking:
            try:
                return await checking.verify(token, resource=RESOURCE)
            except (InvalidToken, InsufficientScope, VerifierUnavailable) as exc:
                assert token not in str(exc)
                return exc


async def test_an_active_token_becomes_an_access_token() -> None:
    endpoint = endpoint_with()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url) as checking:
            access = await checking.verify(TOKEN, resource=RESOURCE)
    assert access.subject == "alice"
    assert access.client_id == "client-1"
    assert access.scopes == {"mcp:read", "mcp:write"}
    assert access.expires_at == NOW + 300
    assert access.audience == (RESOURCE,)
    assert access.claims["token_type"] == "Bearer"
    ((method, form),) = endpoint.seen
    assert method == "basic"
    assert form == {"token": TOKEN, "token_type_hint": "access_token"}


async def test_the_client_authenticates_in_the_form_when_asked() -> None:
    endpoint = endpoint_with()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url, auth_method="client_secret_post") as checking:
            assert (await checking.verify(TOKEN, resource=RESOURCE)).subject == "alice"
    ((method, form),) = endpoint.seen
    assert method == "post"
    assert (form["client_id"], form["client_secret"]) == CLIENT
    with pytest.raises(ValueError, match="auth_method"):
        IntrospectionVerifier("https://a", client_id="c", client_secret="s", auth_method="jwt")  # type: ignore[arg-type]


async def test_basic_credentials_are_form_encoded_first() -> None:
    # RFC 6749 section 2.3.1: a secret holding ":" or "+" survives the trip.
    endpoint = IntrospectionEndpoint("id:with spaces", "p+ss:w/rd%")
    endpoint.answers[TOKEN] = active()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        settings = {"client_id": "id:with spaces", "client_secret": "p+ss:w/rd%"}
        async with verifier(url, **settings) as checking:
            assert (await checking.verify(TOKEN, resource=RESOURCE)).subject == "alice"


async def test_wrong_client_credentials_refuse_and_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    refused = await check(None, client_secret="wrong")
    assert isinstance(refused, VerifierUnavailable)  # our configuration, not the token
    assert "could not be checked" in refused.description
    assert "answered HTTP 401 (are client_id and client_secret right?)" in caplog.text
    assert "wrong" not in caplog.text


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"active": False}, "not active"),
        (active(active=False), "not active"),
        (active(aud="https://other.example.com/mcp"), "another audience"),
        (active(aud=None), "names no audience"),
        (active(iss="https://evil.example.com"), "another authorization server"),
        (active(exp=int(NOW) - 61), "expired"),
        (active(nbf=int(NOW) + 61), "not valid yet"),
        (active(scope=5), "scope is not a string"),
        (active(exp="soon"), "exp is not a number"),
        # Issue 19: a refresh token's answer with aud passed as an access token, and one
        # without iss although issuer= is set.
        (active(token_type="refresh_token"), "not an access token"),
        (active(token_type=7), "not an access token"),
        (active(iss=None), "names no issuer"),
    ],
)
async def test_refused_answers(answer: dict[str, Any], reason: str) -> None:
    refused = await check(answer)
    assert isinstance(refused, InvalidToken)
    assert reason in refused.description


@pytest.mark.parametrize(
    "answer",
    [
        active(exp=None, iat=None),
        active(scope=None),
        active(token_type=None),
        active(token_type="DPoP"),
        active(token_type="access_token"),
    ],
)
async def test_what_rfc_7662_makes_optional_may_be_missing(answer: dict[str, Any]) -> None:
    access = await check(answer)
    assert access.subject == "alice"


async def test_an_answer_without_iss_passes_only_when_told() -> None:
    assert (await check(active(iss=None), require_issuer=False)).subject == "alice"
    assert (await check(active(iss=None), issuer=None)).subject == "alice"


async def test_an_answer_without_exp_is_not_cached_unless_told() -> None:
    # Issue 19: an answer without exp was cached 30 s: a revoked token lived on.
    endpoint = endpoint_with(active(exp=None))
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url) as checking:
            for _ in range(3):
                await checking.verify(TOKEN, resource=RESOURCE)
            assert endpoint.hits == 3
        async with verifier(url, cache_without_exp=True) as checking:
            for _ in range(3):
                await checking.verify(TOKEN, resource=RESOURCE)
            assert endpoint.hits == 4


async def test_the_audience_may_be_optional_or_configured() -> None:
    access = await check(active(aud=None), require_audience=False)
    assert access.audience == ()
    refused = await check(active(aud="https://x.example"), require_audience=False)
    assert isinstance(refused, InvalidToken)
    access = await check(active(aud=["api://mcp"]), audience="api://mcp")
    assert access.audience == ("api://mcp",)


async def test_required_scopes_ask_for_a_step_up() -> None:
    refused = await check(None, required_scopes=["mcp:admin"])
    assert isinstance(refused, InsufficientScope)
    assert refused.scopes == ("mcp:admin",)


@pytest.mark.parametrize("token", ["", "two words", "é", "tab\there", "a" * 20000])
async def test_a_token_that_cannot_be_a_bearer_token_is_not_sent(token: str) -> None:
    endpoint = endpoint_with()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url) as checking:
            with pytest.raises(InvalidToken):
                await checking.verify(token, resource=RESOURCE)
    assert endpoint.hits == 0


async def test_active_answers_are_cached_briefly() -> None:
    endpoint = endpoint_with()
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url, clock=clock, cache_ttl=30) as checking:
            for _ in range(5):
                await checking.verify(TOKEN, resource=RESOURCE)
            assert endpoint.hits == 1
            clock.advance(30)
            endpoint.answers[TOKEN] = {"active": False}  # revoked meanwhile
            with pytest.raises(InvalidToken, match="not active"):
                await checking.verify(TOKEN, resource=RESOURCE)
            with pytest.raises(InvalidToken, match="not active"):  # refusals are not cached
                await checking.verify(TOKEN, resource=RESOURCE)
            assert endpoint.hits == 3


async def test_the_cache_never_outlives_the_token() -> None:
    endpoint = endpoint_with(active(exp=int(NOW) + 5))
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url, clock=clock, cache_ttl=30, leeway=0) as checking:
            await checking.verify(TOKEN, resource=RESOURCE)
            clock.advance(5)
            with pytest.raises(InvalidToken, match="expired"):
                await checking.verify(TOKEN, resource=RESOURCE)
            assert endpoint.hits == 2


async def test_the_cache_is_per_resource_and_bounded() -> None:
    endpoint = endpoint_with()
    for i in range(4):
        endpoint.answers[f"token-{i}"] = active()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url, cache_size=3) as checking:
            await checking.verify(TOKEN, resource=RESOURCE)
            with pytest.raises(InvalidToken, match="another audience"):
                await checking.verify(TOKEN, resource="https://other.example.com/mcp")
            assert endpoint.hits == 2
            for i in range(4):
                await checking.verify(f"token-{i}", resource=RESOURCE)
            await checking.verify("token-3", resource=RESOURCE)  # still held
            assert endpoint.hits == 6
            await checking.verify(TOKEN, resource=RESOURCE)  # pushed out by the four
            assert endpoint.hits == 7


async def test_no_cache_with_a_ttl_of_zero() -> None:
    endpoint = endpoint_with()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with verifier(url, cache_ttl=0) as checking:
            await checking.verify(TOKEN, resource=RESOURCE)
            await checking.verify(TOKEN, resource=RESOURCE)
    assert endpoint.hits == 2


FAILURES = [
    ("500", "answered HTTP 500"),
    ("garbage", "without a boolean active"),
    ("huge", "over the limit of 65536 bytes"),
    ("huge-declared", "1000000000 bytes, over the limit"),
    ("gzip", "compressed (gzip)"),
    ("hang", "no answer within 0.5 s"),
]


def timeout_for(mode: str) -> float:
    """The endpoint's timeout: short where it is meant to pass (the endpoint hangs), and
    where the endpoint answers at once one no busy machine reaches, so that each mode fails
    for its own reason, never for want of time."""
    return 0.5 if mode == "hang" else WAIT / 2


@pytest.mark.parametrize(("mode", "logged"), FAILURES)
async def test_a_failing_endpoint_makes_tokens_unverifiable_and_says_why_in_the_log(
    mode: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 19: an endpoint answering 500, timing out or sending garbage gave 401, so
    # clients threw good tokens away; now 503 (VerifierUnavailable) and they try again.
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    endpoint = endpoint_with()
    endpoint.mode = mode
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        try:
            async with verifier(
                url, timeout=timeout_for(mode), max_response_bytes=65536
            ) as checking:
                with pytest.raises(VerifierUnavailable, match="could not be checked"):
                    await checking.verify(TOKEN, resource=RESOURCE)
        finally:
            endpoint.release.set()
    assert logged in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "body", [b"[]", b'{"active": "true"}', b'{"active": 1}', b"[" * 5000 + b"]" * 5000]
)
async def test_answers_that_are_not_introspection_responses_are_unverifiable(body: bytes) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        checking = verifier("https://auth.example.com", http_client=client)
        with pytest.raises(VerifierUnavailable, match="could not be checked"):
            await checking.verify(TOKEN, resource=RESOURCE)
        await checking.aclose()
        assert not client.is_closed


@pytest.mark.parametrize("endpoint", ["http://auth.example.com/i", "ftp://x/i", "https:///i", "x"])
def test_the_endpoint_must_be_https(endpoint: str) -> None:
    with pytest.raises(ValueError, match="introspection endpoint"):
        IntrospectionVerifier(endpoint, client_id="c", client_secret="s")
