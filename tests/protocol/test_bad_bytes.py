"""Whatever bytes arrive, `receive_data` answers as JSON-RPC says and the session goes on,
in both roles: invalid UTF-8 anywhere, invalid JSON, JSON of the wrong shape, nesting past
the depth limit, in single messages, batches, requests and responses to our own requests."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.errors import PeerError
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import ErrorReceived, RequestReceived, ResponseReceived, StrayResponse
from mcpkit.protocol.limits import MAX_JSON_DEPTH
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.session import Session
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities

PARSE, INVALID = codes.PARSE_ERROR, codes.INVALID_REQUEST


def new_server(
    version: str = "2025-11-25", *, operating: bool = True, **options: Any
) -> ServerSession:
    session = ServerSession(
        Implementation(name="s", version="1"),
        msgspec.convert({"tools": {}}, ServerCapabilities),
        **options,
    )
    if operating:
        session.receive_data(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": "init",
                    "method": "initialize",
                    "params": {
                        "protocolVersion": version,
                        "capabilities": {"roots": {}},
                        "clientInfo": {"name": "c", "version": "1"},
                    },
                }
            ).encode()
        )
        session.receive_data(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        session.data_to_send()
    return session


def new_client(version: str = "2025-11-25", **options: Any) -> ClientSession:
    session = ClientSession(
        Implementation(name="c", version="1"),
        msgspec.convert({"roots": {}}, ClientCapabilities),
        **options,
    )
    rid = session.start(version)
    session.data_to_send()
    session.receive_data(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "result": {
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "s", "version": "1"},
                },
            }
        ).encode()
    )
    session.data_to_send()
    return session


ROLES = {"server": new_server, "client": new_client}


def sent(session: Session) -> list[Any]:
    return [json.loads(item.data) for item in session.data_to_send()]


def answers_ping(session: Session) -> None:
    assert session.receive_data(b'{"jsonrpc":"2.0","id":"after","method":"ping"}') == []
    assert sent(session) == [{"jsonrpc": "2.0", "id": "after", "result": {}}]


def assert_refused(session: Session, data: bytes, code: int, rid: Any) -> None:
    assert session.receive_data(data) == []
    (reply,) = sent(session)
    assert reply["error"]["code"] == code, reply
    assert reply["id"] == rid, reply
    assert reply["error"]["message"]
    answers_ping(session)


def deep(levels: int) -> bytes:
    """A JSON array nested `levels` deep (2 bytes a level: 1,000 levels in 2 KB)."""
    return b"[" * levels + b"]" * levels


NOT_UTF8 = [
    (b'{"jsonrpc":"2.0","id":1,"method":"pi\xffng"}', 1),  # in the method
    (b'{"jsonrpc":"2.0","id":"a\xff","method":"ping"}', None),  # in the id
    (b'{"jsonrpc":"2.\xff","id":1,"method":"ping"}', None),  # in "jsonrpc"
    (b'{"jsonrpc":"2.0","method":"notifications/\xff"}', None),  # a notification's method
    (b'{"jsonrpc":"2.0","id":2,"m\xffethod":"ping"}', None),  # in a key
    (b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta":{"x":"\xc3("}}}', 3),
    (b'{"jsonrpc":"2.0","id":4,"method":"ping","params":{"_meta":{"x":"\xc0\x80"}}}', 4),
    (b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":{"x":"\xed\xa0\x80"}}}', 5),
    (b'{"jsonrpc":"2.0","id":6,"method":"ping","params":{"_meta":{"x":"\xf4\x90\x80\x80"}}}', 6),
    (b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"_meta":{"x":"\xe6\x97"}}}', 7),
    (b'{"jsonrpc":"2.0","id":8,"method":"ping"}\x80', 8),  # after the message
    (b"\xff\xfe{}", None),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("data", "rid"), NOT_UTF8)
def test_invalid_utf8_anywhere_is_a_parse_error(role: str, data: bytes, rid: Any) -> None:
    assert_refused(ROLES[role](), data, PARSE, rid)


@pytest.mark.parametrize(("data", "rid"), NOT_UTF8[:5])
def test_invalid_utf8_as_the_first_line(data: bytes, rid: Any) -> None:
    server = new_server(operating=False)
    assert_refused(server, data, PARSE, rid)
    server.receive_data(
        b'{"jsonrpc":"2.0","id":"i","method":"initialize","params":{'
        b'"protocolVersion":"2025-11-25","capabilities":{},'
        b'"clientInfo":{"name":"c","version":"1"}}}'
    )
    (reply,) = sent(server)
    assert reply["result"]["protocolVersion"] == "2025-11-25"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("data", "code", "rid"),
    [
        (b'"abc" x', PARSE, None),  # not an object and not JSON: a parse error, not -32600
        (b'{"jsonrpc":"2.0","id":4,"method":"ping"} x', PARSE, 4),
        (b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{x}}', PARSE, 5),
        (b'{"jsonrpc":"2.0","id":6,"method":"ping","params":{"_meta":{"x":"\\ud800"}}}', PARSE, 6),
        (b"{not json", PARSE, None),
        (b"", PARSE, None),
        (b"42", INVALID, None),
        (b'"abc"', INVALID, None),
        (b"null", INVALID, None),
        (b"{}", INVALID, None),
        (b"[]", INVALID, None),  # no batches in 2025-11-25
        (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', INVALID, None),
        (b'{"jsonrpc":"2.0","id":true,"method":"ping"}', INVALID, None),
        (b'{"jsonrpc":"2.0","id":7,"method":5}', INVALID, 7),
    ],
)
def test_invalid_json_is_a_parse_error_and_the_wrong_shape_is_invalid(
    role: str, data: bytes, code: int, rid: Any
) -> None:
    assert_refused(ROLES[role](), data, code, rid)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("data", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":' + deep(1000) + b',"method":"ping"}', None),
        (
            b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"_meta":{"x":'
            + deep(1000)
            + b"}}}",
            9,
        ),
        (
            b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"t","arguments":{"a":'
            + deep(1000)
            + b"}}}",
            9,
        ),
        (b'{"jsonrpc":"2.0","method":"notifications/progress","params":' + deep(1000) + b"}", None),
        (deep(5000), None),
        (b"{" * 1000, None),  # not even closed
        (b"{" * 300, None),  # short, and no `[`: refused for its depth all the same
    ],
)
def test_deep_nesting_is_refused_under_the_id_the_head_shows(
    role: str, data: bytes, rid: Any
) -> None:
    assert len(data) < 12_000
    assert_refused(ROLES[role](), data, INVALID, rid)


@pytest.mark.parametrize("role", ROLES)
def test_the_depth_limit_is_exact_and_set_per_session(role: str) -> None:
    session = ROLES[role](max_json_depth=5)
    assert session.max_json_depth == 5
    # envelope, params, _meta, x, and the innermost array: five levels
    at_limit = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"x":[[1]]}}}'
    assert session.receive_data(at_limit) == []
    assert sent(session) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert_refused(session, at_limit.replace(b"[[1]]", b"[[[1]]]"), INVALID, 1)
    assert ROLES[role]().max_json_depth == MAX_JSON_DEPTH == 256


@pytest.mark.parametrize("role", ROLES)
def test_a_depth_limit_above_the_interpreters_still_never_raises(role: str) -> None:
    session = ROLES[role](max_json_depth=10**9)
    data = b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta":{"x":' + deep(50_000)
    assert_refused(session, data + b"}}}", INVALID, 3)


@pytest.mark.parametrize("depth", [0, -1])
def test_a_depth_limit_below_one_is_refused(depth: int) -> None:
    with pytest.raises(ValueError, match="max_json_depth"):
        new_server(max_json_depth=depth)


# ------------------------------------------------- responses to our own requests


def with_pending(role: str) -> tuple[Session, Any, Any]:
    """A session with two requests of ours awaiting answers."""
    session = ROLES[role]()
    method = "roots/list" if role == "server" else "tools/list"
    first, second = session.send_request(method), session.send_request(method)
    session.data_to_send()
    return session, first, second


BAD_RESPONSES = [
    (
        b'{"jsonrpc":"2.0","id":RID,"result":{"tools":[{"name":"\xff"}],"roots":["\xff"]}}',
        PARSE,
        "not valid UTF-8",
    ),
    (
        b'{"jsonrpc":"2.0","id":RID,"result":{"x":' + deep(1000) + b"}}",
        INVALID,
        "more than 256 levels",
    ),
    (b'{"jsonrpc":"2.0","id":RID,"result":{x}}', PARSE, "Parse error"),
    (b'{"jsonrpc":"2.0","id":RID,"result":{}} trailing', PARSE, "Parse error"),
    (
        b'{"jsonrpc":"2.0","id":RID,"result":{"tools":7,"roots":7}}',
        codes.INVALID_PARAMS,
        "Invalid result",
    ),
    (b'{"jsonrpc":"2.0","id":RID,"error":{"code":"x","message":"m"}}', INVALID, "$.error"),
    (b'{"jsonrpc":"2.0","id":RID,"error":{"code":1,"message":"\xe2\x82"}}', PARSE, "UTF-8"),
    (
        b'{"jsonrpc":"2.0","id":RID,"result":{},"error":{"code":1,"message":"m"}}',
        INVALID,
        "both result and error",
    ),
    (b'{"jsonrpc":"1.0","id":RID,"result":{}}', INVALID, '"jsonrpc" must be "2.0"'),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("template", "code", "says"), BAD_RESPONSES)
def test_a_bad_response_fails_exactly_that_request(
    role: str, template: bytes, code: int, says: str
) -> None:
    session, first, second = with_pending(role)
    (event,) = session.receive_data(template.replace(b"RID", str(first).encode()))
    assert isinstance(event, ErrorReceived) and event.request_id == first
    assert isinstance(event.error, PeerError) and event.error.code == code
    assert says in event.error.message
    assert sent(session) == []  # a response is never answered
    assert not session.is_pending(first) and session.is_pending(second)
    answers_ping(session)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("template", "code", "says"), BAD_RESPONSES)
def test_a_bad_response_to_nothing_of_ours_is_ignored(
    role: str, template: bytes, code: int, says: str
) -> None:
    session, first, second = with_pending(role)
    events = session.receive_data(template.replace(b"RID", b'"nobody"'))
    # Not decoded: at most reported as stray (when its envelope is sound), for the broker.
    assert len(events) <= 1
    for ev in events:
        assert isinstance(ev, StrayResponse) and ev.request_id == "nobody"
        assert msgspec.json.decode(ev.data)["id"] == "nobody"
    assert sent(session) == []
    assert session.is_pending(first) and session.is_pending(second)
    answers_ping(session)


def test_an_invalid_notification_is_still_ignored() -> None:
    client = new_client()
    bad = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":"x"}}'
    assert client.receive_data(bad) == []
    assert sent(client) == []
    answers_ping(client)


def test_a_server_request_with_invalid_utf8_params_fails_under_its_id() -> None:
    client = new_client()
    data = b'{"jsonrpc":"2.0","id":"r","method":"roots/list","params":{"_meta":{"\xff":1}}}'
    assert_refused(client, data, PARSE, "r")


# --------------------------------------------------------- batches (2025-03-26)

BATCH_REVISION = "2025-03-26"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            b'[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","id":"b","method":"p\xff"}]',
            PARSE,
        ),
        (b'[{"jsonrpc":"2.0","id":"a","method":"ping"},' + deep(1000) + b"]", INVALID),
        (b'[{"jsonrpc":"2.0","id":"a","method":"ping"},{x}]', PARSE),
        (b'[{"jsonrpc":"2.0","id":"a","method":"ping"}', PARSE),
    ],
)
def test_a_batch_that_cannot_be_read_gets_one_error(role: str, data: bytes, code: int) -> None:
    assert_refused(ROLES[role](BATCH_REVISION), data, code, None)


@pytest.mark.parametrize("role", ROLES)
def test_a_batch_answers_each_member_and_fails_our_request_on_a_bad_response(role: str) -> None:
    session = ROLES[role](BATCH_REVISION)
    method = "roots/list" if role == "server" else "tools/list"
    rid = session.send_request(method)
    session.data_to_send()
    data = (
        b'[1, {"jsonrpc":"2.0","id":"a","method":"ping"},'
        b'{"jsonrpc":"2.0","id":' + str(rid).encode() + b',"result":{"tools":7,"roots":7}},'
        b'{"jsonrpc":"2.0","id":"n","method":"ping","params":7}]'
    )
    (event,) = session.receive_data(data)
    assert isinstance(event, ErrorReceived) and event.request_id == rid
    (replies,) = sent(session)
    by_id = {reply["id"]: reply for reply in replies}
    assert set(by_id) == {None, "a", "n"}
    assert by_id[None]["error"]["code"] == INVALID
    assert by_id["a"]["result"] == {}
    assert by_id["n"]["error"]["code"] == codes.INVALID_PARAMS
    answers_ping(session)


# ------------------------------------------------------------- still working


@pytest.mark.parametrize("role", ROLES)
def test_good_messages_beside_the_bad_still_work(role: str) -> None:
    session = ROLES[role]()
    for data, _ in NOT_UTF8:
        session.receive_data(data)
    session.receive_data(deep(3000))
    sent(session)
    method = "roots/list" if role == "server" else "tools/list"
    rid = session.send_request(method)
    session.data_to_send()
    result = {
        "roots": [{"uri": "file:///\u00e9"}],
        "tools": [{"name": "\u65e5", "inputSchema": {}}],
    }
    (event,) = session.receive_data(
        json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}, ensure_ascii=False).encode()
    )
    assert isinstance(event, ResponseReceived) and event.request_id == rid


def test_a_non_ascii_request_within_the_limits_is_received() -> None:
    server = new_server()
    data = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": "\u00e9",
            "method": "tools/call",
            "params": {"name": "\U0001f600", "arguments": {"a": [[["\u65e5]]"]]]}},
        },
        ensure_ascii=False,
    )
    (event,) = server.receive_data(data.encode())
    assert isinstance(event, RequestReceived) and event.request_id == "\u00e9"
    assert event.params.name == "\U0001f600"


def test_params_or_a_result_too_deep_for_the_interpreter_fail_as_invalid() -> None:
    # The second line behind the depth limit, for a limit set past the interpreter's stack:
    # raw params and results decode through this, and a ValidationError is what their
    # callers turn into -32602 for a request or a failed request of ours.
    from mcpkit.protocol.jsonrpc import decode_part

    with pytest.raises(msgspec.ValidationError, match="max_json_depth"):
        decode_part(Any, deep(50_000))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("head", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"', None),  # an id JSON cannot hold
        (b'{"jsonrpc":"2.0","id":"\xff","method":"ping"', None),  # an id that is not UTF-8
        (b'{"jsonrpc":"2.0","id":"\\u00e9","method":"ping"', "\u00e9"),
    ],
)
def test_an_oversize_message_with_any_head_is_refused(role: str, head: bytes, rid: Any) -> None:
    session = ROLES[role](max_message_size=100)
    assert_refused(session, head + b',"params":{"x":"' + b"y" * 200 + b'"}}', INVALID, rid)
