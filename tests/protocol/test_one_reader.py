"""One reader: a 2025-era session's body (`receive_body`) and a 2026-07-28 POST (`read_sessionless`)
go through the same steps, each one function, the terms being what differs; params whose
`_meta` is left unread (`unread_meta`'s twins) are read as the params type reads them; and
`ServerSession.read_sessionless`'s fold of the usual 2026-07-28 request reads every body as those
steps read it: the same request, answers, and refusals."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.errors import McpError
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.protocol.modern import ModernOffer
from mcpkit.protocol.outbox import ModernRead
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import Terms
from mcpkit.protocol.unread_meta import UNREAD_TYPES
from mcpkit.server.catalog.calling.tool_calls import ModernCallToolParams
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
}
META_JSON = json.dumps(META, separators=(",", ":"))
INFO = RequestInfo("http")


def _shown(params: Any) -> Any:
    """`params` as JSON values (raw JSON parts, a twin's `_meta` among them, decoded)."""
    return json.loads(msgspec.json.encode(params))


class _General(ServerSession):
    """A subclass that changes a step the fold writes out: read the general way."""

    def check_inbound_request(
        self, method: str, terms: Terms[ClientCapabilities] | None
    ) -> McpError | None:
        return super().check_inbound_request(method, terms)


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
    """Two sessions that differ only in what params are decoded into where their `_meta` is
    left unread: the twins (`unread_meta`), and the params types themselves."""
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    types = {"tools/call": ModernCallToolParams}
    twins = ServerSession(info, caps, modern=ModernOffer(SUPPORTED_REVISIONS, param_types=types))
    plain_offer = ModernOffer(SUPPORTED_REVISIONS, param_types=types, codec=twins.modern.codec)
    plain_offer.unread_types = types
    plain = ServerSession(info, caps, modern=plain_offer)
    return twins, plain


def _seen(read: ModernRead) -> Any:
    request = read.request
    shown = None
    if request is not None:
        assert type(request) is RequestReceived
        shown = (
            request.request_id,
            request.method,
            _shown(request.params),
            request.progress_token,
            request.request_info,
            request.terms,
            request.reply,
            request.peer,
        )
    return (
        shown,
        [type(ev).__name__ for ev in read.events],
        [(o.data, o.related, o.final) for o in read.answers],
        read.refused,
        read.started,
    )


@pytest.mark.parametrize("body", BODIES)
def test_params_with_their_meta_unread_are_read_as_the_type_reads_them(body: bytes) -> None:
    twins, plain = _sessions()
    for _ in range(3):  # (the terms read, then found by the cache's last hit, then its same)
        read = twins.read_sessionless(body, INFO)
        got = _seen(read)
        assert got == _seen(plain.read_sessionless(body, INFO))
        if read.request is not None and read.request.params == _call_params():
            # The usual call: its `_meta` named no token, and was left unread (a twin).
            assert type(read.request.params) in UNREAD_TYPES
        for session in (twins, plain):
            assert not session._inflight
            assert not session.data_to_send()


def _call_params() -> Any:
    return msgspec.json.decode(
        f'{{"name":"t","arguments":{{"x":1}},"_meta":{META_JSON}}}', type=ModernCallToolParams
    )


#: The steps a request is read through, in order, whatever its era, each with the part of the
#: session whose step it is: its reading (`Receiving`), its role, its answering part.
STEPS = (
    ("receiving", "receive_data"),
    ("receiving", "receive_envelope"),
    ("role", "receive_request"),
    ("answering", "serve_request"),
    ("role", "check_inbound_request"),
    ("answering", "_start_request"),
)


def _traced(session: ServerSession) -> list[tuple[str, Any]]:
    """The steps `session` takes from here on, each with the terms it was handed (if any):
    each part made an instance of a subclass of its own class that records its steps."""
    taken: list[tuple[str, Any]] = []
    parts: dict[str, Any] = {
        "receiving": session.receiving,
        "role": session,
        "answering": session.answering,
    }

    def traced(name: str, step: Any) -> Any:
        def record(self: Any, *args: Any) -> Any:
            terms = next((a for a in args if isinstance(a, Terms)), None)
            taken.append((name, None if terms is None else terms.revision))
            return step(self, *args)

        return record

    for part, obj in parts.items():
        names = [name for owner, name in STEPS if owner == part]
        cls = type(obj)
        body = {name: traced(name, getattr(cls, name)) for name in names}
        obj.__class__ = type(cls.__name__, (cls,), {"__slots__": (), **body})
    return taken


def test_a_2025_body_and_a_2026_post_are_read_by_the_same_steps() -> None:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    stateful = ServerSession(info, caps)
    stateful.resume("2025-11-25", Implementation(name="c", version="1"), None)
    reader = _General(info, caps)  # (the steps, not the fold: pinned to them below)
    session_steps, reader_steps = _traced(stateful), _traced(reader)
    args = '{"name":"t","arguments":{"x":1}}'
    old = stateful.receive_body(_request(7, "tools/call", args), INFO)
    new = reader.read_sessionless(_call(), INFO)
    # The same functions, in the same order; what differs is the terms they are handed.
    assert (
        [name for name, _ in session_steps]
        == [name for name, _ in reader_steps]
        == [name for _, name in STEPS]
    )
    assert {rev for _, rev in session_steps if rev} == {"2025-11-25"}
    assert {rev for _, rev in reader_steps if rev} == {"2026-07-28"}
    assert len(old.events) == 1 and new.request is not None
    request = old.events[0]
    assert isinstance(request, RequestReceived)
    assert (request.request_id, request.method) == (new.request.request_id, new.request.method)
    assert _shown(request.params)["arguments"] == {"x": 1}
    assert _shown(new.request.params)["arguments"] == {"x": 1}


def test_one_encoder_answers_both_eras() -> None:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    stateful = ServerSession(info, caps)
    stateful.resume("2025-11-25", Implementation(name="c", version="1"), None)
    stateful.receive_body(_request(7, "tools/call", '{"name":"t"}'), INFO)
    result: dict[str, Any] = {"content": []}
    stateful.send_response(7, result)
    sent = stateful.data_to_send()
    assert [o.data for o in sent] == [stateful.encode_answer(7, result, "tools/call", None)]
    reader = ServerSession(info, caps)
    read = reader.read_sessionless(_call(), INFO)
    assert read.request is not None
    terms = read.request.terms
    answer = json.loads(reader.encode_answer(7, result, "tools/call", terms))
    assert answer["result"]["resultType"] == "complete"
    assert answer["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "s"
    other = Implementation(name="upstream", version="2")
    answer = json.loads(reader.encode_answer(7, result, "tools/call", terms, other))
    assert answer["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "upstream"


#: What a request is read for (`served_by`: a `RequestPeer`, as the transport reads it).
PEER = object()


def test_a_request_read_for_its_peer_is_handed_out_as_an_exchange() -> None:
    """Read for a peer (`served_by`), the request comes out an exchange, the peer its reply
    and its peer, whichever way the body is read (the fold, or the steps)."""
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    offer = ModernOffer(SUPPORTED_REVISIONS, param_types={"tools/call": ModernCallToolParams})
    for session in (ServerSession(info, caps, modern=offer), _General(info, caps, modern=offer)):
        for _ in range(2):  # (the `_meta` read, then found by its bytes)
            request = session.read_sessionless(_call(), INFO, PEER).request
            assert request is not None and request.reply is PEER and request.peer is PEER


def test_a_subclass_that_changes_a_step_is_read_the_general_way() -> None:
    assert ServerSession._folds
    assert not _General._folds


@pytest.mark.parametrize("body", BODIES)
def test_every_body_is_read_by_the_fold_as_the_steps_read_it(body: bytes) -> None:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    info = Implementation(name="s", version="1")
    offer = ModernOffer(SUPPORTED_REVISIONS, param_types={"tools/call": ModernCallToolParams})
    fold = ServerSession(info, caps, modern=offer)
    general = _General(info, caps, modern=offer)
    warm = _call(rid=1)
    for session in (fold, general):  # the `_meta` read once: the next is found by its bytes
        session.read_sessionless(warm, INFO)
    for _ in range(2):  # (twice: the terms cache's last hit, then a hit of it again)
        got = _seen(fold.read_sessionless(body, INFO, PEER))
        want = _seen(general.read_sessionless(body, INFO, PEER))
        assert got == want
        for session in (fold, general):
            assert not session._inflight
            assert not session.data_to_send()
