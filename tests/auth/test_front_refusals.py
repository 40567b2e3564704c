"""What the authorization front refuses on its own (issue 43): the MCP client's request checked
exactly, the consent page and its form bound to the browser and the pending request, the
provider's callback single use, look-alike redirect targets, per-source bounds, a missing key
under several workers; and what it keeps in the store sealed."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec
import pytest
from _front_world import (
    BASE,
    REDIRECT,
    UPSTREAM,
    authorize_query,
    browser,
    hidden,
    make_front,
    query_of,
    register,
)
from _serving import serving

from mcpkit._asgi import Receive, Scope, Send
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.front import AuthorizationFront, FrontSettings
from mcpkit.auth.front.consent import redirect_refusal
from mcpkit.auth.front.state import FrontState
from mcpkit.auth.metadata import ClientInformation
from mcpkit.stores.kv import MemoryKeyValueStore
from mcpkit.stores.url import open_store

WAIT = 5.0


async def test_an_unknown_client_or_redirect_uri_gets_a_page_never_a_redirect() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
        unknown = await http.get("/authorize", params=authorize_query("nobody"))
        elsewhere = await http.get(
            "/authorize",
            params=authorize_query(client["client_id"], redirect_uri="http://127.0.0.1:7000/other"),
        )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"
    assert elsewhere.status_code == 400 and "not registered" in elsewhere.text


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"code_challenge_method": None}, "S256"),
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge": "short"}, "S256 challenge"),
        ({"response_type": "token"}, "response_type"),
    ],
)
async def test_a_request_without_pkce_s256_goes_back_with_an_error(
    overrides: dict[str, str | None], why: str
) -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
        answer = await http.get(
            "/authorize", params=authorize_query(client["client_id"], **overrides)
        )
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(REDIRECT + "?")
    reply = query_of(answer.headers["location"])
    assert why in reply["error_description"] and reply["state"] == "xyz" and reply["iss"] == BASE


async def test_the_consent_page_names_the_client_and_its_target_and_is_never_framed() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, client_name="Weather <desk>")
        page = await http.get("/authorize", params=authorize_query(client["client_id"]))
    assert page.status_code == 200
    assert "Weather &lt;desk&gt;" in page.text and "<desk>" not in page.text  # escaped
    assert client["client_id"] in page.text and "127.0.0.1:7000" in page.text
    assert "Example IdP" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("redirect", [REDIRECT, "com.example.desk:/cb"])
async def test_a_name_reading_as_a_domain_is_not_shown_as_who_asks_off_the_web(
    redirect: str,
) -> None:
    """Loopback and app redirects pass (the answer stays on the user's device, and desktop and
    command-line clients use them), but "claude.ai" asking from 127.0.0.1 is not "Allow
    claude.ai?": the page names the program and says its name is not checked."""
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, client_name="claude. ai", redirect_uris=[redirect])
        query = authorize_query(client["client_id"], redirect_uri=redirect)
        page = await http.get("/authorize", params=query)
    assert page.status_code == 200
    title = re.search(r"<title>(.*)</title>", page.text)
    assert title is not None and "calling itself claude. ai" in title.group(1), page.text
    assert not title.group(1).startswith("Allow claude")
    assert "Its name is not checked:</strong> claude.ai is a web address" in page.text


async def consent_form(
    http: httpx.AsyncClient, front: AuthorizationFront
) -> tuple[dict[str, str], str]:
    client = await register(http)
    page = await http.get("/authorize", params=authorize_query(client["client_id"]))
    form = {"request": hidden(page.text, "request"), "csrf": hidden(page.text, "csrf")}
    return form, client["client_id"]


async def test_the_consent_answer_must_come_from_the_browser_and_page_shown() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        form, _ = await consent_form(http, front)
        wrong_csrf = await http.post("/consent", data=form | {"csrf": "x", "decision": "allow"})
        async with browser(front) as other:  # another browser: no cookie of this sign-in
            foreign = await other.post("/consent", data=form | {"decision": "allow"})
        allowed = await http.post("/consent", data=form | {"decision": "allow"})
        again = await http.post("/consent", data=form | {"decision": "allow"})
    assert wrong_csrf.status_code == 403 and foreign.status_code == 403
    assert allowed.status_code == 303
    upstream = query_of(allowed.headers["location"])
    assert allowed.headers["location"].startswith(UPSTREAM.authorize_url + "?")
    assert upstream["client_id"] == "front-at-idp"
    assert upstream["redirect_uri"] == BASE + "/callback"
    assert upstream["code_challenge_method"] == "S256" and len(upstream["code_challenge"]) == 43
    assert upstream["state"].startswith(form["request"] + ":")
    assert again.status_code == 403  # answered once


