"""Request ids come from one source per process (mcpkit.protocol.ids), optionally prefixed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import msgspec
import pytest

from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import ResponseReceived
from mcpkit.protocol.ids import RequestIds, process_request_ids, set_request_id_prefix
from mcpkit.types import ClientCapabilities, Implementation


@pytest.fixture
def restore_prefix() -> Iterator[None]:
    before = process_request_ids().prefix
    yield
    set_request_id_prefix(before)


def client() -> ClientSession:
    return ClientSession(Implementation(name="c", version="1"), ClientCapabilities())


def sent_id(session: ClientSession) -> object:
    (out,) = session.data_to_send()
    return json.loads(out.data)["id"]


def test_two_sessions_never_share_an_id() -> None:
    first, second = client(), client()
    ids = []
    for session in (first, second, first, second):
        session.send_request("ping")
        ids.append(sent_id(session))
    assert len(set(ids)) == 4
    assert all(type(i) is int for i in ids)


def test_a_prefix_makes_string_ids_that_say_who_sent_them(restore_prefix: None) -> None:
    set_request_id_prefix("worker-3")
    session = client()
    session.send_request("ping")
    rid = sent_id(session)
    assert isinstance(rid, str) and rid.startswith("worker-3-")
    assert rid.rpartition("-")[2].isdigit()
    assert process_request_ids().issued(rid)
    assert not process_request_ids().issued(rid.replace("worker-3", "worker-4"))
    # The answer to a prefixed id is matched like any other.
    events = session.receive_data(msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "result": {}}))
    assert [(type(e), e.request_id) for e in events if isinstance(e, ResponseReceived)] == [
        (ResponseReceived, rid)
    ]
    assert len(events) == 1


def test_changing_the_prefix_never_repeats_an_id() -> None:
    ids = RequestIds("a")
    seen = {ids.next() for _ in range(15)}
    ids.prefix = "a-1"  # "a-1-2" can not equal "a-12": the count is after the last dash
    seen |= {ids.next() for _ in range(15)}
    ids.prefix = ""
    seen |= {ids.next() for _ in range(15)}
    assert len(seen) == 45


def test_issued_tells_ours_from_others() -> None:
    plain = RequestIds()
    assert plain.issued(7) and not plain.issued("7")
    named = RequestIds("h1")
    assert named.issued("h1-0")
    for other in ("h1-", "h1-x", "h10-3", "h1-3-", 3, "h1-\u00b2"):
        assert not named.issued(other), other


def test_threads_drawing_ids_at_once_get_distinct_ones() -> None:
    ids = RequestIds()
    got: list[list[object]] = [[] for _ in range(4)]

    def draw(out: list[object]) -> None:
        for _ in range(5000):
            out.append(ids.next())

    threads = [threading.Thread(target=draw, args=(out,)) for out in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    flat = [i for out in got for i in out]
    assert len(flat) == len(set(flat)) == 20000


def test_a_prefix_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="string"):
        set_request_id_prefix(3)  # type: ignore[arg-type]
