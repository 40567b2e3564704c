"""A hostile review of the authorization front (issue 43, session 7): redirect URIs that a
browser reads otherwise than the checks do, and the other defects that review found."""

from __future__ import annotations

import asyncio

import pytest
from _front_world import REDIRECT, authorize_query, browser, make_front, register

from mcpkit.auth.devserver.redirects import is_acceptable, matches

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
