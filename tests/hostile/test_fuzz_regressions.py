"""Every failure `scripts/fuzz` found, as the smallest input that shows it (each hand-cut
from the fuzzer's own input); run through the same target as the fuzzer.

Found against the code of 2026-11-23 (issue 7): invalid UTF-8 escaped the decoder from five
different places, and deep nesting escaped it as RecursionError (the hypothesis engine).
"""

from __future__ import annotations

from typing import Final

import pytest

from hostile.fuzz_target import check_input

DEEP: Final = b"[" * 1000 + b"]" * 1000

FOUND: Final = {
    # UnicodeDecodeError in jsonrpc.decode_message: a string member of the envelope.
    "utf8-in-notification-method": b'{"jsonrpc":"2.0","method":"notifications/\xff"}',
    # ... in jsonrpc._parse_failure: invalid JSON whose skipped part is not UTF-8.
    "utf8-in-skipped-member-of-invalid-json": b'{"a":"\xff"',
    # ... in jsonrpc._salvage_id: an envelope of the wrong shape with a non-UTF-8 member.
    "utf8-beside-a-wrong-jsonrpc-member": b'{"jsonrpc":1,"x":"\xff"}',
    # ... in session._decode: the params of a request, decoded into the method's type.
    "utf8-in-request-params": b'{"jsonrpc":"2.0","id":7,"method":"completion/complete",'
    b'"params":{"ref":{"type":"ref/pr\xd5mpt","name":"p"},'
    b'"argument":{"name":"x","value":"y"}}}',
    # ... accepted by the session, then fatal to the tool's decoder (-32603 on the wire).
    "utf8-in-tool-arguments": b'{"jsonrpc":"2.0","id":3,"method":"tools/call",'
    b'"params":{"name":"add","arguments":{"a\xff":1}}}',
    # ... in session._decode of a response to the client's pending tools/list (id 1).
    "utf8-in-a-response": b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"\xff",'
    b'"inputSchema":{"type":"object"}}]}}',
    # RecursionError, wherever the nesting is.
    "deep-id": b'{"jsonrpc":"2.0","id":' + DEEP + b',"method":"ping"}',
    "deep-params": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + DEEP + b"}}",
    "deep-tool-arguments": b'{"jsonrpc":"2.0","id":3,"method":"tools/call",'
    b'"params":{"name":"add","arguments":{"a":' + DEEP + b"}}}",
    "deep-response": b'{"jsonrpc":"2.0","id":1,"result":{"tools":' + DEEP + b"}}",
    "deep-bare": DEEP,
    # Numbers JSON allows but a double cannot hold: valid JSON of the wrong shape (-32600).
    # Found by scripts/fuzz in the decoder rework of branch h7-decode (7d420ad), where the
    # two failure paths called each other until RecursionError.
    "number-out-of-range-message": b"1e999",
    "number-out-of-range-id": b'{"jsonrpc":"2.0","id":1e999,"method":"ping"}',
    "number-out-of-range-jsonrpc": b'{"jsonrpc":1e999,"id":3,"method":"ping"}',
    "number-out-of-range-in-batch": b"[1e999]",
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_a_failure_the_fuzzer_found_stays_fixed(name: str) -> None:
    check_input(FOUND[name])
