"""`cached_terms`: a request's terms found by the bytes of its trailing `_meta`, without a
decode, only where those bytes can be nothing but the params' own `_meta` member."""

from __future__ import annotations

import json

from mcpkit.protocol import stateless
from mcpkit.protocol.stateless import cached_terms, request_terms
from mcpkit.protocol.terms import Terms

SUPPORTED = ("2026-07-28", "2025-11-25")
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
    "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
}
META_JSON = json.dumps(META, separators=(",", ":"))


def params(text: str) -> bytes:
    return text.encode()


def test_a_known_meta_is_found_without_a_decode_and_is_the_decoded_one() -> None:
    stateless.forget_terms()  # (what other tests left)
    first = params(f'{{"name":"t","arguments":{{}},"_meta":{META_JSON}}}')
    assert cached_terms(first, SUPPORTED) is None  # never seen: the decode decides
    decoded = request_terms(first, SUPPORTED)
    assert isinstance(decoded, Terms)
    again = params(f'{{"name":"other","arguments":{{"x":1}},"_meta":{META_JSON}}}')
    assert cached_terms(again, SUPPORTED) is decoded


def test_what_only_looks_like_the_meta_is_left_to_the_decode() -> None:
    request_terms(params(f'{{"_meta":{META_JSON}}}'), SUPPORTED)  # now cached
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
        assert cached_terms(params(text), SUPPORTED) is None, text
    assert cached_terms(None, SUPPORTED) is None


def test_the_supported_revisions_are_part_of_the_key() -> None:
    request_terms(params(f'{{"_meta":{META_JSON}}}'), SUPPORTED)
    assert cached_terms(params(f'{{"_meta":{META_JSON}}}'), ("2025-11-25",)) is None


def test_a_cached_refusal_is_never_found_for_another_request() -> None:
    """server/discover may carry any `_meta` (its refusal is cached by its bytes); a 2025-era
    request with the same `_meta` (a progress token) must not be refused with it."""
    meta = '{"progressToken":1}'
    refused = request_terms(params(f'{{"_meta":{meta}}}'), SUPPORTED)
    assert not isinstance(refused, Terms)
    assert cached_terms(params(f'{{"name":"t","_meta":{meta}}}'), SUPPORTED) is None


def test_the_last_hit_is_found_again_only_where_it_is_the_params_last_member() -> None:
    stateless.forget_terms()
    decoded = request_terms(params(f'{{"name":"t","_meta":{META_JSON}}}'), SUPPORTED)
    assert cached_terms(params(f'{{"name":"t","_meta":{META_JSON}}}'), SUPPORTED) is decoded
    # (the last hit now) the same tail after a byte that is no member's start: not a key
    tail = f'"_meta":{META_JSON}}}'
    assert cached_terms(params('{"name":"x' + tail), SUPPORTED) is None
    # nor for another server's revisions, nor once forgotten
    assert cached_terms(params(f'{{"_meta":{META_JSON}}}'), ("2026-07-28",)) is None
    stateless.forget_terms()
    assert cached_terms(params(f'{{"name":"t","_meta":{META_JSON}}}'), SUPPORTED) is None


def test_a_meta_that_changes_with_each_request_is_read_once_for_its_terms() -> None:
    # A progress token makes every `_meta` new bytes; the terms members are the same, and
    # are read once: the same Terms object comes back, and nothing is decoded in full again.
    stateless.forget_terms()
    seen = []
    for token in range(5):
        meta = {**META, "progressToken": token}
        text = json.dumps(meta, separators=(",", ":"))
        seen.append(request_terms(params(f'{{"name":"t","_meta":{text}}}'), SUPPORTED))
    assert isinstance(seen[0], Terms) and all(t is seen[0] for t in seen)
    # another client's terms are its own
    other = {**META, "io.modelcontextprotocol/clientInfo": {"name": "d", "version": "2"}}
    text = json.dumps({**other, "progressToken": 9}, separators=(",", ":"))
    theirs = request_terms(params(f'{{"_meta":{text}}}'), SUPPORTED)
    assert isinstance(theirs, Terms) and theirs is not seen[0]
    assert theirs.peer_info is not None and theirs.peer_info.name == "d"
    # a malformed member is refused however the rest varies
    bad = {**META, "io.modelcontextprotocol/logLevel": "loud", "progressToken": 1}
    text = json.dumps(bad, separators=(",", ":"))
    assert not isinstance(request_terms(params(f'{{"_meta":{text}}}'), SUPPORTED), Terms)
