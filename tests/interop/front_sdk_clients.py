"""The official SDKs' OAuth clients as the authorization front's tests drive them: the
official Python SDK's `OAuthClientProvider` in this process and the TypeScript SDK's (v1 or
v2) in peers/ts_front_client.mjs, each signing in through `FormBrowser` and calling `whoami`
on command, and reporting what it asked of its provider (`authorize`, `tokens`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from form_browser import FormBrowser
from interop_harness import peer_env, require_node, require_python_sdk
from oidc_peer import WAIT

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from official_auth_client import SdkMemoryStorage, json_text

from mcpkit.auth.front import AuthorizationFront
from mcpkit.errors import InvalidToken

__all__ = ["SdkClient", "expired", "official_client", "ts_client"]

HERE = Path(__file__).resolve().parent
POLL = 0.1  # seconds between looks at the clock while a token runs out


class SdkClient(Protocol):
    """An SDK's client connected to one MCP endpoint behind the front."""

    async def call(self) -> dict[str, Any]:
        """Call `whoami`: {"whoami", "events", "access_token", "protocol_version"}."""
        ...

    def expires_at(self) -> float:
        """When the client itself deems its access token expired (0: it never checks)."""
        ...


class _OfficialClient(SdkMemoryStorage):
    """The official Python SDK's client and provider, its storage and its redirect and
    callback handlers recording what it asked for."""

    def __init__(self, browser: FormBrowser) -> None:
        super().__init__()
        self.browser = browser
        self.events: list[str] = []
        self.saved_at = 0.0
        self.answer: dict[str, list[str]] = {}
        self.session: Any = None

    async def set_tokens(self, tokens: Any) -> None:
        self.events.append("tokens")
        self.saved_at = time.time()
        await super().set_tokens(tokens)

    # The redirect and callback handlers: the test's browser signs in.
    async def redirect(self, url: str) -> None:
        self.events.append("authorize")
        self.answer = parse_qs(urlsplit(await self.browser.run(url)).query)

    async def callback(self) -> Any:
        from mcp.client.auth import AuthorizationCodeResult

        found = self.answer
        return AuthorizationCodeResult(
            code=found["code"][0], state=found["state"][0], iss=found.get("iss", [None])[0]
        )

    async def call(self) -> dict[str, Any]:
        result = await self.session.call_tool("whoami", {})
        return {
            "whoami": json_text(result),
            "events": list(self.events),
            "access_token": self.tokens.access_token,
            "protocol_version": self.session.protocol_version,
        }

    def expires_at(self) -> float:
        return self.saved_at + float(self.tokens.expires_in)


@contextlib.asynccontextmanager
async def official_client(url: str, era: str, browser: FormBrowser) -> AsyncIterator[SdkClient]:
    """The official Python SDK's `Client` over Streamable HTTP with its OAuth provider, in
    `era` (`legacy` handshake for 2025-11-25, pinned otherwise)."""
    require_python_sdk()
    import httpx2
    from mcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    driver = _OfficialClient(browser)
    metadata = OAuthClientMetadata(
        redirect_uris=[await browser.redirect_uri()],  # type: ignore[list-item]  # pydantic
        client_name="official-front",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    provider = OAuthClientProvider(url, metadata, driver, driver.redirect, driver.callback)
    mode = "legacy" if era == "2025-11-25" else era
    async with (
        httpx2.AsyncClient(auth=provider, timeout=WAIT) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as session,
    ):
        driver.session = session
        yield driver


class _TsClient:
    """peers/ts_front_client.mjs, a line at a time: its `authorize` requests are signed in by
    the test's browser, whose final redirect goes back on its stdin."""

    def __init__(self, proc: asyncio.subprocess.Process, browser: FormBrowser) -> None:
        self.proc = proc
        self.browser = browser

    async def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def call(self) -> dict[str, Any]:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        await self._send("call")
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                error = await self.proc.stderr.read()
                raise AssertionError(f"the TypeScript client ended:\n{error.decode()}")
            message: dict[str, Any] = json.loads(line)
            if "authorize" not in message:
                return message
            await self._send(await self.browser.run(message["authorize"]))

    def expires_at(self) -> float:
        return 0.0  # it refreshes when the server refuses the token


@contextlib.asynccontextmanager
async def ts_client(
    url: str, era: str, browser: FormBrowser, sdk: str = "v1"
) -> AsyncIterator[SdkClient]:
    """The TypeScript SDK's client (`sdk` v1 or v2) with its OAuth provider, in `era`."""
    proc = await asyncio.create_subprocess_exec(
        require_node(),
        str(HERE / "peers" / "ts_front_client.mjs"),
        sdk,
        era,
        url,
        await browser.redirect_uri(),
        cwd=HERE,
        env=peer_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield _TsClient(proc, browser)
        assert proc.stdin is not None
        proc.stdin.close()  # the peer ends at the end of its stdin
        async with asyncio.timeout(WAIT):
            _, error = await proc.communicate()
        assert proc.returncode == 0, error.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def expired(front: AuthorizationFront, token: str, resource: str, client: SdkClient) -> None:
    """Return once the server refuses `token` as expired and the client deems it so too."""
    strict = front.verifier(leeway=0)  # as the server behind the front checks it
    while True:
        try:
            await strict.verify(token, resource=resource)
        except InvalidToken as exc:
            assert "expired" in str(exc), exc
            if time.time() > client.expires_at():
                return
        await asyncio.sleep(POLL)
