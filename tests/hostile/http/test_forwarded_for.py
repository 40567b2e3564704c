"""Issue 64: behind a reverse proxy every client had the proxy's address, so one client filling a
per-address budget filled it for all. `forwarded_allow_ips` (`mcpkit run
--forwarded-allow-ips`) names the proxies whose `X-Forwarded-For` says who the client is: the
right-most entry that is no trusted proxy, never the left-most the client writes itself; from
anyone else the header is ignored."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _front_world import REDIRECT, make_front
from _serving import INITIALIZE, WAIT, headers, open_session

from mcpkit import Server
from mcpkit.auth.front import FrontSettings
from mcpkit.cli.commands.run import http_options
from mcpkit.cli.main import build_parser
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.forwarded import TrustedProxies
from mcpkit.transports.http.checks import client_address

URL = "http://127.0.0.1/mcp"
PING = {"jsonrpc": "2.0", "id": 5, "method": "ping"}


def proxies(*allowed: str) -> TrustedProxies:
    found = TrustedProxies.parse(allowed)
    assert found is not None
    return found


def client(trusted: TrustedProxies, peer: str, *lines: str) -> str | None:
    return trusted.client(peer, [line.encode() for line in lines])


def test_the_right_most_untrusted_entry_is_the_client_not_the_left_most() -> None:
    nginx = proxies("127.0.0.1")
    # The client wrote "1.2.3.4" itself; nginx appended the address it saw.
    assert client(nginx, "127.0.0.1", "1.2.3.4, 198.51.100.9") == "198.51.100.9"
    assert client(nginx, "127.0.0.1", "127.0.0.1, 198.51.100.9") == "198.51.100.9"
    assert client(nginx, "127.0.0.1", "198.51.100.9") == "198.51.100.9"


def test_several_proxies_are_walked_from_the_right() -> None:
    chain = proxies("127.0.0.1", "10.0.0.0/8")
    forwarded = "6.6.6.6, 203.0.113.5, 10.1.2.3, 10.9.9.9"
    assert client(chain, "127.0.0.1", forwarded) == "203.0.113.5"
    # Several header lines are one list, in order.
    assert client(chain, "127.0.0.1", "6.6.6.6, 203.0.113.5", "10.1.2.3") == "203.0.113.5"
    # A proxy asking itself: every entry trusted, the left-most is the client.
    assert client(chain, "127.0.0.1", "10.0.0.1, 10.0.0.2") == "10.0.0.1"


def test_ipv6_addresses_and_networks() -> None:
    trusted = proxies("::1", "fd00::/8")
    assert client(trusted, "::1", "2001:db8::1, fd00::7") == "2001:db8::1"
    assert client(trusted, "::1", "[2001:db8::2]") == "2001:db8::2"
    # With the port some proxies append: the address alone, as without it (before, no
    # address, and every such client counted as the proxy).
    assert client(trusted, "::1", "[2001:DB8::2]:4711") == "2001:db8::2"
    assert client(proxies("127.0.0.1"), "127.0.0.1", "192.0.2.8:4711") == "192.0.2.8"
    assert client(proxies("127.0.0.1"), "127.0.0.1", "[2001:db8::2") == "127.0.0.1"
    assert client(proxies("127.0.0.1"), "127.0.0.1", "192.0.2.8:") == "192.0.2.8"
    # A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6.
    assert client(proxies("127.0.0.1"), "::ffff:127.0.0.1", "192.0.2.8") == "192.0.2.8"


def test_garbage_where_the_client_should_be_counts_the_nearest_proxy() -> None:
    chain = proxies("127.0.0.1", "10.0.0.0/8")
    assert client(chain, "127.0.0.1", "unknown") == "127.0.0.1"
    assert client(chain, "127.0.0.1", "203.0.113.5, nonsense, 10.0.0.4") == "10.0.0.4"
    assert client(chain, "127.0.0.1", ", ") == "127.0.0.1"
    assert client(chain, "127.0.0.1", "\xff\x00, 10.0.0.4") == "10.0.0.4"
    # Garbage left of the client is the client's to write, and is never read.
    assert client(chain, "127.0.0.1", "junk, 203.0.113.5") == "203.0.113.5"


def test_no_header_or_an_untrusted_peer_leaves_the_peer() -> None:
    nginx = proxies("127.0.0.1")
    assert client(nginx, "127.0.0.1") is None
    assert client(nginx, "198.51.100.9", "127.0.0.1") is None
    assert client(nginx, "not-an-address", "203.0.113.5") is None
    scope = {"client": ("198.51.100.9", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    nginx.apply(scope)
    assert client_address(scope) == ("198.51.100.9", 5000)


def test_a_setting_that_names_no_address_is_refused_naming_it() -> None:
    assert TrustedProxies.parse([]) is None
    with pytest.raises(ValueError, match=r"forwarded_allow_ips: 'nginx' is not an IP address"):
        TrustedProxies.parse(["127.0.0.1", "nginx"])
    with pytest.raises(ValueError, match="forwarded_allow_ips"):
        McpHttpApp(Server("bad"), forwarded_allow_ips=["10.0.0.0/33"])


def behind_proxy(app: McpHttpApp, forwarded_for: str) -> httpx.AsyncClient:
    """A client whose requests reach `app` from 127.0.0.1 (the proxy), forwarded for it."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    return httpx.AsyncClient(transport=transport, headers={"x-forwarded-for": forwarded_for})


