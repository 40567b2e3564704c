"""JwtVerifier with the issuer's keys given directly: what it accepts (RFC 9068 access tokens
for this resource) and every way a token is refused, each with a description that says why
and never echoes the token (spec: basic/authorization, "Token Handling")."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from _verify_tokens import (
    EC,
    EC_OTHER,
    ISSUER,
    NOW,
    OKP,
    RESOURCE,
    RSA,
    FixedClock,
    b64,
    claims,
    hmac_with_public_key,
    jwks,
    sign,
    sign_payload,
    unsigned,
)
from joserfc.jwk import ECKey, OctKey, RSAKey

from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.errors import InsufficientScope, InvalidToken

KEYS = jwks(EC, RSA, OKP)


def verifier(**settings: Any) -> JwtVerifier:
    found: dict[str, Any] = {"issuer": ISSUER, "jwks": KEYS, "clock": FixedClock()}
    found.update(settings)
    return JwtVerifier(**found)


async def refused(token: str, **settings: Any) -> str:
    """The description of the refusal, checked not to hold the token or any part of it."""
    with pytest.raises(InvalidToken) as caught:
        await verifier(**settings).verify(token, resource=RESOURCE)
    text = str(caught.value)
    assert caught.value.error == "invalid_token"
    for part in {p for p in (token, *token.split(".")) if len(p) > 8}:
        assert part not in text
    return caught.value.description


async def test_a_valid_token_becomes_an_access_token() -> None:
    token = sign(EC)
    access = await verifier().verify(token, resource=RESOURCE)
    assert access.subject == "alice"
    assert access.client_id == "client-1"
    assert access.scopes == {"mcp:read", "mcp:write"}
    assert access.expires_at == NOW + 300
    assert access.issuer == ISSUER
    assert access.audience == (RESOURCE,)
    assert access.claims["jti"] == "token-1"
    assert token not in repr(access)
    with pytest.raises(TypeError):
        access.claims["sub"] = "mallory"  # type: ignore[index]


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (EC, "ES256"),
        (ECKey.generate_key("P-384", parameters={"kid": "p384"}), "ES384"),
        (ECKey.generate_key("P-521", parameters={"kid": "p521"}), "ES512"),
        (RSA, "RS256"),
        (RSA, "RS512"),
        (RSA, "PS256"),
        (OKP, "EdDSA"),
        (OKP, "Ed25519"),
    ],
)
async def test_each_default_algorithm_is_accepted(key: Any, alg: str) -> None:
    access = await verifier(jwks=jwks(key)).verify(sign(key, alg), resource=RESOURCE)
    assert access.subject == "alice"


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "JWT", None])
async def test_access_token_types_are_accepted(typ: str | None) -> None:
    access = await verifier().verify(sign(EC, typ=typ), resource=RESOURCE)
    assert access.subject == "alice"


@pytest.mark.parametrize("typ", ["dpop+jwt", "secevent+jwt", "JOSE"])
async def test_other_token_types_are_refused(typ: str) -> None:
    assert "not an access token" in await refused(sign(EC, typ=typ))


@pytest.mark.parametrize(
    ("changes", "scopes"),
    [
        ({"scope": "a b  c"}, {"a", "b", "c"}),
        ({"scope": None, "scp": ["a", "b"]}, {"a", "b"}),
        ({"scope": None, "scp": "a b"}, {"a", "b"}),
        ({"scope": None}, set()),
    ],
)
async def test_scopes_come_from_scope_or_scp(changes: dict[str, Any], scopes: set[str]) -> None:
    access = await verifier().verify(sign(EC, **changes), resource=RESOURCE)
    assert access.scopes == scopes


@pytest.mark.parametrize(
    "aud",
    [
        RESOURCE,
        [RESOURCE, "https://other.example.com"],
        "HTTPS://MCP.Example.COM/mcp",
        "https://mcp.example.com:443/mcp",
    ],
)
async def test_the_audience_must_name_this_resource(aud: Any) -> None:
    access = await verifier().verify(sign(EC, aud=aud), resource=RESOURCE)
    assert access.subject == "alice"


async def test_the_root_resource_matches_with_or_without_its_slash() -> None:
    token = sign(EC, aud="https://mcp.example.com/")
    access = await verifier().verify(token, resource="https://mcp.example.com")
    assert access.audience == ("https://mcp.example.com/",)


@pytest.mark.parametrize(
    "aud",
    [
        "https://other.example.com/mcp",
        "https://mcp.example.com/mcp2",
        "http://mcp.example.com/mcp",
        "https://mcp.example.com:8443/mcp",
        ["https://a.example.com", "https://b.example.com"],
        [],
    ],
)
async def test_a_token_for_another_resource_is_refused(aud: Any) -> None:
    assert "another audience" in await refused(sign(EC, aud=aud))


@pytest.mark.parametrize(
    "aud",
    [
        "https://mcp.example.com/mcp/",
        "HTTPS://MCP.EXAMPLE.COM:443/mcp",
        "https://mcp.example.com/./mcp",
    ],
)
async def test_a_token_for_another_spelling_of_the_resource_passes(aud: str) -> None:
    """One canonical form (mcpkit.auth.uris): a trailing slash, case and a default port do
    not make another resource."""
    access = await verifier().verify(sign(EC, aud=aud), resource=RESOURCE)
    assert access.audience == (aud,)


async def test_a_configured_audience_replaces_the_resource() -> None:
    token = sign(EC, aud="api://mcp")
    access = await verifier(audience="api://mcp").verify(token, resource=RESOURCE)
    assert access.audience == ("api://mcp",)
    assert "another audience" in await refused(sign(EC), audience=["api://mcp", "api://x"])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": None}, "names no audience"),
        ({"aud": 7}, "aud is not a string"),
        ({"aud": [RESOURCE, 7]}, "aud is not a string"),
        ({"iss": "https://evil.example.com"}, "another authorization server"),
        ({"iss": ISSUER + "/"}, "another authorization server"),
        ({"iss": None}, "names no issuer"),
        ({"iss": ["x"]}, "iss is not a string"),
        ({"exp": int(NOW) - 61}, "expired"),
        ({"exp": None}, "no expiry"),
        ({"exp": "tomorrow"}, "exp is not a number"),
        ({"exp": True}, "exp is not a number"),
        ({"nbf": int(NOW) + 61}, "not valid yet"),
        ({"iat": int(NOW) + 61}, "issued in the future"),
        ({"scope": 3}, "scope is not a string"),
        ({"scope": None, "scp": [1]}, "scp is not a string"),
        ({"sub": 42}, "sub is not a string"),
        ({"client_id": {"x": 1}}, "client_id is not a string"),
    ],
)
async def test_bad_claims_are_refused(changes: dict[str, Any], reason: str) -> None:
    assert reason in await refused(sign(EC, **changes))


@pytest.mark.parametrize(
    "changes",
    [{"exp": int(NOW) - 59}, {"nbf": int(NOW) + 59}, {"iat": int(NOW) + 59}, {"exp": NOW + 0.5}],
)
async def test_the_leeway_absorbs_clock_differences(changes: dict[str, Any]) -> None:
    access = await verifier().verify(sign(EC, **changes), resource=RESOURCE)
    assert access.subject == "alice"
    assert "expired" in await refused(sign(EC, exp=int(NOW) - 1), leeway=0)


async def test_the_issuer_may_follow_the_resource() -> None:
    def origin_of(resource: str) -> str:
        return resource.removesuffix("/mcp")

    token = sign(EC, iss="http://localhost:8000", aud="http://localhost:8000/mcp")
    checking = verifier(issuer=origin_of)
    access = await checking.verify(token, resource="http://localhost:8000/mcp")
    assert access.issuer == "http://localhost:8000"
    with pytest.raises(InvalidToken, match=r"not http://127\.0\.0\.1:8000"):
        await checking.verify(token, resource="http://127.0.0.1:8000/mcp")


async def test_a_token_expires_by_the_injected_clock() -> None:
    clock = FixedClock()
    checking = verifier(clock=clock, leeway=0)
    token = sign(EC)
    await checking.verify(token, resource=RESOURCE)
    clock.advance(300)
    with pytest.raises(InvalidToken, match="expired"):
        await checking.verify(token, resource=RESOURCE)


async def test_a_signature_by_another_key_with_the_same_kid_is_refused() -> None:
    assert "bad signature" in await refused(sign(EC_OTHER))


async def test_changed_claims_break_the_signature() -> None:
    header, _, signature = sign(EC).split(".")
    forged = f"{header}.{b64(claims(scope='admin'))}.{signature}"
    assert "bad signature" in await refused(forged)


async def test_alg_none_is_never_accepted() -> None:
    token = unsigned({"alg": "none", "kid": "ec-1", "typ": "at+jwt"}, claims())
    assert "alg none" in await refused(token)
    assert "alg none" in await refused(token + "c2ln")
    with pytest.raises(ValueError, match="none"):
        verifier(algorithms=["ES256", "none"])


async def test_hmac_keyed_with_the_public_key_is_refused() -> None:
    # The classic confusion attack, against the default allow-list and against a verifier
    # that does allow HS256 (with its own secret): the RSA key never checks an HMAC.
    token = hmac_with_public_key(RSA, "rsa-1")
    assert "not allowed" in await refused(token)
    secret = OctKey.generate_key(256, parameters={"kid": "hs-1"})
    both = {"keys": [*KEYS["keys"], secret.as_dict(private=True)]}
    assert "unknown key" in await refused(token, jwks=both, algorithms=["HS256", "RS256"])


async def test_hmac_works_only_with_a_secret_given_directly() -> None:
    secret = OctKey.generate_key(256, parameters={"kid": "hs-1"})
    shared = {"keys": [secret.as_dict(private=True)]}
    checking = verifier(jwks=shared, algorithms=["HS256"])
    access = await checking.verify(sign(secret, "HS256"), resource=RESOURCE)
    assert access.subject == "alice"
    # A secret alone with the default allow-list (no HMAC) is a mistake, said at once.
    with pytest.raises(ValueError, match="lists an HMAC algorithm"):
        verifier(jwks=shared)
    mixed = {"keys": [*KEYS["keys"], secret.as_dict(private=True)]}
    assert "not allowed" in await refused(sign(secret, "HS256"), jwks=mixed)
    with pytest.raises(ValueError, match="public keys only"):
        JwtVerifier(issuer=ISSUER, jwks_url="https://a.example/jwks", algorithms=["HS256"])


async def test_an_algorithm_outside_the_allow_list_is_refused() -> None:
    description = await refused(sign(RSA, "RS256"), algorithms=["ES256"])
    assert description == "the token's algorithm is not allowed here (allowed: ES256)"
    weird = unsigned({"alg": "X" * 300, "kid": "ec-1"}, claims(), b"sig")
    assert "not allowed" in await refused(weird)


async def test_a_key_that_does_not_fit_the_algorithm_is_not_used() -> None:
    # kid names the EC key, the header claims RS256: no key fits, whatever the signature.
    rsa_signed = sign(RSA, "RS256")
    header = b64({"alg": "RS256", "kid": "ec-1", "typ": "at+jwt"})
    assert "unknown key" in await refused(f"{header}.{rsa_signed.split('.', 1)[1]}")
    # A JWK that names its own algorithm checks only that one (RFC 7517 section 4.4).
    pinned = RSAKey.import_key(RSA.as_dict(private=False), parameters={"alg": "RS256"})
    assert "unknown key" in await refused(sign(RSA, "PS256"), jwks=jwks(pinned))


async def test_keys_for_encryption_are_not_used() -> None:
    enc = ECKey.import_key(EC.as_dict(private=False), parameters={"use": "enc"})
    with pytest.raises(ValueError, match="no usable signing key"):
        verifier(jwks=jwks(enc))
    assert "unknown key" in await refused(sign(EC), jwks=jwks(enc, RSA))


async def test_the_kid_picks_the_key_and_may_be_left_out_with_one_key() -> None:
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"})
    assert "unknown key" in await refused(sign(stranger))
    no_kid = sign(EC, header={"kid": None})
    access = await verifier(jwks=jwks(EC)).verify(no_kid, resource=RESOURCE)
    assert access.subject == "alice"
    two = jwks(EC, ECKey.generate_key("P-256", parameters={"kid": "ec-2"}))
    assert "names no key" in await refused(no_kid, jwks=two)
    bad_kid = unsigned({"alg": "ES256", "kid": 5}, claims(), b"sig")
    assert "kid is not a string" in await refused(bad_kid)


async def test_required_scopes_are_insufficient_scope_not_invalid_token() -> None:
    checking = verifier(required_scopes=["mcp:read", "mcp:admin"])
    with pytest.raises(InsufficientScope) as caught:
        await checking.verify(sign(EC), resource=RESOURCE)
    assert caught.value.error == "insufficient_scope"
    assert caught.value.scopes == ("mcp:admin", "mcp:read")
    assert caught.value.description == "the token lacks scope mcp:admin"
    enough = verifier(required_scopes=["mcp:read"])
    assert (await enough.verify(sign(EC), resource=RESOURCE)).subject == "alice"


GARBAGE = [
    "",
    "garbage",
    "a.b",
    "a.b.c",
    "a.b.c.d",
    "..",
    "é.é.é",
    "a.b.c.d.e",
    f"{b64(b'not json')}.{b64(claims())}.c2ln",
    f"{b64([1, 2])}.{b64(claims())}.c2ln",
    f"{b64(b'[')}.{b64(claims())}.c2ln",
    f"{b64(b'[' * 5000 + b']' * 5000)}.{b64(claims())}.c2ln",
    f"{b64({'alg': 'ES256', 'kid': 'ec-1'})}.!!!.c2ln",
    unsigned({"alg": 5, "kid": "ec-1"}, claims()),
    unsigned({"kid": "ec-1"}, claims()),
    unsigned({"alg": "ES256", "kid": "ec-1"}, b"not json", b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1"}, [1, 2, 3], b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1"}, b"[" * 5000 + b"]" * 5000, b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1", "crit": ["exp"], "exp": 1}, claims(), b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1", "crit": 5}, claims(), b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1", "b64": False, "crit": ["b64"]}, claims(), b"s"),
    f"{b64({'alg': 'ES256', 'kid': 'ec-1'})}..c2ln",
    unsigned({"alg": "ES256", "kid": "ec-1", "typ": 3}, claims(), b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1", "jku": 3}, claims(), b"sig"),
    unsigned({"alg": "ES256", "kid": "ec-1"}, claims(), b"x" * 64),
    sign(EC)[:-3] + "+/=",
]


@pytest.mark.parametrize("token", GARBAGE)
async def test_garbage_is_refused_as_invalid_token(token: str) -> None:
    assert await refused(token)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "payload is not JSON"),
        (b"[1, 2]", "payload is not a JSON object"),
        (b'"claims"', "payload is not a JSON object"),
        (b"[" * 4000 + b"]" * 4000, "payload is not JSON"),
    ],
)
async def test_a_signed_payload_that_is_not_claims_is_refused(payload: bytes, reason: str) -> None:
    assert reason in await refused(sign_payload(EC, payload), max_token_bytes=64 * 1024)


async def test_a_large_header_is_fine_within_the_limit() -> None:
    access = await verifier().verify(sign(EC, header={"x5t": "x" * 2000}), resource=RESOURCE)
    assert access.subject == "alice"


async def test_a_one_megabyte_token_is_refused_unread() -> None:
    token = sign(EC, padding="x" * 1024 * 1024)
    checking = verifier()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with pytest.raises(InvalidToken, match="over 16384 bytes"):
            await checking.verify(token, resource=RESOURCE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 64 * 1024  # nothing the size of the token was made
    assert (await verifier(max_token_bytes=2 << 20).verify(token, resource=RESOURCE)).subject


def test_misconfiguration_is_caught_when_the_verifier_is_made() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JwtVerifier(issuer=ISSUER)
    with pytest.raises(ValueError, match="exactly one"):
        JwtVerifier(issuer=ISSUER, jwks=KEYS, jwks_url="https://a.example/jwks")
    with pytest.raises(ValueError, match="https"):
        JwtVerifier(issuer=ISSUER, jwks_url="http://auth.example.com/jwks")
    with pytest.raises(ValueError, match="unknown JWS algorithms"):
        JwtVerifier(issuer=ISSUER, jwks=KEYS, algorithms=["RS257"])
    with pytest.raises(ValueError, match="RFC 7517"):
        JwtVerifier(issuer=ISSUER, jwks={"keys": "none"})
    with pytest.raises(ValueError, match="leeway"):
        JwtVerifier(issuer=ISSUER, jwks=KEYS, leeway=-1)
    with pytest.raises(ValueError, match="not a URL"):
        JwtVerifier(issuer=ISSUER, jwks_url="https://a.example:port/jwks")
    for local in ("http://127.0.0.1:9/jwks", "http://localhost/jwks", "http://[::1]:9/jwks"):
        JwtVerifier(issuer=ISSUER, jwks_url=local)
