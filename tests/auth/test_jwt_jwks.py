"""JwtVerifier with keys from a JWKS URL, served by real uvicorn on 127.0.0.1: fetched once and
cached, refetched for a new key id (rotation) at most once per `min_refresh_interval`, and
bounded against an endpoint that fails, sends garbage, floods or hangs."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from typing import Any

import httpx
import pytest
from _serving import serving
from _verify_servers import WAIT, JwksEndpoint
from _verify_tokens import EC, EC_OTHER, ISSUER, RESOURCE, RSA, FixedClock, jwks, sign
from joserfc.jwk import ECKey, OctKey

from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.errors import InvalidToken, VerifierUnavailable

NEW = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})


def fresh(clock: FixedClock) -> str:
    """A token by EC, issued now by `clock`."""
    now = int(clock.now)
    return sign(EC, iat=now, nbf=now, exp=now + 300)


def remote(url: str, clock: FixedClock, **settings: Any) -> JwtVerifier:
    return JwtVerifier(issuer=ISSUER, jwks_url=url + "/jwks", clock=clock, **settings)


async def test_the_keys_are_fetched_once_and_cached() -> None:
    endpoint = JwksEndpoint(jwks(EC, RSA))
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, FixedClock()) as verifier:
            tokens = [sign(EC), sign(RSA, "RS256")] * 10
            found = await asyncio.gather(*(verifier.verify(t, resource=RESOURCE) for t in tokens))
            assert {a.subject for a in found} == {"alice"}
            assert endpoint.hits == 1  # twenty verifications at once, one fetch


async def test_a_new_key_is_fetched_and_a_withdrawn_one_is_dropped() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, clock) as verifier:
            await verifier.verify(sign(EC), resource=RESOURCE)
            endpoint.jwks = jwks(EC, NEW)  # the authorization server rotates
            clock.advance(30)
            await verifier.verify(sign(NEW), resource=RESOURCE)
            assert endpoint.hits == 2
            await verifier.verify(sign(EC), resource=RESOURCE)
            endpoint.jwks = jwks(NEW)  # and withdraws the old key: gone after cache_ttl
            clock.advance(600)
            with pytest.raises(InvalidToken, match="unknown key"):
                await verifier.verify(sign(EC), resource=RESOURCE)
            assert endpoint.hits == 3


async def test_a_flood_of_made_up_key_ids_costs_one_fetch() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    clock = FixedClock()
    forged = [
        sign(EC_OTHER, header={"kid": f"forged-{i}"}) for i in range(200)
    ]  # fmt: skip
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, clock) as verifier:
            await verifier.verify(sign(EC), resource=RESOURCE)
            clock.advance(30)
            results = await asyncio.gather(
                *(verifier.verify(t, resource=RESOURCE) for t in forged), return_exceptions=True
            )
            assert all(isinstance(r, InvalidToken) for r in results)
            assert endpoint.hits == 2
            clock.advance(29)
            with pytest.raises(InvalidToken, match="unknown key"):
                await verifier.verify(forged[0], resource=RESOURCE)
            assert endpoint.hits == 2
            clock.advance(1)
            with pytest.raises(InvalidToken, match="unknown key"):
                await verifier.verify(forged[0], resource=RESOURCE)
            assert endpoint.hits == 3


async def test_the_cache_expires_after_cache_ttl() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, clock, cache_ttl=120) as verifier:
            await verifier.verify(sign(EC), resource=RESOURCE)
            clock.advance(119)
            await verifier.verify(sign(EC), resource=RESOURCE)
            assert endpoint.hits == 1
            clock.advance(1)
            await verifier.verify(sign(EC), resource=RESOURCE)
            assert endpoint.hits == 2


FAILURES = [
    ("500", "answered HTTP 500"),
    ("garbage", "not a JWKS"),
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
    # Issue 19: a JWKS down, slow or huge on its first fetch refused every token (401), so
    # clients threw good tokens away: the token is neither accepted nor refused (503).
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    endpoint = JwksEndpoint(jwks(EC))
    endpoint.mode = mode
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        try:
            async with remote(
                url, FixedClock(), timeout=timeout_for(mode), max_jwks_bytes=65536
            ) as verifier:
                with pytest.raises(VerifierUnavailable, match="could not be fetched"):
                    await verifier.verify(sign(EC), resource=RESOURCE)
        finally:
            endpoint.release.set()
    assert logged in caplog.text
    assert "could not refresh the JWKS from http://127.0.0.1:" in caplog.text


async def test_a_flooding_endpoint_costs_bounded_memory() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    endpoint.mode = "huge"  # 20 MB on offer
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, FixedClock(), max_jwks_bytes=65536) as verifier:
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                with pytest.raises(VerifierUnavailable):
                    await verifier.verify(sign(EC), resource=RESOURCE)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert peak - before < 4 * 1024 * 1024


async def test_known_keys_outlive_an_outage_and_a_failed_start_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    endpoint = JwksEndpoint(jwks(EC))
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, clock) as verifier:
            await verifier.verify(sign(EC), resource=RESOURCE)
            endpoint.mode = "500"
            clock.advance(600)
            await verifier.verify(fresh(clock), resource=RESOURCE)  # stale keys, still good
            assert endpoint.hits == 2
            assert "answered HTTP 500" in caplog.text
        async with remote(url, clock) as verifier:
            with pytest.raises(VerifierUnavailable):
                await verifier.verify(fresh(clock), resource=RESOURCE)
            assert endpoint.hits == 3
            # Issue 19: after one failed fetch every token was refused for 30 s with no
            # refetch. Now the fetch is tried again after 1 s, then 2, 4... while it fails.
            clock.advance(0.5)
            with pytest.raises(VerifierUnavailable):  # no new fetch within the backoff
                await verifier.verify(fresh(clock), resource=RESOURCE)
            assert endpoint.hits == 3
            clock.advance(0.5)
            with pytest.raises(VerifierUnavailable):
                await verifier.verify(fresh(clock), resource=RESOURCE)
            assert endpoint.hits == 4
            clock.advance(1.5)  # the wait has doubled: 2 s
            with pytest.raises(VerifierUnavailable):
                await verifier.verify(fresh(clock), resource=RESOURCE)
            assert endpoint.hits == 4
            endpoint.mode = "ok"
            clock.advance(0.5)
            await verifier.verify(fresh(clock), resource=RESOURCE)
            assert endpoint.hits == 5


@pytest.mark.parametrize(
    ("document", "logged"),
    [
        (jwks(EC, RSA, NEW, EC_OTHER), "holds 4 keys, over max_keys=3"),
        ({"keys": [OctKey.generate_key(256).as_dict(private=True)]}, "no usable signing key"),
        ({"keys": "all of them"}, "not a JWKS"),
        ({"keys": [{"kty": "EC", "crv": "P-256", "x": "!", "y": "?", "kid": "ec-1"}]}, "usable"),
    ],
)
async def test_a_bad_key_set_makes_tokens_unverifiable(
    document: dict[str, Any], logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    async with asyncio.timeout(WAIT), serving(JwksEndpoint(document)) as url:
        async with remote(url, FixedClock(), max_keys=3) as verifier:
            with pytest.raises(VerifierUnavailable, match="could not be fetched"):
                await verifier.verify(sign(EC), resource=RESOURCE)
    assert logged in caplog.text


async def test_keys_that_do_not_import_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mcpkit.auth")
    broken = {"kty": "RSA", "n": "AQAB", "kid": "broken"}
    unknown = {"kty": "PQ", "kid": "future"}
    document = {"keys": [broken, unknown, *jwks(EC)["keys"]]}
    async with asyncio.timeout(WAIT), serving(JwksEndpoint(document)) as url:
        async with remote(url, FixedClock()) as verifier:
            assert (await verifier.verify(sign(EC), resource=RESOURCE)).subject == "alice"
    assert "skipped a key of the JWKS" in caplog.text


async def test_a_fetch_outlives_the_request_that_started_it() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    endpoint.mode = "hang"
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        async with remote(url, FixedClock()) as verifier:
            first = asyncio.create_task(verifier.verify(sign(EC), resource=RESOURCE))
            await endpoint.arrived.wait()
            first.cancel()  # its client hung up
            with pytest.raises(asyncio.CancelledError):
                await first
            endpoint.mode = "ok"
            endpoint.release.set()
            assert (await verifier.verify(sign(EC), resource=RESOURCE)).subject == "alice"
            assert endpoint.hits == 1


async def test_closing_stops_a_fetch_under_way() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    endpoint.mode = "hang"
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        verifier = remote(url, FixedClock())
        waiting = asyncio.create_task(verifier.verify(sign(EC), resource=RESOURCE))
        await endpoint.arrived.wait()
        await verifier.aclose()
        with pytest.raises(InvalidToken, match="unknown key"):
            await waiting
        endpoint.release.set()


async def test_a_given_client_is_used_and_left_open() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as url, httpx.AsyncClient() as client:
        verifier = remote(url, FixedClock(), http_client=client)
        await verifier.verify(sign(EC), resource=RESOURCE)
        await verifier.aclose()
        assert not client.is_closed
        await verifier.verify(sign(EC), resource=RESOURCE)


async def test_a_closed_verifier_says_so() -> None:
    endpoint = JwksEndpoint(jwks(EC))
    async with asyncio.timeout(WAIT), serving(endpoint) as url:
        verifier = remote(url, FixedClock())
        await verifier.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await verifier.verify(sign(EC), resource=RESOURCE)
