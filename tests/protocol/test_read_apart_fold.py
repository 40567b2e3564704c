"""`ServerSession.read_apart` reads the usual 2026-07-28 request in one frame; every body,
usual or not, is read as the general way (`Session.read_apart` through `receive_data`) reads
it: the same request, answers, refusals, and the same questions asked of the check."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.errors import McpError
from mcpkit.protocol.events import Event, RequestInfo, RequestReceived
from mcpkit.protocol.outbox import ApartRead
from mcpkit.protocol.own_terms import OwnTermsCodec
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import Terms
from mcpkit.types import Implementation, RequestId, ServerCapabilities

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
}
META_JSON = json.dumps(META, separators=(",", ":"))
INFO = RequestInfo("http")


class _General(ServerSession):
    """A subclass that changes a step the fold writes out: read the general way."""

    def _start_request(
        self,
        rid: RequestId,
        method: str,
        params: Any,
        events: list[Event],
        batch: Any,
        request_info: RequestInfo | None,
        terms: Terms[Any] | None,
    ) -> None:
        super()._start_request(rid, method, params, events, batch, request_info, terms)


class _Check:
    """A transport's check that records what it is asked."""

    def __init__(self, refusal: McpError | None = None, rest: bytes | None = None) -> None:
        self.refusal = refusal
        self.rest_answer = rest
        self.asked: list[Any] = []

    def request(
        self, request_id: int | str, method: str, params: Any, revision: str | None = None
    ) -> McpError | None:
        # (`revision`, where the session gives it, is what the params' `_meta` names: the
        # folded read gives it, the general one leaves it to the check, with the same answer)
        self.asked.append(("request", request_id, method, msgspec.to_builtins(params)))
        return self.refusal

    def rest(self) -> bytes | None:
        self.asked.append(("rest",))
        return self.rest_answer


def _request(rid: object, method: str, params: str | None) -> bytes:
    head = f'{{"jsonrpc":"2.0","id":{json.dumps(rid)},"method":"{method}"'
    return (head + ("}" if params is None else f',"params":{params}}}')).encode()


def _call(meta: str = META_JSON, args: str = '{"x":1}', rid: object = 7) -> bytes:
    return _request(rid, "tools/call", f'{{"name":"t","arguments":{args},"_meta":{meta}}}')


def _with_token(token: str) -> str:
    return json.dumps({**META, "progressToken": json.loads(token)}, separators=(",", ":"))


BODIES = [
    _call(),
    _call(rid="abc"),
    _call(args='{"list":[1,2,[3]]}'),  # arrays: counted for depth
    _call(meta=_with_token('"tok"')),
    _call(meta=_with_token("5")),
    _call(meta=_with_token("true")),
    _call(meta=_with_token("[1]")),
    _call(meta=_with_token("null")),
    _call(rid=None),
    _request(3, "tools/list", f'{{"_meta":{META_JSON}}}'),
    _request(3, "resources/read", f'{{"uri":"a://b","_meta":{META_JSON}}}'),  # undeclared
    _request(3, "no/such", f'{{"_meta":{META_JSON}}}'),
    _request(3, "ping", f'{{"_meta":{META_JSON}}}'),
    _request(3, "server/discover", f'{{"_meta":{META_JSON}}}'),
    _request(3, "initialize", f'{{"_meta":{META_JSON}}}'),
    _request(3, "tools/call", f'{{"name":5,"_meta":{META_JSON}}}'),  # bad params
    _request(3, "tools/call", f'{{"_meta":{META_JSON}}}'),  # no name
    _request(3, "tools/call", None),
    _request(3, "tools/call", '{"name":"t"}'),  # no terms
    _request(3, "tools/call", '{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":1}}'),
    _request(
        3,
        "tools/call",
        '{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01","io.modelcontextprotocol/clientCapabilities":{}}}',
    ),
    b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}',
    b'{"jsonrpc":"2.0","id":9,"result":{}}',
    b'{"jsonrpc":"2.0","id":9,"method":"tools/call","result":{}}',
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
    b" " + _call(),
    _call(args='{"t":"\xc3\xa9"}'.encode("latin-1").decode()),  # not ASCII
    _call(args='{"t":"' + "a" * 5000 + '"}'),  # past SHORT_MESSAGE
    _call(args="{" * 300 + "}" * 300),  # too deep
    _call(args='{"a":' * 100 + "1" + "}" * 100),
    _call()[:-3],  # not JSON
    b"{}",
    _call().replace(b'"2.0"', b'"1.0"', 1),
    _call().replace(b'"jsonrpc":"2.0",', b"", 1),
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}',
]


def _sessions() -> tuple[ServerSession, ServerSession]:
    codec = OwnTermsCodec(ServerSession.all_revisions)
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    return ServerSession(info, caps, codec=codec), _General(info, caps, codec=codec)


def _seen(read: ApartRead) -> Any:
    request = read.request
    shown = None
    if request is not None:
        assert type(request) is RequestReceived
        shown = (
            request.request_id,
            request.method,
            msgspec.to_builtins(request.params),
            request.progress_token,
            request.request_info,
            request.terms,
        )
    return (
        shown,
        [type(ev).__name__ for ev in read.events],
        [(o.data, o.related, o.final) for o in read.answers],
        read.refused,
        read.started,
    )


def test_a_subclass_that_changes_a_step_is_read_the_general_way() -> None:
    assert ServerSession._folds  # pyright: ignore[reportPrivateUsage]
    assert not _General._folds  # pyright: ignore[reportPrivateUsage]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(
    "check",
    [
        lambda: _Check(),
        lambda: _Check(refusal=McpError(-32020, "headers disagree", {"h": 1})),
        lambda: _Check(rest=b'{"refused":1}'),
        lambda: None,
    ],
)
def test_every_body_is_read_as_the_general_way_reads_it(body: bytes, check: Any) -> None:
    fold, general = _sessions()
    warm = _call(rid=1)
    for session in (fold, general):  # the `_meta` read once: the next is found by its bytes
        session.read_apart(warm, INFO, _Check())
    for _ in range(2):  # (twice: the terms cache's last hit, then a hit of it again)
        fold_check, general_check = check(), check()
        got = _seen(fold.read_apart(body, INFO, fold_check))
        want = _seen(general.read_apart(body, INFO, general_check))
        assert got == want
        if fold_check is not None:
            assert fold_check.asked == general_check.asked
        for session in (fold, general):
            assert not session._inflight  # pyright: ignore[reportPrivateUsage]
            assert not session.data_to_send()
