"""Client ID metadata documents at the development authorization server (SEP-991; spec:
basic/authorization, "Client ID Metadata Documents" and its security section): a document
served by a second small ASGI app on 127.0.0.1 is fetched, checked, cached and used; every
broken or dangerous document or URL is refused with invalid_client and never redirected."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import msgspec
import pytest
from _devserver_helpers import (
    REDIRECT,
    WAIT,
    authorize,
    pkce,
    read_jwt,
    redirect_params,
    serving,
    token,
)

from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings


@dataclass
class DocumentHost:
    """An ASGI app serving one client metadata document at /client.json, as the test shapes
    it (`document(url)`), counting fetches."""

    shape: Any = None
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(default_factory=lambda: [])
    fetches: int = 0
    release: asyncio.Event | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.fetches += 1
        if self.release is not None:
            await self.release.wait()
        host = dict(scope["headers"])[b"host"].decode()
        url = f"http://{host}/client.json"
        document = self.shape(url) if self.shape is not None else good(url)
        body = document if isinstance(document, bytes) else msgspec.json.encode(document)
        headers = [(b"content-type", b"application/json"), *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def good(url: str) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Example MCP Client",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "none",
    }


#: metadata_timeout where a fetch is meant to run out of time (a host that hangs or drips);
#: anywhere else the default, which no fetch from this machine comes near however busy it is.
SHORT: Final = 1.0


@contextlib.asynccontextmanager
async def both(
    host: DocumentHost, insecure: bool = True, metadata_timeout: float | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """The authorization server and the document host running; the client and both URLs."""
    settings = DevServerSettings(allow_insecure_metadata_urls=insecure)
    if metadata_timeout is not None:
        settings = DevServerSettings(
            allow_insecure_metadata_urls=insecure, metadata_timeout=metadata_timeout
        )
    async with (
        serving(DevAuthorizationServer(settings)) as base,
        serving(host) as documents,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        yield http, base, documents + "/client.json"


async def test_a_document_client_completes_the_flow_and_is_cached() -> None:
    host = DocumentHost(headers=[(b"cache-control", b"max-age=60")])
    verifier, challenge = pkce()
    async with both(host) as (http, base, client_id):
        reply = redirect_params(await authorize(http, base, client_id, challenge))
        again = await authorize(http, base, client_id, challenge)
        answer = await token(
            http,
            base,
            grant_type="authorization_code",
            code=reply["code"],
            redirect_uri=REDIRECT,
            code_verifier=verifier,
            client_id=client_id,
        )
        claims = (await read_jwt(http, base, answer.json()["access_token"])).claims
    assert again.status_code == 302
    assert claims["client_id"] == client_id and "refresh_token" not in answer.json()
    assert host.fetches == 1


async def test_no_store_means_fetch_every_time() -> None:
    host = DocumentHost(headers=[(b"cache-control", b"no-store")])
    _, challenge = pkce()
    async with both(host) as (http, base, client_id):
        for _ in range(2):
            assert (await authorize(http, base, client_id, challenge)).status_code == 302
    assert host.fetches == 2


def refused_with(response: httpx.Response, error: str = "invalid_client") -> str:
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert response.json()["error"] == error
    description: str = response.json()["error_description"]
    return description


@pytest.mark.parametrize(
    ("shape", "status", "says"),
    [
        (lambda url: good(url) | {"client_id": url + "x"}, 200, "client_id"),
        (lambda url: good(url) | {"redirect_uris": []}, 200, "redirect_uris"),
        (
            lambda url: {k: v for k, v in good(url).items() if k != "client_name"},
            200,
            "client_name",
        ),
        (
            lambda url: good(url) | {"token_endpoint_auth_method": "client_secret_basic"},
            200,
            "none",
        ),
        (lambda url: good(url) | {"client_secret": "shared"}, 200, "none"),
        (lambda url: good(url) | {"redirect_uris": "x"}, 200, "not a valid"),
        (lambda url: b"{not json", 200, "not a valid"),
        (lambda url: b'{"jwks": {"k": ' + b"[" * 2400 + b"]" * 2400 + b"}}", 200, "nests"),
        (lambda url: good(url) | {"padding": "x" * 6000}, 200, "bytes"),
        (None, 404, "HTTP 404"),
        (None, 302, "HTTP 302"),  # redirects are not followed
    ],
)
async def test_broken_documents(shape: Any, status: int, says: str) -> None:
    _, challenge = pkce()
    async with both(DocumentHost(shape=shape, status=status)) as (http, base, client_id):
        response = await authorize(http, base, client_id, challenge)
    assert says in refused_with(response)


async def test_redirect_uri_not_in_the_document() -> None:
    _, challenge = pkce()
    async with both(DocumentHost()) as (http, base, client_id):
        response = await authorize(
            http, base, client_id, challenge, redirect_uri="https://evil.example/cb"
        )
    refused_with(response, "invalid_request")


async def test_a_host_that_never_answers_times_out() -> None:
    release = asyncio.Event()
    _, challenge = pkce()
    async with both(DocumentHost(release=release), metadata_timeout=SHORT) as (
        http,
        base,
        client_id,
    ):
        try:
            response = await authorize(http, base, client_id, challenge)
        finally:
            release.set()
    assert "no answer within" in refused_with(response)


@pytest.mark.parametrize(
    ("client_id", "says"),
    [
        ("http://127.0.0.1:1/client.json", "https"),
        ("https://127.0.0.1:1/client.json", "non-public address 127.0.0.1"),
        ("https://localhost:1/client.json", "non-public address"),
        ("https://10.1.2.3/client.json", "non-public address 10.1.2.3"),
        ("https://169.254.169.254/latest/meta-data", "non-public address"),
        ("https://[::1]/client.json", "non-public address ::1"),
        ("https://example.com", "path"),
        ("https://user:pw@example.com/client.json", "credentials"),
        ("https://example.com/a/../client.json", "dot segments"),
        ("https://example.com:99999/client.json", "not a URL"),
    ],
)
async def test_urls_refused_without_the_insecure_setting(client_id: str, says: str) -> None:
    """SSRF ("Client ID Metadata Document Security"): nothing is fetched from these."""
    _, challenge = pkce()
    async with both(DocumentHost(), insecure=False) as (http, base, _):
        response = await authorize(http, base, client_id, challenge)
    assert says in refused_with(response)


# A gzip document that inflates to 20 MiB: made once, outside what the test measures.
BOMB = gzip.compress(b'{"client_name": "' + b"x" * (20 * 1024 * 1024) + b'"}')


class Bomb(DocumentHost):
    """A gzip document that inflates to 20 MiB (the limit is 5 KiB)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.fetches += 1
        body = BOMB
        headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Drip(DocumentHost):
    """A good document sent one byte every 0.2 s: each read is quick, the whole is not."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.fetches += 1
        host = dict(scope["headers"])[b"host"].decode()
        body = msgspec.json.encode(good(f"http://{host}/client.json"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for byte in body[:40]:  # bounded: 40 bytes, 8 s, far past metadata_timeout
            await send({"type": "http.response.body", "body": bytes([byte]), "more_body": True})
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b""})


async def test_a_compressed_document_is_never_inflated() -> None:
    # Issue 19: a 57 KB gzip document inflated before the 5 KiB limit (+122 MB per request).
    _, challenge = pkce()
    async with both(Bomb()) as (http, base, client_id):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            response = await authorize(http, base, client_id, challenge)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    assert "compressed (gzip)" in refused_with(response)
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"  # the bomb itself is 20 KiB


async def test_a_dripped_document_is_cut_at_metadata_timeout_in_all() -> None:
    # Issue 19: a byte every 2 s was held 38 s despite metadata_timeout=5 (a per-read timeout).
    _, challenge = pkce()
    async with both(Drip(), metadata_timeout=SHORT) as (http, base, client_id):
        response = await authorize(http, base, client_id, challenge)
    # Over the whole exchange, not per byte: each read is quick, so a per-read timeout would
    # have let the whole document through after 8 s and the client in.
    assert "no answer within 1.0 s" in refused_with(response)


@pytest.mark.parametrize(
    "uri", ["http://evil.example/cb", "javascript:alert(1)//", "ftp://files.example/cb"]
)
async def test_a_document_naming_a_redirect_the_policy_refuses_is_refused(uri: str) -> None:
    # Issue 19: /authorize answered 302 to http://evil.example/cb, and to
    # `Location: javascript:alert(1)//?code=...`, because the document listed them.
    _, challenge = pkce()
    host = DocumentHost(shape=lambda url: good(url) | {"redirect_uris": [uri]})
    async with both(host) as (http, base, client_id):
        response = await authorize(http, base, client_id, challenge, redirect_uri=uri)
    assert response.status_code == 400 and "location" not in response.headers
    assert "must be https, http on a loopback host" in refused_with(response)


@contextlib.asynccontextmanager
async def bounded(
    host: DocumentHost, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """`both`, with fetch settings of the test's own."""
    policy = DevServerSettings(allow_insecure_metadata_urls=True, **settings)
    async with (
        serving(DevAuthorizationServer(policy)) as base,
        serving(host) as documents,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        yield http, base, documents + "/client.json"


async def test_requests_for_a_document_being_fetched_share_one_fetch() -> None:
    release = asyncio.Event()
    host = DocumentHost(release=release, headers=[(b"cache-control", b"no-store")])
    _, challenge = pkce()
    async with asyncio.timeout(WAIT), bounded(host) as (http, base, client_id):
        asked = [
            asyncio.create_task(authorize(http, base, client_id, challenge)) for _ in range(12)
        ]
        while host.fetches == 0:  # bounded by the timeout above
            await asyncio.sleep(0.01)
        release.set()
        answers = await asyncio.gather(*asked)
    assert [answer.status_code for answer in answers] == [302] * 12
    assert host.fetches == 1


async def test_past_metadata_max_fetches_a_request_is_told_to_come_back() -> None:
    release = asyncio.Event()
    host = DocumentHost(release=release)
    _, challenge = pkce()
    async with (
        asyncio.timeout(WAIT),
        bounded(host, metadata_max_fetches=2) as (
            http,
            base,
            client_id,
        ),
    ):
        held = [
            asyncio.create_task(authorize(http, base, f"{client_id}?{n}", challenge))
            for n in range(2)
        ]
        while host.fetches < 2:  # bounded by the timeout above
            await asyncio.sleep(0.01)
        try:
            third = await authorize(http, base, client_id, challenge)
        finally:
            release.set()
        await asyncio.gather(*held)
        after = await authorize(http, base, client_id, challenge)
    assert third.status_code == 503, third.text
    assert third.headers["retry-after"] == "5"
    assert third.json()["error"] == "temporarily_unavailable"
    assert "metadata_max_fetches" in third.json()["error_description"]
    assert after.status_code == 302


async def test_a_refused_document_is_refused_again_without_a_fetch() -> None:
    host = DocumentHost(status=404)
    _, challenge = pkce()
    async with asyncio.timeout(WAIT), bounded(host) as (http, base, client_id):
        answers = [await authorize(http, base, client_id, challenge) for _ in range(5)]
    assert all("HTTP 404" in refused_with(answer) for answer in answers)
    assert host.fetches == 1
