"""The npm `oidc-provider` peer (peers/oidc_provider.mjs) as a test drives it: started on
127.0.0.1, its issuer, client-credentials tokens, key rotation, clients registered for the
authorization code flow; every wait bounded, the process ended with its stdin."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from interop_harness import require_node

__all__ = ["SERVICE", "SHORT_LIVED", "WAIT", "OidcProvider"]

HERE = Path(__file__).resolve().parent
WAIT = 10.0  # seconds: a bound on one exchange with the provider, not a measurement
SERVICE = ("mcp-service", "mcp-service-secret")  # scopes `mcp admin`, tokens for 300 s
SHORT_LIVED = ("short-lived", "short-lived-secret")  # scope `mcp`, tokens for 5 s


def _pump(stream: IO[str], into: queue.Queue[str] | list[str]) -> None:
    put = into.put if isinstance(into, queue.Queue) else into.append
    for line in stream:
        put(line)


class OidcProvider:
    """The peer process: its issuer, tokens from its token endpoint, and key rotation."""

    def __init__(self) -> None:
        node = require_node()
        if not (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
            pytest.fail(
                "tests/interop/node_modules lacks oidc-provider (tests/interop/package.json "
                "names it): run scripts/test, which runs `npm ci` there when a package is "
                "missing, or `(cd tests/interop && npm ci)`"
            )
        self.proc = subprocess.Popen(
            [node, str(HERE / "peers" / "oidc_provider.mjs")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []  # drained, so the pipe never fills
        self._pumps = [
            threading.Thread(target=_pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self._lines), (self.proc.stderr, self.errors))
        ]
        for pump in self._pumps:
            pump.start()
        try:
            started = self._answer()
        except BaseException:  # (a peer that never started is ended, not left to the collector)
            self.close()
            raise
        self.issuer: str = started["issuer"]
        self.kids: list[str] = started["kids"]

    def _answer(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"oidc-provider said nothing within {WAIT} s:\n{''.join(self.errors)}")
        found: dict[str, Any] = json.loads(line)
        return found

    def command(self, name: str) -> list[str]:
        """`rotate` or `retire` (see the peer); the kids it then publishes, signing one first."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        self.kids = self._answer()["kids"]
        return self.kids

    async def token(
        self, resource: str, scope: str = "mcp admin", client: tuple[str, str] = SERVICE
    ) -> str:
        """An access token for `resource` by the client credentials grant (RFC 6749 4.4)."""
        async with httpx.AsyncClient(timeout=WAIT) as http:
            found = await http.get(self.issuer + "/.well-known/openid-configuration")
            answer = await http.post(
                found.json()["token_endpoint"],
                data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
                auth=client,
            )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["scope"] == scope
        token: str = body["access_token"]
        return token

    def register_client(self, redirect_uris: list[str], **fields: Any) -> str:
        """Register a confidential authorization-code client (`front` / `front-secret`
        unless `fields` say otherwise) redirecting to `redirect_uris`; its client_id."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(
            "client " + json.dumps({"redirect_uris": redirect_uris, **fields}) + "\n"
        )
        self.proc.stdin.flush()
        client_id: str = self._answer()["client_id"]
        return client_id

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the peer exits when its stdin closes
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pump in self._pumps:  # they end at the pipes' end, which the exit brought
            pump.join(timeout=WAIT)
        for stream in (self.proc.stdout, self.proc.stderr):
            assert stream is not None
            stream.close()
