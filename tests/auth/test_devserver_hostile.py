"""Whatever a client sends, the development authorization server answers with a well-formed
OAuth answer (a JSON error body with a 4xx status, a redirect, or a document), never a crash:
hypothesis throws random forms, queries, headers and bytes at every endpoint in process."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Final

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation

SERVER: Final = DevAuthorizationServer(
    DevServerSettings(scopes=("a", "b")),
    clients=[
        ClientInformation(client_id="pub", redirect_uris=["http://127.0.0.1:1/cb"]),
        ClientInformation(
            client_id="conf", client_secret="s", redirect_uris=["https://x.example/cb"]
        ),
    ],
)
PATHS: Final = [
    "/authorize",
    "/token",
    "/register",
    "/revoke",
    "/introspect",
    "/jwks",
    "/.well-known/oauth-authorization-server",
    "/elsewhere",
]
NAMES: Final = [
    "grant_type",
    "code",
    "client_id",
    "client_secret",
    "redirect_uri",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "response_type",
    "refresh_token",
    "scope",
    "resource",
    "token",
    "state",
    "login_hint",
]
VALUES: Final = st.one_of(
    st.sampled_from(
        [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "pub",
            "conf",
            "s",
            "S256",
            "code",
            "a b",
            "http://127.0.0.1:1/cb",
        ]
    ),
    st.text(max_size=60),
)
FORMS: Final = st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=12)
OK_STATUSES: Final = {200, 201, 204, 302, 400, 401, 404, 405, 413, 415}


def encoded(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


async def call(
    method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[Any] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "scheme": "http",
    }
    await SERVER(scope, receive, send)
    start, whole = sent
    return start["status"], dict(start["headers"]), whole["body"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "OPTIONS"]),
    path=st.sampled_from(PATHS),
    form=FORMS,
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    content_type=st.sampled_from(
        [b"application/x-www-form-urlencoded", b"application/json", b"text/plain; charset=utf-8"]
    ),
    authorization=st.one_of(
        st.none(),
        st.binary(max_size=40),
        st.tuples(st.text(max_size=10), st.text(max_size=10)).map(
            lambda p: b"Basic " + base64.b64encode(f"{p[0]}:{p[1]}".encode())
        ),
    ),
)
def test_every_answer_is_well_formed(
    method: str,
    path: str,
    form: list[tuple[str, str]],
    raw: bytes | None,
    content_type: bytes,
    authorization: bytes | None,
) -> None:
    body = encoded(form) if raw is None else raw
    headers = [(b"content-type", content_type)]
    if authorization is not None:
        headers.append((b"authorization", authorization))
    status, found, answer = asyncio.run(call(method, path, encoded(form), headers, body))
    assert status in OK_STATUSES
    if status >= 400:
        error = msgspec.json.decode(answer)
        assert isinstance(error["error"], str) and error["error_description"]
    elif status == 302:
        assert found[b"location"]


def test_deeply_nested_registration_is_refused() -> None:
    body = (
        b'{"redirect_uris": ["https://a.example/cb"], "jwks": {"k": '
        + b"[" * 20_000
        + b"]" * 20_000
        + b"}}"
    )
    status, _, answer = asyncio.run(
        call("POST", "/register", b"", [(b"content-type", b"application/json")], body)
    )
    assert status == 400 and msgspec.json.decode(answer)["error"] == "invalid_client_metadata"
