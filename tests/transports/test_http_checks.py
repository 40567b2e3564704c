"""The Streamable HTTP request checks, with plain calls: every rule, every hostile header, and
hypothesis over random header lists (never raises; always None or a well-formed refusal)."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.stores.sessions import new_session_id
from mcpkit.transports.guards.origin import OriginPolicy, is_loopback_bind
from mcpkit.transports.http.checks import (
    ASSUMED_REVISION,
    MAX_SESSION_ID_LENGTH,
    BodyLimit,
    EndpointPolicy,
    Headers,
    Refusal,
    check_accept,
    check_content_length,
    check_content_type,
    check_method,
    check_origin,
    check_request,
    protocol_version,
    refuse,
    session_id,
    unknown_session,
)
from mcpkit.types.methods import SUPPORTED_REVISIONS

LOCAL = OriginPolicy.for_bind("127.0.0.1", 8000)
BOTH = b"application/json, text/event-stream"


def assert_refused(result: object, status: int, *words: str) -> Refusal:
    """A well-formed refusal: the status, a JSON-RPC error with no id, bytes headers, and a
    bounded message naming `words` (a setting, the bad value)."""
    assert isinstance(result, Refusal), result
    assert result.status == status
    body = json.loads(result.body)
    assert body["jsonrpc"] == "2.0" and body["id"] is None
    error = body["error"]
    assert error["message"] == result.message
    # -32600, or the one refusal with its own code and data (2026-07-28's -32022)
    assert (error["code"] == -32600 and "data" not in error) or error["code"] == -32022
    assert (b"content-type", b"application/json") in result.headers
    for name, value in result.headers:
        assert name == name.lower() and name.isascii() and value.isascii()
    assert len(result.message) < 400
    for word in words:
        assert word in result.message, (word, result.message)
    return result


def host(value: bytes, *more: tuple[bytes, bytes]) -> Headers:
    return [(b"host", value), *more]


# --- Origin and Host -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        b"http://localhost:8000",
        b"http://127.0.0.1:8000",
        b"http://[::1]:8000",
        b"https://localhost:8000",
        b"HTTP://LOCALHOST:8000",
        b"http://[0:0:0:0:0:0:0:1]:8000",
        b" http://localhost:8000\t",
    ],
)
def test_loopback_origins_on_the_bound_port_pass(origin: bytes) -> None:
    assert check_origin(LOCAL, host(b"localhost:8000", (b"origin", origin))) is None


def test_no_origin_is_a_non_browser_client_and_passes() -> None:
    assert check_origin(LOCAL, host(b"127.0.0.1:8000")) is None


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"http://evil.example:8000",
        b"http://localhost:9999",
        b"http://localhost",  # port 80, not the bound one
        b"http://localhost.:8000",  # a trailing dot is another name
        b"null",  # sandboxed frames and file: pages
        b"http://localhost:8000/path",
        b"http://user@localhost:8000",
        b"http://localhost:8000:8000",
        b"http://localhost:99999",
        b"localhost:8000",
        b"",
        b"\xff\xfe",
        "http://l\u00f6calhost:8000".encode(),
        b"http://" + b"a" * 100_000,
        b"http://[::1:8000",
        b"http://[zz::1]:8000",
    ],
)
def test_any_other_origin_is_403_naming_allowed_origins(origin: bytes) -> None:
    refusal = check_origin(LOCAL, host(b"localhost:8000", (b"origin", origin)))
    assert_refused(refusal, 403, "allowed_origins")


def test_two_origin_headers_are_403_even_when_both_are_allowed() -> None:
    headers = host(b"localhost:8000", (b"origin", b"http://localhost:8000"))
    headers.append((b"origin", b"http://localhost:8000"))
    assert_refused(check_origin(LOCAL, headers), 403, "Origin")


@pytest.mark.parametrize(
    "value",
    [
        b"localhost:8000",
        b"LOCALHOST:8000",
        b"127.0.0.1:8000",
        b"[::1]:8000",
        b"[0:0::1]:8000",
        b"localhost",  # the name is the defence; some clients omit the port
        b"[::1]",
    ],
)
def test_loopback_hosts_pass(value: bytes) -> None:
    assert check_origin(LOCAL, host(value)) is None


@pytest.mark.parametrize(
    "value", [b"evil.example:8000", b"evil.example", b"localhost:8001", b"localhost.:8000"]
)
def test_a_foreign_host_is_421_naming_allowed_hosts(value: bytes) -> None:
    assert_refused(check_origin(LOCAL, host(value)), 421, "allowed_hosts")


@pytest.mark.parametrize(
    "value",
    [b"::1:8000", b"localhost:99999", b"localhost:", b"a b", b"\xff", b"", b"x" * 10_000],
)
def test_a_malformed_host_is_400(value: bytes) -> None:
    assert_refused(check_origin(LOCAL, host(value)), 400, "Host")


def test_a_missing_or_repeated_host_is_400() -> None:
    assert_refused(check_origin(LOCAL, []), 400, "Host")
    twice = [(b"host", b"localhost:8000"), (b"host", b"localhost:8000")]
    assert_refused(check_origin(LOCAL, twice), 400, "Host")


def test_an_unknown_port_allows_loopback_names_on_any_port() -> None:
    policy = OriginPolicy.for_bind("localhost")
    assert check_origin(policy, host(b"localhost:1234", (b"origin", b"http://[::1]:5"))) is None
    assert_refused(check_origin(policy, host(b"evil.example:1234")), 421)
    refusal = check_origin(policy, host(b"localhost:1", (b"origin", b"http://evil.example:1")))
    assert_refused(refusal, 403)


def test_a_loopback_bind_address_is_a_loopback_name() -> None:
    policy = OriginPolicy.for_bind("127.0.0.2", 9)
    assert check_origin(policy, host(b"127.0.0.2:9", (b"origin", b"http://127.0.0.2:9"))) is None
    ipv6 = OriginPolicy.for_bind("::1", 9)
    assert check_origin(ipv6, host(b"[::1]:9")) is None


@pytest.mark.parametrize(
    ("bind", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LocalHost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.2", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_bind(bind: str, local: bool) -> None:
    assert is_loopback_bind(bind) is local


def test_a_public_bind_refuses_every_browser_origin_unless_listed() -> None:
    # Issue 19: with --host 0.0.0.0 every forged Origin was accepted, and headless Chromium
    # on a rebinding name initialized a session and called a tool.
    policy = OriginPolicy.for_bind("0.0.0.0", 80)
    assert policy.enabled and not policy.check_host
    for origin in (b"http://rebind.example", b"null", b"http://localhost:80"):
        refusal = check_origin(policy, [(b"origin", origin), (b"host", b"rebind.example")])
        assert_refused(refusal, 403, "allowed_origins")
    # No Origin: not a browser, so not DNS rebinding; the Host is the deployment's to name.
    assert check_origin(policy, [(b"host", b"mcp.example.com")]) is None


def test_only_an_explicit_setting_turns_protection_off() -> None:
    off = OriginPolicy.for_bind("0.0.0.0", 80, dns_rebinding_protection=False)
    headers = [(b"origin", b"null"), (b"host", b"\xff"), (b"host", b"x")]
    assert check_origin(off, headers) is None


def test_a_public_bind_with_allowed_origins_checks_origin_only() -> None:
    policy = OriginPolicy.for_bind("0.0.0.0", 443, allowed_origins=["https://App.example.com/"])
    ok = host(b"anything.example", (b"origin", b"https://app.example.com:443"))
    assert check_origin(policy, ok) is None
    bad = host(b"anything.example", (b"origin", b"https://app.example.com:8443"))
    assert_refused(check_origin(policy, bad), 403, "allowed_origins")


def test_a_public_bind_with_allowed_hosts_checks_host() -> None:
    policy = OriginPolicy.for_bind("::", 443, allowed_hosts=["mcp.example.com", "[::1]:8443"])
    for value in (b"mcp.example.com", b"MCP.example.com:443", b"mcp.example.com:9", b"[::1]:8443"):
        assert check_origin(policy, host(value)) is None, value
    assert_refused(check_origin(policy, host(b"[::1]:8000")), 421)
    assert_refused(check_origin(policy, host(b"other.example.com")), 421)


def test_null_passes_only_when_listed() -> None:
    policy = OriginPolicy.for_bind("127.0.0.1", 8000, allowed_origins=["null"])
    assert check_origin(policy, host(b"localhost:8000", (b"origin", b"null"))) is None


def test_protection_can_be_turned_off_and_on() -> None:
    off = OriginPolicy.for_bind("127.0.0.1", 8000, dns_rebinding_protection=False)
    assert check_origin(off, host(b"evil.example", (b"origin", b"http://evil.example"))) is None
    on = OriginPolicy.for_bind("0.0.0.0", 80, dns_rebinding_protection=True)
    refusal = check_origin(on, [(b"origin", b"http://evil.example")])
    assert_refused(refusal, 403, "allowed_origins")


@pytest.mark.parametrize(
    ("setting", "entry"),
    [
        ("allowed_origins", "app.example.com"),
        ("allowed_origins", "https://app.example.com/path"),
        ("allowed_origins", "https://h\u00e9.example"),
        ("allowed_hosts", "https://mcp.example.com"),
        ("allowed_hosts", "mcp.example.com:99999"),
        ("allowed_hosts", ""),
    ],
)
def test_a_bad_setting_entry_raises_naming_it(setting: str, entry: str) -> None:
    with pytest.raises(ValueError, match=setting) as caught:
        OriginPolicy.for_bind("127.0.0.1", 8000, **{setting: [entry]})
    assert repr(entry) in str(caught.value)


# --- Method ----------------------------------------------------------------------------------


def test_post_get_and_delete_are_offered() -> None:
    for method in ("POST", "GET", "DELETE"):
        assert check_method(method) is None


def allow_of(refusal: Refusal) -> bytes:
    return dict(refusal.headers)[b"allow"]


def test_a_method_switched_off_is_405_naming_its_setting() -> None:
    no_get = assert_refused(check_method("GET", allow_get=False), 405, "allow_get")
    assert allow_of(no_get) == b"POST, DELETE"
    no_delete = assert_refused(check_method("DELETE", allow_delete=False), 405, "allow_delete")
    assert allow_of(no_delete) == b"POST, GET"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "HEAD", "OPTIONS", "post", "", "X" * 10_000])
def test_other_methods_are_405_with_allow(method: str) -> None:
    refusal = assert_refused(check_method(method), 405)
    assert allow_of(refusal) == b"POST, GET, DELETE"


# --- Accept ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        [BOTH],
        [b"text/event-stream, application/json"],
        [b"*/*"],
        [b"application/*, text/*"],
        [b"APPLICATION/JSON, Text/Event-Stream"],
        [b"application/json;q=0.5, text/event-stream;q=0.001"],
        [b"application/json; charset=utf-8, text/event-stream ; q=1.000"],
        [b"application/json", b"text/event-stream"],  # two lines mean one list
        [b"garbage, ,;;, application/json, text/event-stream"],
    ],
)
def test_post_accepting_json_and_sse_passes(accept: list[bytes]) -> None:
    assert check_accept("POST", [(b"accept", value) for value in accept]) is None


@pytest.mark.parametrize(
    ("accept", "missing"),
    [
        ([], "application/json and text/event-stream"),
        ([b"application/json"], "text/event-stream"),
        ([b"text/event-stream"], "application/json"),
        ([b"application/json;q=0, */*"], "application/json"),
        ([b"*/*;q=0"], "application/json and text/event-stream"),
        ([b"text/html"], "application/json and text/event-stream"),
        ([b"application/json;q=2, text/event-stream"], "application/json"),
        ([b"application/json;q=abc, text/event-stream"], "application/json"),
        ([b"\xff\xfe/\x00"], "application/json and text/event-stream"),
        ([b"application/json, " * 5_000], "text/event-stream"),
    ],
)
def test_post_without_both_is_406_saying_what_is_missing(accept: list[bytes], missing: str) -> None:
    refusal = check_accept("POST", [(b"accept", value) for value in accept])
    assert_refused(refusal, 406, f"listing {missing} (")


def test_json_only_servers_need_only_json_and_say_so() -> None:
    only_json = [(b"accept", b"application/json")]
    assert check_accept("POST", only_json, json_only=True) is None
    assert_refused(check_accept("POST", only_json), 406, "json_only=True")
    refusal = check_accept("POST", [(b"accept", b"text/event-stream")], json_only=True)
    assert_refused(refusal, 406, "application/json")


def test_get_needs_event_stream_and_delete_needs_nothing() -> None:
    assert check_accept("GET", [(b"accept", b"text/event-stream")]) is None
    assert check_accept("GET", [(b"accept", b"*/*")]) is None
    assert_refused(check_accept("GET", [(b"accept", b"application/json")]), 406)
    assert_refused(check_accept("GET", []), 406, "got none")
    assert check_accept("DELETE", []) is None


# --- Content-Type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b"application/json",
        b"Application/JSON; charset=UTF-8",
        b'application/json;charset="utf-8"',
        b"application/json ; charset=utf8",
        b"application/json; foo=bar",
    ],
)
def test_json_content_types_pass(value: bytes) -> None:
    assert check_content_type([(b"content-type", value)]) is None


@pytest.mark.parametrize(
    "values",
    [
        [],
        [b"text/plain"],
        [b"application/json-patch+json"],
        [b"application/jsonx"],
        [b"application/json; charset=latin-1"],
        [b"application/json", b"application/json"],
        [b"\xff"],
        [b"text/plain" * 10_000],
    ],
)
def test_anything_else_is_415(values: list[bytes]) -> None:
    refusal = check_content_type([(b"content-type", value) for value in values])
    assert_refused(refusal, 415, "application/json")


# --- MCP-Protocol-Version -------------------------------------------------------------------


@pytest.mark.parametrize("revision", SUPPORTED_REVISIONS)
def test_supported_revisions_pass(revision: str) -> None:
    headers = [(b"mcp-protocol-version", f" {revision}\t".encode())]
    assert protocol_version(headers) == revision


def test_an_absent_version_means_2025_03_26() -> None:
    assert protocol_version([]) == ASSUMED_REVISION == "2025-03-26"
    refusal = protocol_version([], supported=("2025-11-25",))
    assert_refused(refusal, 400, "2025-11-25")


@pytest.mark.parametrize(
    "values",
    [
        [b"2099-01-01"],
        [b"2025-11-25x"],
        [b"2025-11-25", b"2025-11-25"],
        [b""],
        [b"\xff2025-11-25"],
        [b"9" * 100_000],
    ],
)
def test_an_unsupported_or_malformed_version_is_400(values: list[bytes]) -> None:
    refusal = protocol_version([(b"mcp-protocol-version", value) for value in values])
    assert_refused(refusal, 400, "MCP-Protocol-Version", "2025-11-25")
    assert isinstance(refusal, Refusal)
    error = json.loads(refusal.body)["error"]
    if values == [b"2099-01-01"]:  # a revision's name: 2026-07-28's UnsupportedProtocolVersion
        assert error["code"] == -32022
        assert error["data"] == {"supported": list(SUPPORTED_REVISIONS), "requested": "2099-01-01"}
    else:
        assert error["code"] == -32600 and "data" not in error


# --- Mcp-Session-Id -------------------------------------------------------------------------


def test_new_session_ids_are_random_visible_ascii_and_read_back() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        assert len(value) == 43 and all(0x21 <= ord(c) <= 0x7E for c in value)
        assert session_id([(b"mcp-session-id", value.encode())], required=True) == value


def test_a_missing_session_id_is_400_only_where_required() -> None:
    assert session_id([], required=False) is None
    assert_refused(session_id([], required=True), 400, "Mcp-Session-Id", "stateless")


@pytest.mark.parametrize(
    "values",
    [
        [b""],
        [b"a b"],
        [b"abc\x7f"],
        [b"abc\x00"],
        [b"\xff\xfe"],
        ["s\u00e9ssion".encode()],
        [b"x" * (MAX_SESSION_ID_LENGTH + 1)],
        [b"x" * 1_000_000],
        [b"abc", b"abc"],
    ],
)
def test_a_malformed_session_id_is_400_before_any_lookup(values: list[bytes]) -> None:
    headers = [(b"mcp-session-id", value) for value in values]
    for required in (True, False):
        assert_refused(session_id(headers, required=required), 400, "Mcp-Session-Id")


def test_the_longest_session_id_and_every_visible_character_pass() -> None:
    longest = b"x" * MAX_SESSION_ID_LENGTH
    assert session_id([(b"mcp-session-id", longest)], required=True) == longest.decode()
    visible = bytes(range(0x21, 0x7F))
    assert session_id([(b"mcp-session-id", visible)], required=True) == visible.decode()


def test_an_unknown_session_is_404_telling_the_client_to_initialize() -> None:
    refusal = unknown_session(new_session_id())
    assert_refused(refusal, 404, "initialize a new session")


# --- Body size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [[], [b"0"], [b"1000"], [b"0000001000"], [b"5, 5"], [b"5", b"5"], [b" 7 "]]
)
def test_a_content_length_within_the_limit_passes(values: list[bytes]) -> None:
    assert check_content_length([(b"content-length", v) for v in values], 1000) is None


@pytest.mark.parametrize("value", [b"1001", b"9" * 10_000, b"1" + b"0" * 5_000])
def test_a_content_length_over_the_limit_is_413_at_once(value: bytes) -> None:
    refusal = check_content_length([(b"content-length", value)], 1000)
    assert_refused(refusal, 413, "max_message_size", "1000")


@pytest.mark.parametrize(
    "values",
    [[b"abc"], [b"-1"], [b"1e3"], [b""], ["\u0661\u0662".encode()], [b"5, 6"], [b"5", b"6"]],
)
def test_a_bad_content_length_is_400(values: list[bytes]) -> None:
    refusal = check_content_length([(b"content-length", v) for v in values], 1000)
    assert_refused(refusal, 400, "Content-Length")


def test_body_limit_refuses_once_the_count_passes_the_limit() -> None:
    limit = BodyLimit(10)
    assert limit.add(4) is None and limit.add(6) is None
    assert_refused(limit.add(1), 413, "max_message_size", "10")
    assert limit.received == 11


def test_memoized_parsing_stays_bounded_whatever_a_peer_sends() -> None:
    def send_new_values(start: int, count: int, size: int) -> None:
        for n in range(start, start + count):
            value = b"%d," % n + b"x" * size
            headers = [(b"accept", value), (b"host", value), (b"content-type", value)]
            check_request(EndpointPolicy(origin=LOCAL), "POST", headers)
            check_origin(LOCAL, [(b"host", b"localhost:8000"), (b"origin", value)])

    tracemalloc.start()
    try:
        send_new_values(0, 1000, 200)  # fills the memo with short values
        before = tracemalloc.get_traced_memory()[0]
        send_new_values(1000, 5000, 200)
        send_new_values(6000, 500, 20_000)  # long values are never remembered
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, after - before


# --- The whole chain ------------------------------------------------------------------------

TYPICAL_POST: Headers = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"accept", BOTH),
    (b"content-type", b"application/json"),
    (b"content-length", b"97"),
    (b"mcp-protocol-version", b"2025-11-25"),
    (b"mcp-session-id", b"tOYP6Zg4cQ8lIXbZcbEoDVl5cr6ETkcXcCXx1fUlWlY"),
]


def replaced(headers: Headers, name: bytes, value: bytes) -> Headers:
    return [(n, value if n == name else v) for n, v in headers]


def test_a_typical_post_and_get_pass() -> None:
    policy = EndpointPolicy(origin=LOCAL)
    assert check_request(policy, "POST", TYPICAL_POST) is None
    get = [(b"host", b"localhost:8000"), (b"accept", b"text/event-stream")]
    assert check_request(policy, "GET", get) is None
    assert check_request(EndpointPolicy(), "DELETE", [(b"host", b"localhost:1")]) is None
    # A GET has no body: its Content-Type and Content-Length are not judged.
    untyped = replaced(replaced(TYPICAL_POST, b"content-type", b"x"), b"content-length", b"-")
    assert check_request(policy, "GET", untyped) is None


@pytest.mark.parametrize(
    ("method", "name", "value", "status"),
    [
        ("POST", b"host", b"evil.example:8000", 421),
        ("PUT", b"host", b"evil.example:8000", 421),  # a foreign page learns nothing else
        ("PUT", b"accept", b"text/html", 405),
        ("POST", b"accept", b"text/html", 406),
        ("POST", b"content-type", b"text/plain", 415),
        ("POST", b"content-length", b"999999999999", 413),
    ],
)
def test_the_chain_refuses_in_order(method: str, name: bytes, value: bytes, status: int) -> None:
    refusal = check_request(
        EndpointPolicy(origin=LOCAL), method, replaced(TYPICAL_POST, name, value)
    )
    assert_refused(refusal, status)


def test_the_chain_reads_its_settings() -> None:
    policy = EndpointPolicy(origin=LOCAL, json_only=True, max_message_size=50)
    headers = replaced(TYPICAL_POST, b"accept", b"application/json")
    assert_refused(check_request(policy, "POST", headers), 413, "max_message_size")
    headers = replaced(headers, b"content-length", b"50")
    assert check_request(policy, "POST", headers) is None
    no_get = EndpointPolicy(origin=LOCAL, allow_get=False)
    assert_refused(check_request(no_get, "GET", TYPICAL_POST), 405, "allow_get")


def test_refuse_builds_any_status_with_extra_headers() -> None:
    refusal = refuse(404, "session 'x' is unknown: initialize again", headers=[(b"x-a", b"1")])
    assert_refused(refusal, 404, "initialize again")
    assert refusal.headers[-1] == (b"x-a", b"1")


# --- Hostile header lists -------------------------------------------------------------------

NAMES = [b"host", b"origin", b"accept", b"content-type", b"content-length"]
NAMES += [b"mcp-protocol-version", b"mcp-session-id", b"x-other"]
FRAGMENTS = [
    "localhost", "127.0.0.1", "[::1]", "::1", ":8000", ":", "http://", "https://", "null",
    "application/json", "text/event-stream", "*/*", ";q=0", ";q=0.5", ",", ";", " ", "=", '"',
    "charset=utf-8", "2025-11-25", "2025-03-26", "0", "99999", "[", "]", "/", ".", "\u00e9",
]  # fmt: skip
crafted = st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(
    lambda parts: "".join(parts).encode()
)
# Enormous values are repeats: generating 20 kB of random bytes is what would take the time.
huge = st.binary(min_size=1, max_size=16).map(lambda part: part * 1000)
values = crafted | st.binary(max_size=64) | huge
header_lists = st.lists(
    st.tuples(st.sampled_from(NAMES) | st.binary(max_size=8), values), max_size=10
)
policies = st.sampled_from(
    [
        EndpointPolicy(origin=LOCAL),
        EndpointPolicy(origin=OriginPolicy.for_bind("localhost"), json_only=True),
        EndpointPolicy(origin=OriginPolicy.for_bind("0.0.0.0", 80), allow_get=False),
        EndpointPolicy(
            origin=OriginPolicy.for_bind(
                "::", 443, allowed_origins=["https://a.example"], allowed_hosts=["a.example"]
            ),
            allow_delete=False,
            max_message_size=10,
        ),
    ]
)
methods = st.sampled_from(["POST", "GET", "DELETE", "PUT", "post", ""]) | st.text(max_size=10)


def well_formed_or_none(result: Any, *also: type) -> None:
    if isinstance(result, Refusal):
        assert_refused(result, result.status)
        assert result.status in (400, 403, 405, 406, 413, 415, 421)
    else:
        assert result is None or isinstance(result, also), result


@settings(max_examples=300, deadline=None)
@given(policies, methods, header_lists)
def test_random_headers_never_raise_and_every_refusal_is_well_formed(
    policy: EndpointPolicy, method: str, headers: Headers
) -> None:
    well_formed_or_none(check_request(policy, method, headers))
    well_formed_or_none(check_content_type(headers))
    well_formed_or_none(check_content_length(headers, policy.max_message_size))
    well_formed_or_none(protocol_version(headers), str)
    for required in (True, False):
        well_formed_or_none(session_id(headers, required=required), str)
