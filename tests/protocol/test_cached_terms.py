"""`ModernCodec.cached`: a request's terms found by the bytes of its trailing `_meta`, without
a decode, only where those bytes can be nothing but the params' own `_meta` member."""

from __future__ import annotations

import json

import msgspec

from mcpkit.protocol.modern import ModernCodec, ModernOffer
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import Terms
from mcpkit.types import Implementation, ServerCapabilities
from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS

SUPPORTED = ("2026-07-28", "2025-11-25")
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
    "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
}
META_JSON = json.dumps(META, separators=(",", ":"))


def params(text: str) -> bytes:
    return text.encode()


def codec(supported: tuple[str, ...] = SUPPORTED) -> ModernCodec:
    return ModernCodec(supported)


def test_a_known_meta_is_found_without_a_decode_and_is_the_decoded_one() -> None:
    c = codec()
    first = params(f'{{"name":"t","arguments":{{}},"_meta":{META_JSON}}}')
    assert c.cached(first) is None  # never seen: the decode decides
    decoded = c.read(first)
    assert isinstance(decoded, Terms)
    again = params(f'{{"name":"other","arguments":{{"x":1}},"_meta":{META_JSON}}}')
    assert c.cached(again) is decoded


def test_what_only_looks_like_the_meta_is_left_to_the_decode() -> None:
    c = codec()
    c.read(params(f'{{"_meta":{META_JSON}}}'))  # now cached
    for text in [
        # a `_meta` of the arguments, last: the bytes after it are not the cached object alone
        f'{{"name":"t","arguments":{{"_meta":{META_JSON}}}}}',
        # a key that only ends in _meta (its quote escaped, inside the key's string)
        f'{{"name":"t","x\\"_meta":{META_JSON}}}',
        # whitespace, or a member after the _meta: not the fast path's shape
        f'{{"name":"t", "_meta": {META_JSON}}}',
        f'{{"_meta":{META_JSON},"name":"t"}}',
        "{}",
    ]:
        assert c.cached(params(text)) is None, text
    assert c.cached(None) is None


def test_an_offer_reads_with_the_codec_it_is_given_only_for_the_revisions_it_was_made_for() -> None:
    shared = ModernCodec((*MODERN_REVISIONS, *SUPPORTED_REVISIONS))
    alike = ModernOffer(SUPPORTED_REVISIONS, codec=shared)
    assert alike.codec is shared
    # An offer of other revisions would be told terms it cannot serve: its own codec.
    other = ModernOffer(("2025-06-18",), codec=shared)
    assert other.codec is not shared
    assert other.codec.supported == other.all_revisions == ("2026-07-28", "2025-06-18")
    # A session given an offer holds it; one given none makes its own, of its revisions.
    info = Implementation(name="s", version="1")
    assert ServerSession(info, ServerCapabilities(), modern=alike).modern is alike
    own = ServerSession(info, ServerCapabilities(), supported_revisions=("2025-06-18",))
    assert own.modern.all_revisions == other.all_revisions


def test_a_cached_refusal_is_never_found_for_another_request() -> None:
    """server/discover may carry any `_meta` (its refusal is cached by its bytes); a 2025-era
    request with the same `_meta` (a progress token) must not be refused with it."""
    c = codec()
    meta = '{"progressToken":1}'
    refused = c.read(params(f'{{"_meta":{meta}}}'))
    assert not isinstance(refused, Terms)
    assert c.cached(params(f'{{"name":"t","_meta":{meta}}}')) is None


def test_the_last_hit_is_found_again_only_where_it_is_the_params_last_member() -> None:
    c = codec()
    decoded = c.read(params(f'{{"name":"t","_meta":{META_JSON}}}'))
    assert c.cached(params(f'{{"name":"t","_meta":{META_JSON}}}')) is decoded
    # (the last hit now) the same tail after a byte that is no member's start: not a key
    tail = f'"_meta":{META_JSON}}}'
    assert c.cached(params('{"name":"x' + tail)) is None
    # nor by another codec (another server's)
    assert codec().cached(params(f'{{"name":"t","_meta":{META_JSON}}}')) is None


def test_a_meta_that_changes_with_each_request_is_read_once_for_its_terms() -> None:
    c = codec()
    # A progress token makes every `_meta` new bytes; the terms members are the same, and
    # are read once: the same Terms object comes back, and nothing is decoded in full again.
    seen = []
    for token in range(5):
        meta = {**META, "progressToken": token}
        text = json.dumps(meta, separators=(",", ":"))
        seen.append(c.read(params(f'{{"name":"t","_meta":{text}}}')))
    assert isinstance(seen[0], Terms) and all(t is seen[0] for t in seen)
    # another client's terms are its own
    other = {**META, "io.modelcontextprotocol/clientInfo": {"name": "d", "version": "2"}}
    text = json.dumps({**other, "progressToken": 9}, separators=(",", ":"))
    theirs = c.read(params(f'{{"_meta":{text}}}'))
    assert isinstance(theirs, Terms) and theirs is not seen[0]
    assert theirs.peer_info is not None and theirs.peer_info.name == "d"
    # a malformed member is refused however the rest varies
    bad = {**META, "io.modelcontextprotocol/logLevel": "loud", "progressToken": 1}
    text = json.dumps(bad, separators=(",", ":"))
    assert not isinstance(c.read(params(f'{{"_meta":{text}}}')), Terms)


def test_the_same_params_again_are_found_as_raw_or_bytes_long_or_short() -> None:
    c = codec()
    envelope = msgspec.json.Decoder(_Envelope)
    for args in ['{"x":1}', '{"x":"' + "a" * 9000 + '"}']:
        text = f'{{"name":"t","arguments":{args},"_meta":{META_JSON}}}'
        decoded = c.read(params(text))
        assert isinstance(decoded, Terms)
        for _ in range(3):  # by its `_meta` looked up, then as the params seen last
            assert c.cached(params(text)) is decoded
            body = f'{{"id":1,"params":{text}}}'.encode()
            assert c.cached(envelope.decode(body).params) is decoded
        other = f'{{"name":"t","arguments":{{"x":2}},"_meta":{META_JSON}}}'
        assert c.cached(params(other)) is decoded  # (its `_meta`: the last hit's tail)
    # Params the same but for their `_meta` are not taken for the last ones.
    c.read(params('{"_meta":{}}'))
    assert c.cached(params('{"_meta":{}}')) is None


class _Envelope(msgspec.Struct):
    params: msgspec.Raw
