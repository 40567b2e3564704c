"""The depth check, against a decoder's own idea of depth: exact for valid JSON, never less
than a decoder would reach for invalid JSON, and linear-time for what an attacker sends."""

from __future__ import annotations

import inspect
import json
import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol.depth import deeper_than
from mcpkit.protocol.limits import MAX_JSON_DEPTH

# Strings full of what could confuse a scan: brackets, quotes, backslashes, escapes.
tricky_text = st.text(alphabet='[]{}"\\/:,ab\n\u00e9\u65e5\U0001f600', max_size=8)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    """Levels of nested arrays and objects, as a recursive decoder descends them."""
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value, "]]"] if level % 2 else {"k}": value}
    return value


def assert_exact(data: bytes, depth: int) -> None:
    for limit in {0, 1, depth - 1, depth, depth + 1, MAX_JSON_DEPTH}:
        if limit >= 0:
            assert deeper_than(data, limit) == (depth > limit), (limit, depth, data[:80])


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_exact_for_valid_json(value: Any, ascii_only: bool, spaced: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=1 if spaced else None)
    assert_exact(text.encode(), depth_of(value))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 600), tricky_text)
def test_exact_for_deep_chains_with_brackets_in_strings(depth: int, text: str) -> None:
    value = {"pad": text, "v": nested(depth, text)}
    data = json.dumps(value, ensure_ascii=False).encode()
    assert_exact(data, depth + 1)


def test_brackets_inside_strings_do_not_count() -> None:
    inside = json.dumps({"a": "[" * 5000, "b": '{"[\\"' * 400, "c": ["]" * 900]}).encode()
    assert not deeper_than(inside, 2)
    assert deeper_than(inside, 1)


def test_escaped_backslashes_and_quotes_end_strings_where_json_says() -> None:
    # "\\" ends after the escaped backslash; "\"[" does not end at the escaped quote.
    assert deeper_than(b'["\\\\", [[[1]]]]', 3)
    assert not deeper_than(b'["\\"[[[[", 1]', 1)
    assert not deeper_than(b'["\\\\\\"[[[", 1]', 1)


def decode_with_headroom(data: bytes, levels: int) -> None:
    """Decode with the recursion limit set just above `levels` nested calls from here, so a
    decoder that nests deeper raises RecursionError (CPython 3.11 counts C recursion, such
    as msgspec's, against the same limit as Python frames)."""
    frame, here = inspect.currentframe(), 0
    while frame is not None:
        here, frame = here + 1, frame.f_back
    old = sys.getrecursionlimit()
    # The frames above may undercount the depth CPython counts, which takes in C calls too
    # (more of them under pytest-xdist, whose worker runs the test from inside execnet). A
    # limit at or below that depth is refused, so the first limit taken is the depth + 1.
    depth = here
    while depth < here + 500:
        try:
            sys.setrecursionlimit(depth + 1)
            break
        except RecursionError:
            depth += 1
    sys.setrecursionlimit(depth + levels + 8)
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass  # invalid, and refused without nesting too deep: what the check promises
    finally:
        sys.setrecursionlimit(old)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='[]{}"\\:,1 ', max_size=300), st.integers(0, 12))
def test_what_passes_never_nests_deeper_in_a_decoder(text: str, limit: int) -> None:
    data = text.encode()
    if not deeper_than(data, limit):
        decode_with_headroom(data, limit)


def test_invalid_json_may_be_refused_but_is_never_let_through_deep() -> None:
    unterminated = b'{"a": "' + b"[" * 5000
    assert not deeper_than(unterminated, 1)  # all inside an (unclosed) string: no recursion
    assert deeper_than(b"[" * 5000, 256)
    assert deeper_than(b"]" * 10 + b"[" * 300, 256)  # a decoder stops at the first `]`: fine
    assert deeper_than(b'"' + b"[" * 5000, 256) is False


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
def test_the_default_limit_is_below_what_msgspec_survives(depth: int) -> None:
    data = json.dumps(nested(depth)).encode()
    assert deeper_than(data, MAX_JSON_DEPTH) == (depth > MAX_JSON_DEPTH)
    if depth <= MAX_JSON_DEPTH:  # what passes decodes
        assert msgspec.json.decode(data) == nested(depth)


@pytest.mark.parametrize(
    "data",
    [
        b"[" + b",".join([b"[" * 200 + b"]" * 200] * 2000) + b"]",  # many chains just below
        b"[" + b",".join([b"[" * 17 + b"]" * 17] * 20000) + b"]",  # a comb: many short runs
        json.dumps([{"id": i, "tags": ["a", "b"], "s": "[x]"} for i in range(20000)]).encode(),
        json.dumps({"pad": "x" * 9000, "v": nested(300)}).encode(),  # brackets only at the end
        json.dumps({"pad": "x" * 9000, "v": nested(200)}).encode(),
        json.dumps({"pad": "x" * 9000, "v": nested(200), "w": "[" * 100}).encode(),
    ],
)
def test_wide_messages_are_judged_right(data: bytes) -> None:
    # These take the slow path (thousands of brackets); see the module's cost notes.
    value = msgspec.json.decode(data)
    assert_exact(data, depth_of(value))
