"""Why a connect failed, told the way a person reads it: the first line of the error, the
exception, and the frames of the user's own code before those of mcpkit, importlib and
installed libraries (a server that fails to import sends its traceback in the error text)."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path
from typing import Any

__all__ = ["describe_failure", "is_user_file"]

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_CHAIN = ("Traceback (most recent call last):", "During handling of", "The above exception")
_MCPKIT = str(Path(__file__).resolve().parents[1]) + "/"
_LIBRARIES = tuple(
    str(Path(path).resolve()) + "/"
    for key in ("stdlib", "platstdlib", "purelib", "platlib")
    if (path := sysconfig.get_paths().get(key))
)


def is_user_file(file: str) -> bool:
    """True unless `file` is mcpkit's own, the standard library's, an installed package's or
    a frozen module's (`<frozen importlib._bootstrap>`)."""
    if file.startswith("<") or "/site-packages/" in file or "/dist-packages/" in file:
        return False
    resolved = str(Path(file).resolve())
    return not resolved.startswith(_MCPKIT) and not resolved.startswith(_LIBRARIES)


def describe_failure(error: BaseException | str) -> dict[str, Any]:
    """`summary`: the error's first line; `exception`: the lines naming the (last) exception;
    `userFrames`: the traceback(s) with the user's frames only, exceptions and chaining lines
    kept; `otherFrames`: how many frames that left out; `text`: all of it, as it came."""
    text = str(error) or type(error).__name__
    lines = text.splitlines()
    kept: list[str] = []
    exception: list[str] = []
    in_frame = keep = False
    left_out = 0
    for line in lines[1:]:
        if line.startswith("  File ") and _FRAME.match(line):
            in_frame, keep = True, is_user_file(_file_of(line))
            left_out += not keep
            if keep:
                kept.append(line)
        elif in_frame and line.startswith("    "):
            if keep:
                kept.append(line)  # the frame's source line and its ^^^ marks
        elif line.startswith(_CHAIN):
            kept.extend(["", line] if kept else [line])
            in_frame, exception = False, []
        elif line.strip() and (in_frame or exception):
            in_frame = False
            exception.append(line)
            kept.append(line)
    return {
        "summary": lines[0] if lines else text,
        "exception": "\n".join(exception),
        "userFrames": "\n".join(kept),
        "otherFrames": left_out,
        "text": text,
    }


def _file_of(line: str) -> str:
    match = _FRAME.match(line)
    return match.group("file") if match else ""
