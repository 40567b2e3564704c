"""DPoP at the resource server (RFC 9449 sections 4.3 and 7), over real uvicorn on 127.0.0.1
with proofs built by hand: a bound token is accepted only with a proof of its key for this
request, each refusal is a 401 naming what was wrong in a DPoP challenge, and every 401
offers the DPoP scheme with its algorithms beside Bearer."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from _dpop_world import (
    CLIENT_KEY,
    OTHER_KEY,
    dpop_headers,
    dpop_server,
    hand_made,
    proof,
    thumbprint,
    token,
)
from _serving import INITIALIZE, WAIT, messages_of, serving

from mcpkit.auth.server.dpop import DPOP_ALGORITHMS
from mcpkit.auth.server.resource import ProtectedResource

ALGS = f'algs="{" ".join(DPOP_ALGORITHMS)}"'


def challenges(response: httpx.Response) -> dict[str, str]:
    """The WWW-Authenticate values by scheme."""
    return {value.split(" ")[0]: value for value in response.headers.get_list("www-authenticate")}


async def test_a_bound_token_with_a_proof_of_its_key_is_accepted() -> None:
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        tok = token(url)
        opened = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", url, tok))
        )
        assert opened.status_code == 200, opened.text
        sid = opened.headers["mcp-session-id"]
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}}
        again = dpop_headers(tok, proof("POST", url, tok), session=sid)
        answer = await http.post(url, json=call, headers=again)
    assert answer.status_code == 200, answer.text
    text = messages_of(answer)[0]["result"]["content"][0]["text"]
    assert text == f"alice {thumbprint(CLIENT_KEY)}"


async def test_a_bearer_token_still_works_and_every_401_offers_both_schemes() -> None:
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        plain = token(url, bound_to=None)
        accepted = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(plain, scheme="Bearer")
        )
        anonymous = await http.post(url, json=INITIALIZE, headers=dpop_headers(None))
        document = (await http.get(base + "/.well-known/oauth-protected-resource/mcp")).json()
    assert accepted.status_code == 200, accepted.text
    assert anonymous.status_code == 401
    metadata = f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
    assert challenges(anonymous) == {
        "Bearer": f'Bearer scope="mcp", {metadata}',
        "DPoP": f'DPoP scope="mcp", {metadata}, {ALGS}',
    }
    assert document["dpop_signing_alg_values_supported"] == list(DPOP_ALGORITHMS)
    assert "dpop_bound_access_tokens_required" not in document


async def test_a_bound_token_without_a_proof_is_refused() -> None:
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        tok = token(url)
        as_bearer = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(tok, scheme="Bearer")
        )
        no_proof = await http.post(url, json=INITIALIZE, headers=dpop_headers(tok))
    assert as_bearer.status_code == no_proof.status_code == 401
    said = challenges(as_bearer)
    assert said["DPoP"].startswith(
        'DPoP error="invalid_token", error_description="the token is DPoP-bound'
    )
    assert "error" not in said["Bearer"]  # the error is the scheme's, not the token's
    assert challenges(no_proof)["DPoP"].startswith('DPoP error="invalid_dpop_proof"')


# Each refusal: the proof, given the URL and the token; words of the reason it is refused.
REFUSALS: dict[str, tuple[Callable[[str, str], str], str]] = {
    "wrong htm": (lambda url, tok: proof("GET", url, tok), "htm"),
    "wrong htu": (lambda url, tok: proof("POST", url + "/other", tok), "htu"),
    "htu of another host": (
        lambda url, tok: proof("POST", url.replace("127.0.0.1", "localhost"), tok),
        "htu",
    ),
    "stale iat": (lambda url, tok: proof("POST", url, tok, iat=int(time.time()) - 600), "stale"),
    "iat in the future": (
        lambda url, tok: proof("POST", url, tok, iat=int(time.time()) + 600),
        "future",
    ),
    "no iat": (lambda url, tok: proof("POST", url, tok, iat=None), "iat"),
    "wrong ath": (lambda url, tok: proof("POST", url, tok + "x"), "ath"),
    "no ath": (lambda url, tok: proof("POST", url, None), "ath"),
    "no jti": (lambda url, tok: proof("POST", url, tok, jti=None), "jti"),
    "key of another client": (
        lambda url, tok: proof("POST", url, tok, key=OTHER_KEY),
        "another key",
    ),
    "private key in the jwk": (
        lambda url, tok: proof("POST", url, tok, jwk=CLIENT_KEY.as_dict(private=True)),
        "private key",
    ),
    "signed by another key than its jwk": (
        lambda url, tok: proof(
            "POST", url, tok, key=OTHER_KEY, jwk=CLIENT_KEY.as_dict(private=False)
        ),
        "bad signature",
    ),
    "alg none": (lambda url, tok: hand_made("POST", url, tok, "none"), "algorithm"),
    "alg HS256": (lambda url, tok: hand_made("POST", url, tok, "HS256"), "algorithm"),
    "typ JWT": (lambda url, tok: proof("POST", url, tok, header={"typ": "JWT"}), "typ"),
    "no jwk": (lambda url, tok: proof("POST", url, tok, header={"jwk": None}), "jwk"),
    "garbage": (lambda url, tok: "not.a.proof", "malformed"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_each_bad_proof_gets_401_invalid_dpop_proof(case: str) -> None:
    make, reason = REFUSALS[case]
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        tok = token(url)
        refused = await http.post(url, json=INITIALIZE, headers=dpop_headers(tok, make(url, tok)))
        # The same token with a good proof still works: nothing was spent by the refusal.
        accepted = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", url, tok))
        )
    assert refused.status_code == 401, case
    said = challenges(refused)["DPoP"]
    assert said.startswith('DPoP error="invalid_dpop_proof", error_description="'), said
    assert reason in said and said.endswith(ALGS)
    assert refused.json()["error"] == "invalid_dpop_proof"
    assert accepted.status_code == 200


async def test_a_proof_is_used_once() -> None:
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        tok = token(url)
        once = proof("POST", url, tok)
        first = await http.post(url, json=INITIALIZE, headers=dpop_headers(tok, once))
        replayed = await http.post(url, json=INITIALIZE, headers=dpop_headers(tok, once))
    assert first.status_code == 200
    assert replayed.status_code == 401
    assert "used already" in challenges(replayed)["DPoP"]


async def test_two_dpop_headers_or_an_unbound_token_as_dpop_are_refused() -> None:
    async with serving(dpop_server().http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        tok = token(url)
        found = dpop_headers(tok)
        two = [(k, v) for k, v in found.items()] + [
            ("dpop", proof("POST", url, tok)),
            ("dpop", proof("POST", url, tok)),
        ]
        doubled = await http.post(url, json=INITIALIZE, headers=two)
        plain = token(url, bound_to=None)
        unbound = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(plain, proof("POST", url, plain))
        )
    assert doubled.status_code == unbound.status_code == 401
    assert "exactly one DPoP header" in challenges(doubled)["DPoP"]
    assert challenges(unbound)["DPoP"].startswith('DPoP error="invalid_token"')
    assert "not DPoP-bound" in challenges(unbound)["DPoP"]


async def test_dpop_required_refuses_bearer_and_says_so_in_the_metadata() -> None:
    server = dpop_server(dpop="required", dpop_algorithms=["ES256"])
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        plain = token(url, bound_to=None)
        as_bearer = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(plain, scheme="Bearer")
        )
        tok = token(url)
        bound = await http.post(
            url, json=INITIALIZE, headers=dpop_headers(tok, proof("POST", url, tok))
        )
        document = (await http.get(base + "/.well-known/oauth-protected-resource/mcp")).json()
    assert as_bearer.status_code == 401 and bound.status_code == 200
    (only,) = as_bearer.headers.get_list("www-authenticate")
    assert only.startswith('DPoP error="invalid_token"') and only.endswith('algs="ES256"')
    assert document["dpop_bound_access_tokens_required"] is True
    assert document["dpop_signing_alg_values_supported"] == ["ES256"]


def test_settings_that_would_weaken_dpop_are_refused() -> None:
    server = dpop_server()
    verifier = server.auth.verifier if server.auth is not None else None
    assert verifier is not None
    for algorithms in (["HS256"], ["none"], [], "ES256"):
        with pytest.raises(ValueError, match="dpop_algorithms"):
            ProtectedResource(verifier=verifier, dpop_algorithms=algorithms)
    with pytest.raises(ValueError, match="dpop must be"):
        ProtectedResource(verifier=verifier, dpop="off")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dpop_max_age"):
        ProtectedResource(verifier=verifier, dpop_max_age=0)
