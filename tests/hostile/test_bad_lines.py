"""One bad line never ends a session: the real server, over real pipes, answers each with the
JSON-RPC error it names and then answers a ping (spec: basic/index; JSON-RPC 2.0 section 5.1).

-32700 for whatever is not valid UTF-8 JSON; -32600 for valid JSON of the wrong shape and
for a message over a limit (max_message_size, or nesting deeper than 256). The error carries
the request's id when the line starts with `{"jsonrpc":"2.0","id":ID,` and null otherwise;
a bad notification gets no answer. Each case runs under `server.run()` and `mcpkit run`.
"""

from __future__ import annotations

from typing import Any, Final

import pytest

from hostile.conftest import LiveServer
from hostile.harness import COMMANDS, RawServer
from hostile.peers.hostile_server import MAX_MESSAGE_SIZE

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600

DEEP: Final = b"[" * 1000 + b"]" * 1000  # 2 KB, 1,000 levels: far past any real message
DEEP_MIXED: Final = b'{"a":[' * 150 + b"1" + b"]}" * 150  # 300 levels of objects and arrays
SHALLOW: Final = b"[" * 200 + b"]" * 200  # within the limit: must be served as usual


def head(rid: bytes, method: bytes = b"ping") -> bytes:
    return b'{"jsonrpc":"2.0","id":' + rid + b',"method":"' + method + b'"'


def call(rid: bytes, arguments: bytes) -> bytes:
    return head(rid, b"tools/call") + b',"params":{"name":"echo","arguments":' + arguments + b"}}"


# (line without its newline, expected error code, expected id)
ERRORS: Final[dict[str, tuple[bytes, int, Any]]] = {
    "utf8-in-method": (head(b"11", b"pi\xffng") + b"}", PARSE_ERROR, 11),
    "utf8-in-string-id": (b'{"jsonrpc":"2.0","id":"a\xff","method":"ping"}', PARSE_ERROR, None),
    "utf8-in-jsonrpc": (b'{"jsonrpc":"2.\xff","id":12,"method":"ping"}', PARSE_ERROR, None),
    "utf8-in-notification-method": (
        b'{"jsonrpc":"2.0","method":"notifications/\xfe"}',
        PARSE_ERROR,
        None,
    ),
    "utf8-in-tool-argument": (call(b"13", b'{"text":"caf\xc3"}'), PARSE_ERROR, 13),
    "utf8-overlong-in-argument": (call(b"14", b'{"text":"\xc0\xaf"}'), PARSE_ERROR, 14),
    "utf8-surrogate-in-argument": (call(b"15", b'{"text":"\xed\xa0\x80"}'), PARSE_ERROR, 15),
    "string-then-garbage": (b'"abc" x', PARSE_ERROR, None),
    "unclosed-object": (b"{not json", PARSE_ERROR, None),
    "truncated-request": (head(b"16") + b',"params":{', PARSE_ERROR, 16),
    "bare-number": (b"42", INVALID_REQUEST, None),
    "bare-string": (b'"abc"', INVALID_REQUEST, None),
    "null": (b"null", INVALID_REQUEST, None),
    "empty-object": (b"{}", INVALID_REQUEST, None),
    "no-method-result-or-error": (b'{"jsonrpc":"2.0","id":17}', INVALID_REQUEST, 17),
    "over-max-message-size": (
        head(b"18") + b',"params":{"x":"' + b"y" * MAX_MESSAGE_SIZE + b'"}}',
        INVALID_REQUEST,
        18,
    ),
    "over-max-message-size-no-head": (
        b'{"x":"' + b"y" * MAX_MESSAGE_SIZE + b'"}',
        INVALID_REQUEST,
        None,
    ),
    "deep-in-id": (b'{"jsonrpc":"2.0","id":' + DEEP + b',"method":"ping"}', INVALID_REQUEST, None),
    "deep-in-params": (head(b"19") + b',"params":{"x":' + DEEP + b"}}", INVALID_REQUEST, 19),
    "deep-in-tool-arguments": (call(b"20", b'{"text":' + DEEP + b"}"), INVALID_REQUEST, 20),
    "deep-mixed-objects-and-arrays": (
        head(b"21") + b',"params":{"x":' + DEEP_MIXED + b"}}",
        INVALID_REQUEST,
        21,
    ),
    "deep-bare-array": (DEEP, INVALID_REQUEST, None),
    "number-out-of-range": (b"1e999", INVALID_REQUEST, None),
    "number-out-of-range-in-id": (
        b'{"jsonrpc":"2.0","id":1e999,"method":"ping"}',
        INVALID_REQUEST,
        None,
    ),
}

