"""`check_request` remembers what a client's repeated headers decide (`EndpointPolicy.verdicts`):
a request whose Origin, Host, Accept and Content-Type were seen is judged by a lookup, with
the same answer as the first time, its own Content-Length still checked, and a bounded memo."""

from __future__ import annotations

import tracemalloc

import pytest

from mcpkit.transports.guards.origin import OriginPolicy
from mcpkit.transports.http import checks
from mcpkit.transports.http.checks import EndpointPolicy, Headers, Refusal, check_request

LOCAL = OriginPolicy.for_bind("127.0.0.1", 8000)
BOTH = b"application/json, text/event-stream"


def post(length: bytes = b"97", origin: bytes | None = None) -> Headers:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"accept", BOTH),
        (b"content-type", b"application/json"),
        (b"content-length", length),
    ]
    return headers if origin is None else [*headers, (b"origin", origin)]


def test_headers_seen_before_are_judged_without_parsing_them_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judged: list[str] = []
    original = checks.values_problem

    def counted(*args: object) -> object:
        judged.append("origin and host")
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(checks, "values_problem", counted)
    policy = EndpointPolicy(origin=LOCAL)
    for length in (b"97", b"98", b"1234"):
        assert check_request(policy, "POST", post(length)) is None
    assert judged == ["origin and host"]


def test_a_remembered_refusal_is_the_same_refusal() -> None:
    policy = EndpointPolicy(origin=LOCAL)
    first = check_request(policy, "POST", post(origin=b"https://evil.example"))
    again = check_request(policy, "POST", post(b"12", origin=b"https://evil.example"))
    assert isinstance(first, Refusal) and first.status == 403
    assert again == first


def test_content_length_is_checked_on_every_request() -> None:
    policy = EndpointPolicy(origin=LOCAL, max_message_size=100)
    assert check_request(policy, "POST", post(b"100")) is None
    too_large = check_request(policy, "POST", post(b"101"))
    assert isinstance(too_large, Refusal) and too_large.status == 413
    bad = check_request(policy, "POST", post(b"1e3"))
    assert isinstance(bad, Refusal) and bad.status == 400
    assert check_request(policy, "POST", post(b"0000000000000000000000100")) is None


def test_a_repeated_header_is_judged_by_all_its_values() -> None:
    policy = EndpointPolicy(origin=LOCAL)
    assert check_request(policy, "POST", post(origin=b"http://localhost:8000")) is None
    twice = [*post(origin=b"http://localhost:8000"), (b"origin", b"http://localhost:8000")]
    refused = check_request(policy, "POST", twice)
    assert isinstance(refused, Refusal) and refused.status == 403
    lengths = [*post(b"97"), (b"content-length", b"98")]
    refused = check_request(policy, "POST", lengths)
    assert isinstance(refused, Refusal) and refused.status == 400


def test_the_method_is_part_of_what_is_remembered() -> None:
    policy = EndpointPolicy(origin=LOCAL, allow_delete=False)
    assert check_request(policy, "POST", post()) is None
    refused = check_request(policy, "DELETE", post())
    assert isinstance(refused, Refusal) and refused.status == 405


def test_the_memo_stays_bounded_whatever_a_peer_sends() -> None:
    policy = EndpointPolicy(origin=LOCAL)

    def send_new_values(start: int, count: int, size: int) -> None:
        for n in range(start, start + count):
            value = b"%d," % n + b"x" * size
            headers = [(b"accept", value), (b"host", value), (b"content-type", value)]
            check_request(policy, "POST", headers)

    send_new_values(0, 1000, 100)  # fills the memo
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        send_new_values(1000, 5000, 100)
        send_new_values(6000, 500, 20_000)  # long values are never remembered
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(policy.verdicts) <= 256
    assert after - before < 256 * 1024, after - before