async def test_denying_goes_back_to_the_client_with_access_denied() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        form, _ = await consent_form(http, front)
        denied = await http.post("/consent", data=form | {"decision": "deny"})
        later = await http.post("/consent", data=form | {"decision": "allow"})
    reply = query_of(denied.headers["location"])
    assert denied.status_code == 303 and reply["error"] == "access_denied"
    assert reply["state"] == "xyz" and later.status_code == 400  # the request is gone


async def test_the_providers_callback_is_single_use_and_bound_to_the_browser() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        form, _ = await consent_form(http, front)
        allowed = await http.post("/consent", data=form | {"decision": "allow"})
        state = query_of(allowed.headers["location"])["state"]
        forged = await http.get("/callback", params={"state": form["request"] + ":guess"})
        async with browser(front) as other:
            foreign = await other.get("/callback", params={"state": state, "code": "c"})
        # Neither spent the request; the provider's real answer does.
        back = await http.get("/callback", params={"state": state, "error": "access_denied"})
        replay = await http.get("/callback", params={"state": state, "error": "access_denied"})
    assert forged.status_code == 400 and foreign.status_code == 403
    assert back.status_code == 302 and replay.status_code == 400


async def test_a_provider_refusal_goes_back_to_the_client() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        form, _ = await consent_form(http, front)
        allowed = await http.post("/consent", data=form | {"decision": "allow"})
        state = query_of(allowed.headers["location"])["state"]
        back = await http.get("/callback", params={"state": state, "error": "access_denied"})
    reply = query_of(back.headers["location"])
    assert back.status_code == 302 and back.headers["location"].startswith(REDIRECT)
    assert reply["error"] == "access_denied" and reply["state"] == "xyz"


@pytest.mark.parametrize(
    ("client_id", "name", "redirect", "why"),
    [
        ("c1", "Weather", "https://xn--wather-3ya.example/cb", "punycode"),
        ("c1", "Weather", "https://wéather.example/cb", "punycode"),
        ("c1", "weather.example", "https://weather-example.attacker.net/cb", "redirects to"),
        ("c1", "claude. ai", "https://claude-ai.attacker.net/cb", "not claude.ai"),
        ("c1", "Claude . AI desktop", "https://attacker.net/cb", "not claude.ai"),
        ("c1", "Wéather", "https://weather.example/cb", "outside ASCII"),
        ("https://app.example/client.json", "App", "https://evil.example/cb", "own host"),
    ],
)
def test_look_alike_redirect_targets_are_refused(
    client_id: str, name: str, redirect: str, why: str
) -> None:
    client = ClientInformation(client_id=client_id, client_name=name, redirect_uris=[redirect])
    refusal = redirect_refusal(client, redirect)
    assert refusal is not None and why in refusal


@pytest.mark.parametrize(
    ("client_id", "name", "redirect"),
    [
        ("c1", "weather.example", "https://app.weather.example/cb"),
        ("https://app.example/client.json", "App", "https://login.app.example/cb"),
        ("c1", "Weather", "http://127.0.0.1:5000/cb"),
        ("c1", "Weather", "com.example.weather:/cb"),
    ],
)
def test_redirect_targets_on_their_own_host_pass(client_id: str, name: str, redirect: str) -> None:
    client = ClientInformation(client_id=client_id, client_name=name, redirect_uris=[redirect])
    assert redirect_refusal(client, redirect) is None


async def test_registrations_from_one_address_are_bounded() -> None:
    front = make_front(FrontSettings(max_bytes_per_source=3000))
    async with asyncio.timeout(WAIT), browser(front) as http, browser(front, "10.0.0.2") as other:
        answers = [
            await http.post("/register", json={"redirect_uris": [REDIRECT]}) for _ in range(8)
        ]
        elsewhere = await other.post("/register", json={"redirect_uris": [REDIRECT]})
    codes = [answer.status_code for answer in answers]
    assert codes[0] == 201 and codes[-1] == 429  # the bound reached...
    assert elsewhere.status_code == 201  # ...for that address only


async def test_the_store_holds_no_secret_in_the_clear() -> None:
    store = MemoryKeyValueStore()
    front = AuthorizationFront(UPSTREAM, store=store)
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http)
    assert client["client_secret"]
    entries = store._entries.values()
    assert entries and all(client["client_secret"].encode() not in value for value, _ in entries)


