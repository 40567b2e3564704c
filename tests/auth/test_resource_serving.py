"""How a protected server is served: `Server(auth=...)` is what `http_app()` and `run()` use,
`http_app(auth=...)` overrides it, and a public bind warns unless the server is protected with
a configured canonical URI."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from _resource_helpers import TableVerifier, bearer, scoped_server
from _running import WAIT, mcpkit, running
from _serving import INITIALIZE

from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.server.serving._http_run import _warn_exposed  # pyright: ignore[reportPrivateUsage]


def test_http_app_uses_the_server_s_auth_unless_told_otherwise() -> None:
    server, _ = scoped_server()
    assert server.http_app().guard is not None
    assert server.http_app().guard.auth is server.auth  # type: ignore[union-attr]
    assert server.http_app(auth=None).guard is None
    other = ProtectedResource(verifier=TableVerifier())
    assert Server("plain").http_app(auth=other).guard.auth is other  # type: ignore[union-attr]
    assert Server("plain").http_app().guard is None


@pytest.mark.parametrize(
    ("host", "auth", "warning"),
    [
        ("0.0.0.0", None, "a token verifier is not configured"),
        ("0.0.0.0", {"resource": "https://mcp.example.com/mcp"}, None),
        ("127.0.0.1", None, None),
        ("127.0.0.1", {}, None),
    ],
)
def test_a_public_bind_warns_unless_protected_with_a_resource(
    caplog: pytest.LogCaptureFixture, host: str, auth: dict[str, str] | None, warning: str | None
) -> None:
    protection = None if auth is None else ProtectedResource(verifier=TableVerifier(), **auth)
    app = Server("s", auth=protection).http_app(bind_host=host)
    with caplog.at_level(logging.WARNING, logger="mcpkit.server"):
        _warn_exposed(host, 8000, app)
    if warning is None:
        assert caplog.records == []
    else:
        (record,) = caplog.records
        assert warning in record.getMessage()


@pytest.mark.parametrize(
    "settings",
    [
        {"bind_host": "0.0.0.0"},
        {"bind_host": "0.0.0.0", "allowed_hosts": ["b.example"]},
        {"bind_host": "127.0.0.1", "dns_rebinding_protection": False},
    ],
)
def test_without_resource_an_unchecked_host_cannot_choose_the_audience(
    settings: dict[str, object],
) -> None:
    # Issue 19: with resource=None on a public bind the audience came from each request's
    # Host: a token issued for http://b.example/mcp, sent with Host: b.example, passed.
    server = Server("s", auth=ProtectedResource(verifier=TableVerifier()))
    with pytest.raises(ValueError, match=r"needs ProtectedResource\(resource=\.\.\.\)"):
        server.http_app(**settings)  # type: ignore[arg-type]
    # On loopback the Host is checked against loopback names: the audience is one of ours.
    assert server.http_app(bind_host="127.0.0.1").guard is not None


PROTECTED_FILE = """
from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken


class OneToken:
    async def verify(self, token, *, resource):
        if token != "let-me-in":
            raise InvalidToken("unknown token")
        return AccessToken(subject="ada", audience=(resource,))


async def issuer(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"issuer at " + scope["path"].encode()})


server = Server("ran", auth=ProtectedResource(verifier=OneToken(), routes={"/": issuer}))
"""


async def test_mcpkit_run_serves_the_protected_endpoint_and_its_routes(tmp_path: Path) -> None:
    path = tmp_path / "protected_server.py"
    path.write_text(PROTECTED_FILE)
    argv = mcpkit("run", str(path), "--transport", "http", "--port", "0")
    async with running(argv) as server, httpx.AsyncClient(timeout=WAIT) as client:
        url = await server.started()
        base = url.removesuffix("/mcp")
        assert (await client.post(url, json=INITIALIZE, headers=bearer(None))).status_code == 401
        opened = await client.post(url, json=INITIALIZE, headers=bearer("let-me-in"))
        assert opened.status_code == 200
        metadata = await client.get(base + "/.well-known/oauth-protected-resource/mcp")
        assert metadata.json()["authorization_servers"] == [base]
        assert (await client.get(base + "/token")).text == "issuer at /token"
        assert await server.stop() == 0
    assert not [line for line in server.log if line.startswith("WARNING")]