# Valid JSON notifications that are wrong: never answered (JSON-RPC 2.0 section 4.1).
SILENT: Final[dict[str, bytes]] = {
    "unknown-notification": b'{"jsonrpc":"2.0","method":"notifications/no-such-thing"}',
    "cancel-with-bad-params": b'{"jsonrpc":"2.0","method":"notifications/cancelled",'
    b'"params":{"requestId":{"a":1}}}',
    "progress-for-nothing": b'{"jsonrpc":"2.0","method":"notifications/progress",'
    b'"params":{"progressToken":"none","progress":1}}',
}


def answers_to_bad_line(server: RawServer, rid: Any) -> list[Any]:
    """What the server wrote for the bad line: everything before the probe ping's answer,
    plus the answer to `rid` if it comes later (a tools/call is answered from its own task,
    so a ping sent after it may well be answered first)."""
    answers = server.ping_after()
    if rid is not None and not answers:
        answer, before = server.answer_to(rid)
        answers += [*before, answer]
    return answers


def check_error(answers: list[Any], code: int, rid: Any) -> None:
    assert len(answers) == 1, f"expected exactly one answer to the bad line, got {answers}"
    (answer,) = answers
    assert answer.get("jsonrpc") == "2.0", answer
    assert answer.get("id", "<missing>") == rid, f"expected id {rid!r}: {answer}"
    assert "error" in answer, f"expected error {code}: {answer}"
    assert answer["error"]["code"] == code, answer
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"], answer


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_bad_line_is_answered_and_the_session_goes_on(live: LiveServer, name: str) -> None:
    line, code, rid = ERRORS[name]
    server = live.get()
    server.write(line + b"\n")
    check_error(answers_to_bad_line(server, rid), code, rid)


@pytest.mark.parametrize("name", sorted(SILENT))
def test_a_bad_notification_gets_no_answer(live: LiveServer, name: str) -> None:
    server = live.get()
    server.write(SILENT[name] + b"\n")
    assert server.ping_after() == []


def test_nesting_within_the_limit_is_served(live: LiveServer) -> None:
    server = live.get()
    server.write(head(b"30") + b',"params":{"x":' + SHALLOW + b"}}\n")
    answer, before = server.answer_to(30)
    assert before == [] and answer["result"] == {}, (before, answer)
    server.write(call(b"31", b'{"text":"caf\xc3\xa9 \xf0\x9f\x99\x82"}') + b"\n")
    answer, _ = server.answer_to(31)
    assert answer["result"]["content"][0]["text"] == "café 🙂", answer


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", ["utf8-in-method", "deep-in-id", "string-then-garbage"])
def test_a_bad_first_line_before_initialize(command: str, name: str) -> None:
    line, code, rid = ERRORS[name]
    with RawServer(COMMANDS[command]) as server:
        server.write(line + b"\n")
        check_error(answers_to_bad_line(server, rid), code, rid)
        server.initialize()
        answer = server.request("tools/call", {"name": "echo", "arguments": {"text": "ok"}})
        assert answer["result"]["content"][0]["text"] == "ok", answer


def test_a_burst_of_every_bad_line_in_one_write() -> None:
    """All of them back to back, as one write: each answered once, then a ping."""
    with RawServer(COMMANDS["script"]) as server:
        server.initialize()
        names = sorted(ERRORS)
        server.write(
            b"".join(ERRORS[n][0] + b"\n" for n in names)
            + b"".join(SILENT[n] + b"\n" for n in sorted(SILENT))
        )
        answers = server.ping_after()
        for rid in {ERRORS[n][2] for n in names} - {m.get("id") for m in answers} - {None}:
            answers.append(server.answer_to(rid)[0])  # tool calls answer from their tasks
        got = sorted((repr(m.get("id")), m.get("error", {}).get("code")) for m in answers)
        assert got == sorted((repr(ERRORS[n][2]), ERRORS[n][1]) for n in names)
