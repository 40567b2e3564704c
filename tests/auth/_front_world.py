"""A front in process (httpx's ASGI transport, a memory store) whose provider is never
reached: for the refusals the front makes on its own, before or without the provider."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mcpkit.auth.front import AuthorizationFront, FrontSettings, UpstreamProvider
from mcpkit.stores.kv import MemoryKeyValueStore

BASE = "http://127.0.0.1:8000"
REDIRECT = "http://127.0.0.1:7000/cb"
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")
UPSTREAM = UpstreamProvider(
    name="Example IdP",
    authorize_url="https://idp.example.com/authorize",
    token_url="https://idp.example.com/token",
    client_id="front-at-idp",
    client_secret="s3cret",
    scopes=("openid",),
)


def make_front(settings: FrontSettings | None = None, **kwargs: Any) -> AuthorizationFront:
    return AuthorizationFront(UPSTREAM, settings, store=MemoryKeyValueStore(), **kwargs)


def browser(front: AuthorizationFront, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=front, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def register(http: httpx.AsyncClient, **metadata: Any) -> dict[str, Any]:
    body = {"client_name": "Weather desk", "redirect_uris": [REDIRECT]} | metadata
    answer = await http.post("/register", json=body)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def authorize_query(client_id: str, **overrides: str | None) -> dict[str, str]:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        "state": "xyz",
    } | overrides
    return {name: value for name, value in query.items() if value is not None}


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
