"""The development authorization server's memory stays bounded whatever clients do: caps on
registered clients, live codes and tokens (the oldest entry is forgotten), measured with
tracemalloc in process (httpx's ASGI transport) so only the server's own allocations count."""

from __future__ import annotations

import gc
import tracemalloc

import httpx
from _devserver_helpers import REDIRECT, Clock, authorize, pkce, redirect_params, register, token

from mcpkit.auth.devserver import DevAuthorizationServer, DevServerSettings
from mcpkit.auth.metadata import ClientInformation

RS = ClientInformation(client_id="rs", client_secret="rs-secret")
RS_AUTH = ("rs", "rs-secret")
BASE = "http://127.0.0.1:8000"


def in_process(server: DevAuthorizationServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url=BASE)


async def test_oldest_registered_client_is_forgotten() -> None:
    server = DevAuthorizationServer(DevServerSettings(max_clients=10), clients=[RS])
    _, challenge = pkce()
    async with in_process(server) as http:
        first = await register(http, BASE)
        for _ in range(10):
            await register(http, BASE)
        gone = await authorize(http, BASE, first["client_id"], challenge)
        kept = await token(
            http, BASE, grant_type="client_credentials", client_id="rs", client_secret="rs-secret"
        )
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_client"
    assert kept.status_code == 200  # pre-registered clients are never evicted


async def test_oldest_code_is_forgotten() -> None:
    server = DevAuthorizationServer(DevServerSettings(max_codes=3), clock=Clock())
    async with in_process(server) as http:
        client = await register(http, BASE)
        codes = []
        for _ in range(4):
            verifier, challenge = pkce()
            reply = redirect_params(await authorize(http, BASE, client["client_id"], challenge))
            codes.append((reply["code"], verifier))
        answers = [
            await token(
                http,
                BASE,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                redirect_uri=REDIRECT,
                client_id=client["client_id"],
            )
            for code, verifier in codes
        ]
    assert [a.status_code for a in answers] == [400, 200, 200, 200]


async def issue(http: httpx.AsyncClient, count: int) -> list[str]:
    form = {"grant_type": "client_credentials", "client_id": "rs", "client_secret": "rs-secret"}
    return [(await token(http, BASE, **form)).json()["access_token"] for _ in range(count)]


async def test_token_memory_is_bounded() -> None:
    server = DevAuthorizationServer(DevServerSettings(max_tokens=50), clients=[RS])
    async with in_process(server) as http:
        first = await issue(http, 100)  # the store is full from here on
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await issue(http, 500)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        last = await issue(http, 1)
        oldest = await http.post("/introspect", data={"token": first[0]}, auth=("rs", "rs-secret"))
        newest = await http.post("/introspect", data={"token": last[0]}, auth=("rs", "rs-secret"))
    print(f"memory growth over 500 more tokens with max_tokens=50: {grown} bytes")
    # Measured: about 75 KB (regex and joserfc caches, flat), 350 KB when all 500 are kept.
    assert grown < 200_000
    assert oldest.json() == {"active": False} and newest.json()["active"] is True


def from_address(server: DevAuthorizationServer, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=server, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def test_one_address_registering_in_a_loop_never_evicts_anothers_client() -> None:
    # Issue 19: 1,000 registrations in 1.3 s evicted legitimate clients (one global LRU).
    server = DevAuthorizationServer(DevServerSettings(max_clients=50, max_clients_per_source=5))
    _, challenge = pkce()
    async with from_address(server, "10.0.0.7") as user, from_address(server, "10.0.0.66") as bad:
        mine = await register(user, BASE)
        flood = [await register(bad, BASE) for _ in range(200)]
        kept = await authorize(user, BASE, mine["client_id"], challenge)
        gone = await authorize(bad, BASE, flood[0]["client_id"], challenge)
        last = await authorize(bad, BASE, flood[-1]["client_id"], challenge)
    assert kept.status_code == 302  # still known
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_client"  # its own
    assert last.status_code == 302


async def test_one_address_asking_for_codes_never_evicts_anothers_pending_code() -> None:
    # Issue 19: 1,001 /authorize calls evicted a pending code.
    server = DevAuthorizationServer(DevServerSettings(max_codes=50, max_codes_per_source=5))
    async with from_address(server, "10.0.0.7") as user, from_address(server, "10.0.0.66") as bad:
        client = await register(user, BASE)
        verifier, challenge = pkce()
        reply = redirect_params(await authorize(user, BASE, client["client_id"], challenge))
        for _ in range(200):
            _, other = pkce()
            await authorize(bad, BASE, client["client_id"], other)
        answer = await token(
            user,
            BASE,
            grant_type="authorization_code",
            code=reply["code"],
            code_verifier=verifier,
            redirect_uri=REDIRECT,
            client_id=client["client_id"],
        )
    assert answer.status_code == 200, answer.text


async def test_a_registered_client_may_introspect_only_its_own_tokens() -> None:
    # Issue 19: any self-registered confidential client could introspect anyone's token.
    server = DevAuthorizationServer(clients=[RS])
    async with in_process(server) as http:
        (access,) = await issue(http, 1)  # rs's own token
        nosy = await register(
            http,
            BASE,
            grant_types=["client_credentials"],
            token_endpoint_auth_method="client_secret_basic",
        )
        auth = (nosy["client_id"], nosy["client_secret"])
        theirs = await http.post("/introspect", data={"token": access}, auth=auth)
        form = {"grant_type": "client_credentials", "client_id": nosy["client_id"]}
        own_token = (await token(http, BASE, **form, client_secret=nosy["client_secret"])).json()[
            "access_token"
        ]
        own = await http.post("/introspect", data={"token": own_token}, auth=auth)
        configured = await http.post("/introspect", data={"token": own_token}, auth=RS_AUTH)
    assert theirs.json() == {"active": False}
    assert own.json()["active"] is True
    assert configured.json()["active"] is True  # a configured client (a resource server)


async def test_a_request_that_reached_it_over_the_network_is_refused() -> None:
    # Issue 19: it never refused a non-loopback bind: anyone who reached it got admin tokens.
    server = DevAuthorizationServer(clients=[RS])
    form = {"grant_type": "client_credentials", "client_id": "rs", "client_secret": "rs-secret"}
    lan = "http://192.168.1.20:9000"
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url=lan) as http:
        refused = await token(http, lan, **form)
    assert refused.status_code == 403
    assert "insecure_serve_network" in refused.json()["error_description"]
    told = DevAuthorizationServer(DevServerSettings(insecure_serve_network=True), clients=[RS])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=told), base_url=lan) as http:
        assert (await token(http, lan, **form)).status_code == 200
