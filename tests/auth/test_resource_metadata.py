"""The protected resource metadata (RFC 9728) at the well-known URIs the spec names, the
canonical URI tokens must be issued for (RFC 8707), and other apps served on the same origin
(`ProtectedResource.routes`), over real HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _resource_helpers import ALICE, TableVerifier, bearer, open_as, scoped_server
from _serving import WAIT, serving

from mcpkit import Server
from mcpkit.auth.metadata import ProtectedResourceMetadata, decode
from mcpkit.auth.server.resource import (
    ProtectedResource,
    metadata_url,
)


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
async def test_the_metadata_is_served_at_both_well_known_uris_without_a_token(path: str) -> None:
    server, _ = scoped_server(resource_name="Demo", resource_documentation="https://d.example")
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.get(base + path)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        document = decode(response.content, ProtectedResourceMetadata)
        assert document.resource == base + "/mcp"
        assert document.authorization_servers == [base]  # None: this origin
        assert document.scopes_supported == ["mcp"]  # the required ones by default
        assert document.bearer_methods_supported == ["header"]
        assert (document.resource_name, document.resource_documentation) == (
            "Demo",
            "https://d.example",
        )
        preflight = await client.options(base + path)
        assert preflight.status_code == 204
        assert "GET" in preflight.headers["access-control-allow-methods"]
        assert (await client.post(base + path)).status_code == 405


async def test_the_derived_resource_follows_the_name_the_client_used() -> None:
    server, verifier = scoped_server()
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        port = base.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            response = await client.get(
                base + "/.well-known/oauth-protected-resource/mcp", headers={"host": host}
            )
            assert response.json()["resource"] == f"http://{host}/mcp"
            assert response.json()["authorization_servers"] == [f"http://{host}"]
            await client.post(base + "/mcp", json={}, headers=bearer(ALICE, host=host))
        assert verifier.resources == [
            f"http://127.0.0.1:{port}/mcp",
            f"http://localhost:{port}/mcp",
        ]
        bad = await client.get(
            base + "/.well-known/oauth-protected-resource", headers={"host": 'a"b'}
        )
        assert bad.status_code in (400, 421)


async def test_a_configured_resource_and_issuers_are_what_the_metadata_says() -> None:
    server, verifier = scoped_server(
        resource="HTTPS://MCP.Example.com/tenant/mcp/",
        authorization_servers=["https://idp.example.com/realms/x", "/oauth"],
        scopes_supported=["mcp", "admin"],
    )
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        for path in ("/mcp", "/tenant/mcp", ""):
            response = await client.get(base + "/.well-known/oauth-protected-resource" + path)
            assert response.status_code == 200, path
            document = response.json()
            assert document["resource"] == "https://mcp.example.com/tenant/mcp"
            assert document["authorization_servers"] == [
                "https://idp.example.com/realms/x",
                base + "/oauth",
            ]
            assert document["scopes_supported"] == ["mcp", "admin"]
        refused = await client.post(base + "/mcp", json={}, headers=bearer(None))
        assert (
            'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-'
            in (refused.headers["www-authenticate"])
        )
        await open_as(client, base + "/mcp", ALICE)
        assert set(verifier.resources) == {"https://mcp.example.com/tenant/mcp"}


async def test_routes_serve_other_apps_on_the_same_origin() -> None:
    seen: list[tuple[str, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((scope["path"], scope["root_path"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"mounted"})

    server = Server(
        "routes",
        auth=ProtectedResource(verifier=TableVerifier(), routes={"/": app, "/oauth/": app}),
    )
    async with serving(server.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as client:
        for path in ("/authorize", "/oauth/token", "/.well-known/oauth-authorization-server"):
            response = await client.get(base + path)
            assert (response.status_code, response.text) == (200, "mounted"), path
        # The endpoint, its metadata and the legacy endpoints come first.
        assert (await client.get(base + "/.well-known/oauth-protected-resource")).json()
        assert (await client.get(base + "/sse")).status_code == 401
        assert (await client.post(base + "/mcp", json={})).status_code == 401
    assert seen == [
        ("/authorize", ""),
        ("/oauth/token", "/oauth"),
        ("/.well-known/oauth-authorization-server", ""),
    ]


async def test_without_auth_there_is_no_metadata_and_no_route() -> None:
    server, _ = scoped_server()
    async with serving(server.http_app(auth=None)) as base:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            response = await client.get(base + "/.well-known/oauth-protected-resource")
            assert response.status_code == 404


def test_a_configured_resource_is_kept_in_canonical_form() -> None:
    verifier = TableVerifier()
    for given, kept in [
        ("HTTPS://Example.COM/mcp/", "https://example.com/mcp"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com:443/mcp", "https://example.com/mcp"),
        ("https://example.com:8443", "https://example.com:8443"),
    ]:
        assert ProtectedResource(verifier=verifier, resource=given).resource == kept
    for bad in ("example.com", "https://example.com#x", "ftp://example.com/x", "/mcp"):
        with pytest.raises(ValueError, match="give the server's canonical URI"):
            ProtectedResource(verifier=verifier, resource=bad)


def test_metadata_urls() -> None:
    assert (
        metadata_url("https://e.com/a/mcp")
        == "https://e.com/.well-known/oauth-protected-resource/a/mcp"
    )
    assert metadata_url("https://e.com") == "https://e.com/.well-known/oauth-protected-resource"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"authorization_servers": []}, "authorization_servers is empty"),
        ({"authorization_servers": ["idp.example.com"]}, "must be an http"),
        ({"required_scopes": ["a b"]}, "not one scope token"),
        ({"required_scopes": "mcp"}, "not one scope token|as lists"),
        ({"resource": "mcp.example.com"}, "absolute http"),
        ({"routes": {"oauth": None}}, "must start with '/'"),
        ({"verify_timeout": 0}, "positive"),
    ],
)
def test_settings_mistakes_are_named(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProtectedResource(verifier=TableVerifier(), **settings)