async def test_unknown_codes_and_grants_are_refused_at_the_token_endpoint() -> None:
    front = make_front()
    async with asyncio.timeout(WAIT), browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        base = {"client_id": client["client_id"]}
        code = await http.post(
            "/token", data=base | {"grant_type": "authorization_code", "code": "x.y"}
        )
        refresh = await http.post(
            "/token", data=base | {"grant_type": "refresh_token", "refresh_token": "z"}
        )
        other = await http.post("/token", data=base | {"grant_type": "client_credentials"})
    assert code.json()["error"] == "invalid_grant" and refresh.json()["error"] == "invalid_grant"
    assert other.json()["error"] == "unsupported_grant_type"


def test_several_workers_without_a_key_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MCPKIT_WORKER", "1")
    with pytest.raises(SystemExit) as refused:
        make_front()
    message = str(refused.value.code)
    assert "several workers need one signing key" in message and "\n" not in message
    key = tmp_path / "front.pem"
    SigningKey().save(key)
    assert make_front(key=key).key.kid == SigningKey.load(key).kid


def test_a_written_key_is_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    key = tmp_path / "front.pem"
    SigningKey().save(key)
    assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        SigningKey().save(key)


def test_pass_through_needs_the_providers_issuer_and_audience() -> None:
    with pytest.raises(ValueError, match="pass-through"):
        make_front(FrontSettings(tokens="pass-through"))


def test_metadata_announces_what_mcp_clients_need() -> None:
    from mcpkit.auth.front.as_metadata import front_metadata

    found = front_metadata(FrontSettings(), BASE)
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert found["client_id_metadata_document_supported"] is True
    assert found["registration_endpoint"] == BASE + "/register"
    assert found["revocation_endpoint"] == BASE + "/revoke"
    assert msgspec.json.encode(found)


class Documents:
    """Serves client ID metadata documents: `/<name>.json` is the document `documents[name]`
    with its own URL as client_id."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, object]] = {}
        self.base = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        name = str(scope["path"]).strip("/").removesuffix(".json")
        body = msgspec.json.encode({"client_id": f"{self.base}/{name}.json"} | self.documents[name])
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})


async def test_a_metadata_document_client_is_named_by_its_url_and_kept_on_its_host() -> None:
    documents = Documents()
    documents.documents = {
        "desk": {"client_name": "Weather desk", "redirect_uris": [REDIRECT]},
        "sly": {"client_name": "Weather desk", "redirect_uris": ["https://evil.example/cb"]},
    }
    front = make_front(FrontSettings(allow_insecure_metadata_urls=True))
    async with (
        asyncio.timeout(WAIT),
        serving(documents, http="h11") as base,
        browser(front) as http,
    ):
        documents.base = base
        shown = await http.get("/authorize", params=authorize_query(f"{base}/desk.json"))
        sly = await http.get(
            "/authorize",
            params=authorize_query(f"{base}/sly.json", redirect_uri="https://evil.example/cb"),
        )
    assert shown.status_code == 200 and f"its metadata document {base}/desk.json" in shown.text
    assert sly.status_code == 400 and "must stay on its own host" in sly.text


SERVER_WITHOUT_KEY = """
from mcpkit import Server
from mcpkit.auth.front import AuthorizationFront, UpstreamProvider

upstream = UpstreamProvider(
    name="X", authorize_url="https://idp.example.com/a", token_url="https://idp.example.com/t",
    client_id="c", client_secret="s",
)
front = AuthorizationFront(upstream)
server = Server("w")
server.auth = front.protect(server)
"""


def test_mcpkit_run_refuses_several_workers_for_a_front_without_a_key(tmp_path: Path) -> None:
    (tmp_path / "srv.py").write_text(SERVER_WITHOUT_KEY)
    mcpkit = Path(sys.executable).with_name("mcpkit")
    argv = [str(mcpkit), "run", "srv.py", "--transport", "http", "--port", "0", "--workers", "2"]
    argv += ["--store", f"sqlite:///{tmp_path / 'state.db'}"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert "several workers need one signing key" in line


async def test_a_code_or_token_is_claimed_once_across_workers(tmp_path: Path) -> None:
    """Two fronts (two workers) over one SQLite store asked at the same moment: one wins."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first, second = open_store(url), open_store(url)
    try:
        states = [FrontState(lambda s=s: s.kv, b"k" * 32, 4096, 4096) for s in (first, second)]
        async with asyncio.timeout(WAIT):
            won = await asyncio.gather(*(state.claim("code", "ab.cd", 60) for state in states))
            again = await states[0].claim("code", "ab.cd", 60)
            other = await states[1].claim("code", "ab.ef", 60)
            await states[0].release(next(marker for marker in won if marker is not None))
            released = await states[1].claim("code", "ab.cd", 60)
    finally:
        await first.aclose()
        await second.aclose()
    assert sorted(marker is not None for marker in won) == [False, True]
    assert again is None and other is not None and released is not None
