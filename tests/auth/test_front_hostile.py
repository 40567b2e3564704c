"""A hostile review of the authorization front (issue 43, session 7): redirect URIs that a
browser reads otherwise than the checks do, ID tokens issued to another client, reprs,
cookies, metadata documents fetched after DNS rebinding, answers naming their settings.
(Requests that cross: test_front_grant_races.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from _front_upstream import Provider, provider_front, signed_in
from _front_world import (
    REDIRECT,
    UPSTREAM,
    authorize_query,
    browser,
    hidden,
    make_front,
    register,
)
from test_front_entra_tenants import HOME, Entra, entra_common, sign_in, signed_in_by

from mcpkit.auth.devserver.cimd import MetadataDocuments
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.devserver.redirects import is_acceptable, matches
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.front import FrontSettings
from mcpkit.auth.front.signin import BROWSER_COOKIE
from mcpkit.auth.front.state import Grant, Pending, UpstreamTokens
from mcpkit.auth.metadata import ClientInformation, TokenResponse

WAIT = 5.0

# Each names another host to a browser (WHATWG URL) than to urlsplit, or hides one.
TWO_FACED = [
    "http://evil.example\\@127.0.0.1:7000/cb",  # a browser goes to evil.example
    "http://evil.example\\@127.0.0.1/cb",
    "http://user@127.0.0.1:7000/cb",
    "https://good.example@evil.example/cb",
    "https://evil%2Eexample/cb",
    "https://good.example./cb",
    "https://good .example/cb",
    "https://good.example/c\tb",
    "https://good.example/cb\r\nx",
]


@pytest.mark.parametrize("uri", TWO_FACED)
def test_a_redirect_uri_read_otherwise_by_a_browser_is_never_acceptable(uri: str) -> None:
    assert not is_acceptable(uri)
    assert not matches(uri, [uri, "http://127.0.0.1/cb", "http://127.0.0.1:7000/cb"])


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:7000/cb",
        "http://[::1]:7000/cb",
        "http://localhost/cb",
        "https://app.example/cb?tenant=1",
        "com.example.app:/cb",
        "com.example.app://oauth/cb",
    ],
)
def test_plain_redirect_uris_stay_acceptable(uri: str) -> None:
    assert is_acceptable(uri)


async def test_a_loopback_client_is_never_sent_elsewhere_through_a_backslash() -> None:
    # The client registered http://127.0.0.1:7000/cb; the attacker's link names the same
    # client with a redirect a browser follows to evil.example, and a challenge of its own.
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
        answers = [
            await http.get(
                "/authorize", params=authorize_query(client["client_id"], redirect_uri=uri)
            )
            for uri in ("http://evil.example\\@127.0.0.1:7000/cb", "http://u@127.0.0.1:7000/cb")
        ]
        registration = await http.post(
            "/register",
            json={"client_name": "x", "redirect_uris": [REDIRECT, TWO_FACED[0]]},
        )
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert "location" not in answer.headers and "Allow" not in answer.text
    assert registration.status_code == 400
    assert registration.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    ("claims", "passes"),
    [
        ({"aud": ["front-client", "other-app"], "azp": "other-app"}, False),
        ({"aud": ["front-client", "other-app"]}, False),  # several audiences, no azp
        ({"azp": "other-app"}, False),
        ({"aud": ["front-client", "other-app"], "azp": "front-client"}, True),
        ({"azp": "front-client"}, True),
    ],
)
async def test_an_id_token_issued_to_another_client_signs_no_one_in(
    claims: dict[str, Any], passes: bool
) -> None:
    provider = entra_common(allowed_tenants=[HOME])
    reply = await sign_in(provider, Entra(signed_in_by(HOME) | claims))
    if passes:
        assert "sub" in reply, reply
    else:
        assert reply["error"] == "access_denied"
        assert "issued to another client (azp" in reply["error_description"]


def test_reprs_never_show_a_credential() -> None:
    upstream = UpstreamTokens(access_token="up-access", refresh_token="up-refresh")
    shown = [
        repr(upstream),
        repr(Grant(client_id="c", subject="s", scopes=[], resource="r", upstream=upstream)),
        repr(
            Pending(
                client_id="c", redirect_uri=REDIRECT, redirect_uri_given=True, state=None,
                challenge="x", scopes=[], resource="r", browser="b", csrf="the-csrf",
                verifier="the-verifier",
            )
        ),
        repr(ClientInformation(client_id="c", client_secret="client-secret")),
        repr(TokenResponse(access_token="at", token_type="Bearer", refresh_token="rt")),
    ]  # fmt: skip
    for secret in ("up-access", "up-refresh", "the-csrf", "the-verifier", "client-secret", "'at'"):
        assert not any(secret in text for text in shown), secret
    assert "refresh_token='...'" in shown[0] and "client_id='c'" in shown[3]
    assert "token_type='Bearer'" in shown[4] and "scope=None" in shown[4]


async def test_a_full_budget_and_an_unreachable_provider_name_their_setting() -> None:
    provider = Provider()
    front = provider_front(provider)
    async with asyncio.timeout(WAIT), browser(front) as http:
        tokens = await signed_in(http)
        provider.refresh = None
        refresh = {"refresh_token": tokens["refresh_token"], "client_id": tokens["client_id"]}
        down = await http.post("/token", data=refresh | {"grant_type": "refresh_token"})
    small = make_front(FrontSettings(max_bytes_per_source=3000))
    async with asyncio.timeout(WAIT), browser(small) as http:
        answers = [
            await http.post("/register", json={"redirect_uris": [REDIRECT]}) for _ in "12345678"
        ]
    full = answers[-1]
    assert down.status_code == 503
    assert "FrontSettings.upstream_timeout" in down.json()["error_description"]
    assert full.status_code == 429
    assert "FrontSettings.max_bytes_per_source" in full.json()["error_description"]


@pytest.mark.parametrize(
    ("issuer", "base", "secure"),
    [
        (None, "http://127.0.0.1:8000", False),  # local development over http
        (None, "https://127.0.0.1:8000", True),
        ("https://front.example", "http://127.0.0.1:8000", True),  # TLS ended at a proxy
    ],
)
async def test_the_browser_cookie_is_secure_whenever_the_browser_uses_https(
    issuer: str | None, base: str, secure: bool
) -> None:
    front = make_front(FrontSettings(issuer=issuer))
    transport = httpx.ASGITransport(app=front, client=("127.0.0.1", 40000))
    async with asyncio.timeout(WAIT), httpx.AsyncClient(transport=transport, base_url=base) as http:
        client = await register(http)
        page = await http.get("/authorize", params=authorize_query(client["client_id"]))
    assert page.status_code == 200, page.text
    cookie = [part.strip() for part in page.headers["set-cookie"].split(";")]
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(cookie)
    assert ("Secure" in cookie) == secure


@pytest.mark.parametrize(
    ("url", "address", "netloc"),
    [
        ("https://rebind.example/client.json", "93.184.216.34", "93.184.216.34"),
        ("https://rebind.example:8443/c.json", "2606:2800:21f::1", "[2606:2800:21f::1]:8443"),
    ],
)
async def test_a_metadata_document_is_fetched_from_the_address_checked(
    monkeypatch: pytest.MonkeyPatch, url: str, address: str, netloc: str
) -> None:
    """DNS rebinding: the name resolved once, to a public address, and the fetch sent there,
    not wherever a second resolution (httpx's own) would point, such as 127.0.0.1."""

    async def resolve(host: str, port: int, **_: object) -> list[tuple[Any, ...]]:
        assert host == "rebind.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    sent: list[httpx.Request] = []

    async def send(_: httpx.AsyncClient, request: httpx.Request, **__: object) -> httpx.Response:
        sent.append(request)
        document = {"client_id": url, "client_name": "R", "redirect_uris": [REDIRECT]}
        return httpx.Response(200, json=document, request=request)

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    documents = MetadataDocuments(DevServerSettings(), time.time)
    async with asyncio.timeout(WAIT):
        found = await documents.get(url)
    assert found.client_id == url and len(sent) == 1
    assert sent[0].url.netloc.decode() == netloc and sent[0].url.path == urlsplit(url).path
    assert sent[0].headers["host"] == urlsplit(url).netloc  # the server sees its own name
    assert sent[0].extensions["sni_hostname"] == "rebind.example"  # TLS verified for it


@pytest.mark.parametrize(
    "others",
    [
        'prefs={"theme":"dark","n":1}',  # a JSON value, as consent managers write
        "greeting=hello world",
        'broken="unterminated',
    ],
)
async def test_the_sites_other_cookies_never_hide_the_browser_cookie(others: str) -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
        page = await http.get("/authorize", params=authorize_query(client["client_id"]))
        ours = http.cookies[BROWSER_COOKIE]
        http.cookies.clear()
        form = {"request": hidden(page.text, "request"), "csrf": hidden(page.text, "csrf")}
        allowed = await http.post(
            "/consent",
            data=form | {"decision": "allow"},
            headers={"cookie": f"{others}; {BROWSER_COOKIE}={ours}"},
        )
    assert allowed.status_code == 303, allowed.text
    assert allowed.headers["location"].startswith(UPSTREAM.authorize_url + "?")


async def test_a_client_id_does_not_tell_the_address_that_registered_it() -> None:
    """The tag a client ID (and every code and token) starts with is keyed: not a plain
    hash of the address, which trying every IPv4 address undoes; the same in every worker
    holding the key, so that their per-address budgets agree."""
    key = SigningKey()
    ids = []
    for front in (make_front(key=key), make_front(key=key), make_front()):
        async with asyncio.timeout(WAIT), browser(front, "203.0.113.5") as http:
            ids.append((await register(http))["client_id"].partition(".")[0])
    plain = hashlib.sha256(b"203.0.113.5").hexdigest()[:16]
    assert ids[0] == ids[1] != ids[2] and plain not in ids


def test_a_key_file_others_may_read_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner_only, shared = tmp_path / "owner.pem", tmp_path / "shared.pem"
    SigningKey().save(owner_only)
    shared.write_bytes(owner_only.read_bytes())
    shared.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="mcpkit.auth"):
        assert SigningKey.load(owner_only).kid
        assert not caplog.records
        assert SigningKey.load(str(shared)).kid == SigningKey.load(owner_only).kid
    assert [record.getMessage() for record in caplog.records] == [
        f"the signing key file {shared} may be read or changed by others than its owner "
        "(mode 0644): chmod 600 it"
    ]
