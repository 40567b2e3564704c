"""A few seconds of the fuzz target on its seed corpus (the fuzzer itself is `scripts/fuzz`):
every seed, alone and all in one input, keeps every property, and the property checks do
refuse what is not well-formed JSON-RPC."""

from __future__ import annotations

from typing import Any

import pytest

from hostile.fuzz_target import CORPUS, check_input, check_message, method_seeds, seeds


@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.iterdir()))
def test_the_target_holds_on_each_seed_file(name: str) -> None:
    check_input((CORPUS / name).read_bytes())


def test_the_target_holds_on_every_method_of_every_revision() -> None:
    generated = method_seeds()
    assert len(generated) > 50
    for seed in generated:
        check_input(seed)


def test_the_target_holds_on_all_seeds_in_one_input() -> None:
    check_input(b"\n".join(seeds()))


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "1.0", "id": 1, "result": {}},
        {"jsonrpc": "2.0", "result": {}},
        {"jsonrpc": "2.0", "id": True, "result": {}},
        {"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": -32603, "message": "x"}},
        {"jsonrpc": "2.0", "id": 1, "error": {"code": 7, "message": "x"}},
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": ""}},
        [],
    ],
)
def test_the_checks_refuse_what_is_not_json_rpc(message: Any) -> None:
    with pytest.raises((AssertionError, KeyError, TypeError)):
        check_message(message)
