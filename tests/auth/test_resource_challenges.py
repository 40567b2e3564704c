"""Every MCP request of a protected server needs a bearer token: the 401, 403, 400 and 503
answers and their `WWW-Authenticate` challenges (RFC 6750 section 3, RFC 9728 section 5.1;
spec: basic/authorization, "Error Handling"), over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _resource_helpers import (
    ALICE,
    NOSCOPE,
    SECRET,
    TableVerifier,
    bearer,
    open_as,
    scoped_server,
)
from _serving import INITIALIZE, WAIT, serving

from mcpkit import Server
from mcpkit.auth.server.challenge import bearer_challenge, clean_description
from mcpkit.auth.server.resource import AuthFailure, ProtectedResource, metadata_url
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import VerifierUnavailable


def _challenge(response: httpx.Response) -> str:
    """The Bearer challenge; the DPoP one (RFC 9449 section 7.1) follows it, naming the
    proof algorithms (tests/auth/test_resource_dpop.py checks it)."""
    value, dpop = response.headers.get_list("www-authenticate")
    assert dpop.startswith("DPoP ") and 'algs="ES256 ' in dpop
    return value


async def test_no_token_gets_401_naming_the_metadata_and_the_scopes() -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer(None))
        assert response.status_code == 401
        assert _challenge(response) == (
            f'Bearer scope="mcp", resource_metadata="{base}/.well-known/oauth-protected-'
            'resource/mcp"'
        )
        assert response.json()["error"] == "invalid_token"
        assert verifier.resources == []  # nothing to verify


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_get_and_delete_need_a_token_too(method: str) -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        sid = await open_as(client, base + "/mcp", ALICE)
        response = await client.request(method, base + "/mcp", headers=bearer(None, sid))
        assert response.status_code == 401
        assert 'resource_metadata="' in _challenge(response)


async def test_an_invalid_token_gets_401_invalid_token_with_the_verifier_s_reason() -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer("nope"))
        assert response.status_code == 401
        challenge = _challenge(response)
        assert challenge.startswith('Bearer error="invalid_token", ')
        assert 'error_description="the token is unknown or expired"' in challenge
        assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
        # RFC 8707: the verifier is told which resource the token must be for.
        assert verifier.resources == [base + "/mcp"]


async def test_a_token_without_the_required_scopes_gets_403_insufficient_scope() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer(NOSCOPE))
        assert response.status_code == 403
        challenge = _challenge(response)
        assert 'error="insufficient_scope"' in challenge and 'scope="mcp"' in challenge
        assert "resource_metadata=" in challenge


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("Bearer", 400),  # no token
        ("Bearer a b", 400),  # a space inside
        ('Bearer tok"en', 400),
        ("Basic YWxpY2U6c2VjcmV0", 401),  # another scheme: as if no token came
        ("Bearer " + "a" * 20_000, 401),  # over max_token_length: refused unread
    ],
)
async def test_malformed_authorization_headers_get_400_or_401(value: str, status: int) -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(
            base + "/mcp", json=INITIALIZE, headers={**bearer(None), "authorization": value}
        )
        assert response.status_code == status, response.text
        assert _challenge(response).startswith("Bearer")
        assert verifier.resources == []


async def test_two_authorization_headers_a_non_ascii_or_a_huge_token_never_get_500() -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app(), http="h11") as base:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            two = [(k, v) for k, v in bearer(ALICE).items()] + [("authorization", "Bearer x")]
            response = await client.post(base + "/mcp", json=INITIALIZE, headers=two)
            assert response.status_code == 400
            assert 'error="invalid_request"' in _challenge(response)
            latin = {**bearer(None), "authorization": "Bearer t\xe9l\xe9".encode("latin-1")}
            response = await client.post(base + "/mcp", json=INITIALIZE, headers=latin)
            assert response.status_code == 400
            huge = {**bearer(None), "authorization": "Bearer " + "x" * 100_000}
            response = await client.post(base + "/mcp", json=INITIALIZE, headers=huge)
            assert response.status_code in (400, 401, 431)  # h11 itself may refuse it
        assert verifier.resources == []


async def test_a_failing_verifier_gets_503_and_the_token_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, _ = scoped_server()
    caplog.set_level(logging.DEBUG)
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer(SECRET))
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        refused = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer("nope-nope"))
        assert refused.status_code == 401
    assert "RuntimeError" in caplog.text and "unknown or expired" in caplog.text
    assert SECRET not in caplog.text and "nope-nope" not in caplog.text
    assert SECRET not in response.text


async def test_a_verifier_that_does_not_answer_is_cut_at_verify_timeout() -> None:
    server, verifier = scoped_server(verify_timeout=0.05)
    verifier.hold = asyncio.Event()  # never set
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer(ALICE))
        assert response.status_code == 503
        assert 'error="temporarily_unavailable"' in _challenge(response)


async def test_origin_and_host_are_checked_before_the_token() -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        evil = bearer(ALICE, origin="https://evil.example")
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=evil)
        assert response.status_code == 403 and "www-authenticate" not in response.headers
        assert verifier.resources == []


def test_challenge_values_cannot_be_broken_out_of() -> None:
    value = bearer_challenge(
        resource_metadata='http://h/"x\r\n',
        scopes=["ok", 'bad"scope', "with space"],
        error="invalid_token",
        description='say "hi"\r\nSet-Cookie: a=b \\ é' + "x" * 500,
    )
    assert "\r" not in value and "\n" not in value and "\\" not in value
    assert value.count('"') == 8  # four parameters, each quoted once
    assert 'scope="ok"' in value and 'resource_metadata="http://h/%22x%0D%0A"' in value
    assert len(clean_description("y" * 1000)) == 200
    assert bearer_challenge() == "Bearer"


async def test_hostile_bodies_with_a_valid_token_get_the_session_s_answer_never_500() -> None:
    server, _ = scoped_server()
    deep_object = b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"x":'
    deep_object += b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}}"
    bodies = [b"[" * 100_000 + b"]" * 100_000, deep_object, b"\xff\xfe", b"{"]
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        sid = await open_as(client, base + "/mcp", ALICE)
        for body in bodies:
            response = await client.post(base + "/mcp", content=body, headers=bearer(ALICE, sid))
            assert response.status_code in (200, 400), (body[:20], response.status_code)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=40) | st.just(b"Bearer ") | st.just(b"bearer abc=="), max_size=3)
)
def test_any_authorization_values_get_a_token_or_a_well_formed_refusal(values: list[bytes]) -> None:
    resource = ProtectedResource(verifier=TableVerifier(), required_scopes=["mcp"])
    found = asyncio.run(resource.authenticate(values, "http://127.0.0.1/mcp"))
    if isinstance(found, AuthFailure):
        assert found.status in (400, 401)
        challenge = found.challenge(metadata_url("http://127.0.0.1/mcp"))
        challenge.encode("ascii")
        assert "\r" not in challenge and "\n" not in challenge
        found.body()


async def test_a_verifier_that_cannot_reach_its_issuer_gets_503_with_the_reason() -> None:
    # Issue 19: a JWKS or introspection outage answered 401 invalid_token, and clients
    # threw good tokens away; VerifierUnavailable is a 503 the client retries.
    class Outage:
        async def verify(self, token: str, *, resource: str) -> AccessToken:
            raise VerifierUnavailable("the issuer's key set could not be fetched: it answered 500")

    server = Server("outage", auth=ProtectedResource(verifier=Outage()))
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.post(base + "/mcp", json=INITIALIZE, headers=bearer(ALICE))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert 'error="temporarily_unavailable"' in _challenge(response)
    assert "could not be fetched" in response.json()["error_description"]
