"""Hostile tokens thrown at the verifiers by hypothesis: any string, any header and payload
under a garbage or a valid signature, any introspection answer. Each gets an access token or
an AuthError (a 401 or 403 for the client), never another exception (a 500)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
from _verify_tokens import EC, ISSUER, RESOURCE, FixedClock, b64, jwks, sign_payload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit.auth.server.introspection import IntrospectionVerifier
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import AuthError

VERIFIER = JwtVerifier(issuer=ISSUER, jwks=jwks(EC), clock=FixedClock())
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
HEADER_NAMES = ["alg", "kid", "typ", "crit", "b64", "jku", "jwk", "x5c", "cty", "zip", "enc"]
headers = st.dictionaries(
    st.sampled_from(HEADER_NAMES),
    json_values | st.sampled_from(["ES256", "none", "HS256", "ec-1", "at+jwt", "JWT"]),
    max_size=5,
)
CLAIM_NAMES = ["iss", "sub", "aud", "exp", "nbf", "iat", "scope", "scp", "client_id", "azp"]
claim_sets = st.dictionaries(
    st.sampled_from(CLAIM_NAMES),
    json_values | st.sampled_from([ISSUER, RESOURCE, 1_800_000_000, 1e308, -1e308]),
    max_size=10,
)


def outcome(token: str) -> AccessToken | AuthError:
    """What verifying `token` gives, run without an event loop: with keys given directly the
    verifier never waits, so its coroutine finishes on the first step (a loop per example
    would cost more than the verification)."""
    step = VERIFIER.verify(token, resource=RESOURCE)
    try:
        step.send(None)
    except StopIteration as done:
        found: AccessToken = done.value
        return found
    except AuthError as exc:
        assert token not in str(exc) or len(token) < 12
        return exc
    step.close()
    raise AssertionError("the verifier waited for something")


@FUZZ
@given(st.text(max_size=300))
def test_any_string_is_refused_cleanly(token: str) -> None:
    assert isinstance(outcome(token), AuthError)


@FUZZ
@given(headers, json_values | claim_sets, st.binary(max_size=80))
def test_any_header_and_payload_under_a_garbage_signature(
    header: dict[str, Any], payload: Any, signature: bytes
) -> None:
    token = (
        f"{b64(msgspec.json.encode(header))}.{b64(msgspec.json.encode(payload))}.{b64(signature)}"
    )
    assert isinstance(outcome(token), AuthError)


@FUZZ
@given(json_values | claim_sets)
def test_any_claims_under_a_valid_signature(payload: Any) -> None:
    found = outcome(sign_payload(EC, msgspec.json.encode(payload)))
    if isinstance(found, AccessToken):
        assert found.issuer == ISSUER and found.expires_at is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | claim_sets.map(lambda c: {"active": True, **c}))
def test_any_introspection_answer(answer: Any) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=msgspec.json.encode(answer))

    async def run() -> AccessToken | AuthError:
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as client:
            verifier = IntrospectionVerifier(
                "https://auth.example.com/introspect",
                client_id="c",
                client_secret="s",
                http_client=client,
                clock=FixedClock(),
            )
            try:
                return await verifier.verify("opaque", resource=RESOURCE)
            except AuthError as exc:
                return exc

    asyncio.run(run())
