"""One canonical resource URI for the resource server, the client and the development
authorization server (RFC 8707 section 2, RFC 3986 section 6.2; spec: basic/authorization,
"Canonical Server URI"): the three used to disagree on the trailing slash and on `:443`, so
a server configured as `https://x.example/mcp/` refused its own clients' tokens."""

from __future__ import annotations

import re

import pytest
from _resource_helpers import TableVerifier

from mcpkit.auth.client._urls import canonical_resource as client_resource
from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.devserver.policy import canonical_resource as devserver_resource
from mcpkit.auth.server._checks import check_audience
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.uris import NotAResourceUri, canonical_resource, origin
from mcpkit.errors import InvalidToken

SAME = [
    ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
    ("HTTPS://MCP.Example.COM/mcp", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com/mcp/", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com/mcp//", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"),
    ("http://mcp.example.com:80/mcp", "http://mcp.example.com/mcp"),
    ("https://mcp.example.com:/mcp", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com/", "https://mcp.example.com"),
    ("https://mcp.example.com", "https://mcp.example.com"),
    ("https://mcp.example.com/a/./b/../mcp", "https://mcp.example.com/a/mcp"),
    ("https://mcp.example.com/%7Euser/mcp", "https://mcp.example.com/~user/mcp"),
    ("https://mcp.example.com/a%2fb", "https://mcp.example.com/a%2Fb"),
    ("https://mcp.example.com/mcp?", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com/mcp?tenant=%7ea", "https://mcp.example.com/mcp?tenant=~a"),
    ("http://[::1]:8000/mcp", "http://[::1]:8000/mcp"),
    ("http://[::1]:80/mcp", "http://[::1]/mcp"),
]

DIFFERENT = [
    ("http://mcp.example.com/mcp", "https://mcp.example.com/mcp"),  # another scheme
    ("http://mcp.example.com:443/mcp", "http://mcp.example.com/mcp"),  # 443 is not http's
    ("https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp"),
    ("https://mcp.example.com/MCP", "https://mcp.example.com/mcp"),  # paths are case-sensitive
    ("https://mcp.example.com/a%2Fb", "https://mcp.example.com/a/b"),  # %2F is not a slash
    ("https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp"),
]

REFUSED = [
    ("mcp.example.com", "not an absolute http(s) URI"),
    ("/mcp", "not an absolute http(s) URI"),
    ("ftp://mcp.example.com/mcp", "not an absolute http(s) URI"),
    ("https://mcp.example.com#fragment", "fragment"),
    ("https://mcp.example.com/mcp#", "fragment"),
    ("https://user:secret@mcp.example.com/mcp", "user information"),
    ("https://mcp.example.com:https/mcp", "port"),
    ("https:///mcp", "no host"),
    (" https://mcp.example.com", "whitespace"),
    ("https://mcp.example.com/a b", "whitespace"),
    ("https://mcp.example.com/\n", "whitespace"),
]


@pytest.mark.parametrize(("given", "canonical"), SAME)
def test_each_spelling_has_one_canonical_form(given: str, canonical: str) -> None:
    assert canonical_resource(given) == canonical
    assert canonical_resource(canonical) == canonical  # the form is a fixed point


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_resources_stay_different(one: str, other: str) -> None:
    assert canonical_resource(one) != canonical_resource(other)


@pytest.mark.parametrize(("given", "reason"), REFUSED)
def test_what_cannot_name_a_resource_is_refused_with_the_reason(given: str, reason: str) -> None:
    with pytest.raises(NotAResourceUri, match=re.escape(reason)):
        canonical_resource(given)
    # The development server answers invalid_target with the same reason.
    with pytest.raises(Refused, match=re.escape(reason)) as refused:
        devserver_resource(given)
    assert refused.value.error == "invalid_target"


def test_the_origin_is_canonical_too() -> None:
    assert origin("HTTPS://MCP.example.com:443/a/b?c") == "https://mcp.example.com"
    assert origin("http://127.0.0.1:8000/mcp") == "http://127.0.0.1:8000"


@pytest.mark.parametrize(("given", "canonical"), SAME)
def test_the_three_parts_agree(given: str, canonical: str) -> None:
    """What the client asks for, what the dev server writes into `aud` and what the
    server expects are the same string, however the URI was spelt."""
    assert devserver_resource(given) == canonical
    configured = ProtectedResource(verifier=TableVerifier(), resource=given)
    assert configured.resource == canonical
    if "?" not in given:  # the client names the server without its query
        assert client_resource(given) == canonical


@pytest.mark.parametrize("configured", ["https://x.example/mcp/", "HTTPS://X.EXAMPLE:443/mcp"])
@pytest.mark.parametrize("aud", ["https://x.example/mcp", "https://x.example/mcp/"])
def test_a_token_for_any_spelling_of_the_server_passes_its_audience_check(
    configured: str, aud: str
) -> None:
    assert check_audience({"aud": aud}, (configured,)) == (aud,)


def test_a_token_for_another_resource_is_refused() -> None:
    with pytest.raises(InvalidToken, match="another audience"):
        check_audience({"aud": "https://x.example/other"}, ("https://x.example/mcp/",))
    with pytest.raises(InvalidToken, match="another audience"):
        check_audience({"aud": "http://x.example/mcp"}, ("https://x.example/mcp",))


def test_an_audience_that_is_not_a_uri_is_compared_as_it_is() -> None:
    """`audience=` may name an API (Auth0's API identifier), which is no URI."""
    assert check_audience({"aud": "my-api"}, ("my-api",)) == ("my-api",)
    with pytest.raises(InvalidToken):
        check_audience({"aud": "My-Api"}, ("my-api",))
