"""The provider's token and userinfo endpoints answered in process (httpx's mock transport),
for tests of what the front does around them: its codes, refreshes and saved grants."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import parse_qsl

import httpx
from _front_world import (
    REDIRECT,
    UPSTREAM,
    VERIFIER,
    authorize_query,
    hidden,
    query_of,
    register,
)

from mcpkit.auth.front import AuthorizationFront, FrontSettings
from mcpkit.stores.kv import MemoryKeyValueStore


class Provider:
    """The provider's token and userinfo endpoints as an httpx transport: its answers are
    what each test needs (`refresh`: an answer, or None for a provider that cannot be
    reached), so that the front's side of a refresh is what is checked."""

    def __init__(self) -> None:
        self.refresh: dict[str, object] | None = {"access_token": "up-2", "expires_in": 60}
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == "/userinfo":
            return httpx.Response(200, json={"sub": "alice"})
        form = dict(parse_qsl(request.content.decode()))
        if form["grant_type"] == "authorization_code":
            answer = {"access_token": "up-1", "refresh_token": "up-r", "expires_in": 60}
            return httpx.Response(200, json=answer)
        if self.refresh is None:
            raise httpx.ConnectError("the provider is down", request=request)
        return httpx.Response(200, json=self.refresh)


async def issued_code(http: httpx.AsyncClient, client: dict[str, Any], **query: str) -> str:
    """The front's code for `client` after the user allowed it and signed in upstream
    (`query`: more of the authorization request)."""
    page = await http.get("/authorize", params=authorize_query(client["client_id"], **query))
    form = {"request": hidden(page.text, "request"), "csrf": hidden(page.text, "csrf")}
    allowed = await http.post("/consent", data=form | {"decision": "allow"})
    state = query_of(allowed.headers["location"])["state"]
    back = await http.get("/callback", params={"code": "upstream-code", "state": state})
    return query_of(back.headers["location"])["code"]


def redemption(client: dict[str, Any], code: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": client["client_id"],
    }


async def signed_in(http: httpx.AsyncClient) -> dict[str, Any]:
    """The token answer of an MCP client that went through the whole sign-in."""
    client = await register(http, token_endpoint_auth_method="none")
    code = await issued_code(http, client)
    answer = await http.post("/token", data=redemption(client, code))
    assert answer.status_code == 200, answer.text
    return answer.json() | {"client_id": client["client_id"]}


def provider_front(
    provider: Provider,
    store: MemoryKeyValueStore | None = None,
    settings: FrontSettings | None = None,
) -> AuthorizationFront:
    """A front over `provider` (a `SlowProvider` answers through its `handle`)."""
    upstream = dataclasses.replace(UPSTREAM, userinfo_url="https://idp.example.com/userinfo")
    handler = provider.handle if isinstance(provider, SlowProvider) else provider
    transport = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kv = MemoryKeyValueStore() if store is None else store
    return AuthorizationFront(upstream, settings, store=kv, http_client=transport)


class SlowProvider(Provider):
    """`Provider` whose first refresh waits until the test opens `gate`."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.gate = asyncio.Event(), asyncio.Event()
        self.refreshes = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if b"grant_type=refresh_token" in request.content:
            self.refreshes += 1
            if self.refreshes == 1:
                self.entered.set()
                await self.gate.wait()
        return self(request)
