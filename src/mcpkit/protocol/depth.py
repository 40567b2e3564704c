"""How deeply a JSON text nests arrays and objects, judged before anything decodes it.

msgspec decodes recursively, so a message nested past the interpreter's recursion limit
raises RecursionError, and a 2 KB line is enough. `deeper_than` answers from the bytes:
first from upper bounds (no text nests deeper than it is long, nor than it has `[` and `{`
bytes), which settle nearly every message for a length check or a count of two bytes; only
a text with more brackets than the limit is scanned exactly, with strings skipped, in passes
over the whole buffer rather than a loop in Python over each byte.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["SHORT_MESSAGE", "deeper_than"]

# Counting `[` and `{` reads every byte (two count() calls, or a translate() that drops
# every other byte); finding one (memchr) skips ahead, but is a call per find. So the first
# bytes are counted, which settles small messages and dense ones, and the rest searched,
# stopping after `limit` finds.
_COUNT_BELOW: Final = 4096
#: Bytes up to which counting `[` and `{` is how a message is first judged.
SHORT_MESSAGE: Final = _COUNT_BELOW
_NOT_OPENING: Final = bytes(b for b in range(256) if b not in b"[{")
# Every byte but the structural ones is dropped; `{}` become `[]`, since depth ignores kind.
_TO_BRACKETS: Final = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURAL: Final = bytes(b for b in range(256) if b not in b'"[]{}')
_RUNS: Final = re.compile(rb"\[+|\]+")


def deeper_than(data: bytes, limit: int) -> bool:
    """Whether `data` nests arrays and objects more than `limit` deep (outside strings).

    Exact for valid JSON. For invalid JSON it never says less than a decoder, reading up to
    the first error, would nest; it may say more, which refuses a message that would have
    failed to parse anyway."""
    size = len(data)
    if size <= limit:
        return False  # each level takes a byte: short messages (most) pass at once
    if size <= _COUNT_BELOW:
        # Two counts in C, nothing copied; `[` counted only where there is one (a memchr:
        # most messages have none, and a count reads every byte).
        if data.count(b"{") + (data.count(b"[") if 91 in data else 0) <= limit:
            return False
    elif _at_most(data, limit):
        return False
    brackets = _outside_strings(data)
    if len(brackets) <= limit:
        return False
    return _max_depth(brackets, limit) > limit


def _at_most(data: bytes, limit: int) -> bool:
    """Whether `data`, longer than `_COUNT_BELOW`, holds at most `limit` bytes `[` and `{`
    (any nesting is at most that)."""
    found = len(data[:_COUNT_BELOW].translate(None, _NOT_OPENING))
    if found > limit:
        return False
    if found * (len(data) // _COUNT_BELOW) > limit:
        return False  # as dense throughout would pass the limit: spare the finds, scan exactly
    find = data.find
    for byte in (b"[", b"{"):
        at = find(byte, _COUNT_BELOW)
        while at >= 0:
            found += 1
            if found > limit:
                return False
            at = find(byte, at + 1)
    return True


def _outside_strings(data: bytes) -> bytes:
    """The brackets of `data` that are outside JSON strings, in order, as `[` and `]`."""
    if 92 in data:  # a backslash (an int operand: a memchr, see session.receive_data)
        # Escapes read left to right: drop escaped backslashes first, then escaped quotes,
        # so that every `"` left delimits a string (RFC 8259, section 7).
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = data.translate(_TO_BRACKETS, _NOT_STRUCTURAL)
    # Two adjacent quotes enclose no bracket, and dropping them keeps every other quote's
    # parity: a string without brackets (nearly every string) goes in this one pass.
    skeleton = skeleton.replace(b'""', b"")
    if b'"' not in skeleton:
        return skeleton
    return b"".join(skeleton.split(b'"')[::2])  # even pieces lie outside strings


def _max_depth(brackets: bytes, limit: int) -> int:
    """The greatest depth the bracket sequence reaches (or a number past `limit`).

    Each pass drops every innermost pair `[]`, which lowers the deepest point by at most one;
    a shallow, wide text (a long list of small objects) empties in a few passes over a
    shrinking string. Once a pass removes little, few innermost pairs are left, so the text
    has few runs of `[` or `]`, and the rest is summed run by run."""
    passes = 0
    while brackets:
        reduced = brackets.replace(b"[]", b"")
        if (len(brackets) - len(reduced)) * 16 < len(brackets):
            break
        brackets = reduced
        passes += 1
        if passes > limit:
            return passes
    depth = deepest = passes
    for run in _RUNS.finditer(brackets):
        width = run.end() - run.start()
        if brackets[run.start()] == 0x5B:  # "["
            depth += width
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        else:
            depth -= width
    return deepest
