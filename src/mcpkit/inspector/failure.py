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
    """`summary` (the error's first line), `exception` (the lines that name the exception),
    `userFrames` (each of the user's frames, its source lines included), `otherFrames` (how
    many frames were library ones), `text` (everything, as it came)."""
    text = str(error) or type(error).__name__
    lines = text.splitlines()
    frames: list[list[str]] = []
    exception: list[str] = []
    summary = lines[0] if lines else text
    for line in lines[1:]:
        if _FRAME.match(line) and line.startswith("  ") and not line.startswith("    "):
            frames.append([line])
        elif line.startswith("    ") and frames and not exception:
            frames[-1].append(line)
        elif line.startswith(_CHAIN) or not line.strip():
            exception = []  # a chained traceback follows: its own exception comes later
        elif frames:
            exception.append(line)
    user = [frame for frame in frames if is_user_file(_file_of(frame[0]))]
    return {
        "summary": summary,
        "exception": "\n".join(exception),
        "userFrames": ["\n".join(frame) for frame in user],
        "otherFrames": len(frames) - len(user),
        "text": text,
    }


def _file_of(line: str) -> str:
    match = _FRAME.match(line)
    return match.group("file") if match else ""