async def test_two_clients_behind_one_trusted_proxy_have_budgets_of_their_own() -> None:
    # Before: both counted as 127.0.0.1, so the second client's session ended the first's.
    app = McpHttpApp(
        Server("proxied"), max_sessions_per_address=1, forwarded_allow_ips=["127.0.0.1"]
    )
    async with (
        asyncio.timeout(WAIT),
        behind_proxy(app, "203.0.113.1") as first,
        behind_proxy(app, "203.0.113.1, 198.51.100.2") as second,
    ):
        mine = await open_session(first, URL)
        theirs = await open_session(second, URL)
        assert (await first.post(URL, json=PING, headers=headers(mine))).status_code == 200
        assert (await second.post(URL, json=PING, headers=headers(theirs))).status_code == 200
        # The second client naming the first's address, left of its own, is still itself.
        again = await second.post(URL, json=INITIALIZE, headers=headers())
        assert again.status_code == 200
        assert (await second.post(URL, json=PING, headers=headers(theirs))).status_code == 404
        assert (await first.post(URL, json=PING, headers=headers(mine))).status_code == 200


async def test_the_header_from_an_untrusted_peer_changes_nothing() -> None:
    app = McpHttpApp(Server("direct"), max_sessions_per_address=1, forwarded_allow_ips=["10.0.0.1"])
    async with (
        asyncio.timeout(WAIT),
        behind_proxy(app, "203.0.113.1") as first,
        behind_proxy(app, "198.51.100.2") as second,
    ):
        mine = await open_session(first, URL)
        await open_session(second, URL)  # both are 127.0.0.1: the first's session goes
        assert (await first.post(URL, json=PING, headers=headers(mine))).status_code == 404


def test_mcpkit_run_takes_the_trusted_proxies(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    argv = ["run", "server.py", "--transport", "http", "--forwarded-allow-ips", "127.0.0.1, ::1"]
    args = parser.parse_args(argv)
    options = http_options(args.verb_parser, args)
    assert options == {"forwarded_allow_ips": ["127.0.0.1", "::1"]}
    app = McpHttpApp(Server("cli"), **options)  # type: ignore[arg-type]  (a list, as parsed)
    scope = {"client": ("::1", 5000), "headers": [(b"x-forwarded-for", b"192.0.2.1")]}
    assert app.proxies is not None
    app.proxies.apply(scope)
    assert client_address(scope) == ("192.0.2.1", 0)
    with pytest.raises(SystemExit):
        parser.parse_args([*argv[:-1], "127.0.0.1,nginx"])
    assert "--forwarded-allow-ips: 'nginx' is not an IP address" in capsys.readouterr().err


async def test_the_fronts_register_budget_is_each_clients_behind_the_proxy() -> None:
    # Before: 165 registrations through nginx gave every other client 429 on /register.
    server = Server("fronted")
    front = make_front(FrontSettings(max_bytes_per_source=3000))
    server.auth = front.protect(server, resource="http://127.0.0.1/mcp")
    app = server.http_app(forwarded_allow_ips=["127.0.0.1"])
    body = {"redirect_uris": [REDIRECT]}
    async with (
        asyncio.timeout(WAIT),
        behind_proxy(app, "203.0.113.1") as flooder,
        behind_proxy(app, "198.51.100.2") as other,
    ):
        answers = [await flooder.post("http://127.0.0.1/register", json=body) for _ in range(8)]
        assert answers[0].status_code == 201 and answers[-1].status_code == 429
        assert (await other.post("http://127.0.0.1/register", json=body)).status_code == 201
