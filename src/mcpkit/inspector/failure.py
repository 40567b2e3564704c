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
_ERROR_LINE = "error: "  # the command line's one prefix (mcpkit.cli.main.ERROR_PREFIX)
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
    """`summary`: the command line's `error:` line if the text holds one and no traceback
    (what `mcpkit run` says in one line of a server file that fails to load), else the
    error's first line; `exception`:
    the lines naming the (last) exception; `userFrames`: the traceback(s) with the user's
    frames only, exceptions and chaining lines kept, and lines before any traceback; a
    cause raised and chained entirely inside mcpkit and libraries is left out, with its
    "The above exception..." line; `otherFrames`: how many frames that left out; `text`: all
    of it, as it came."""
    text = str(error) or type(error).__name__
    lines = text.splitlines()
    trimmed = _Trimmed()
    for line in lines[1:]:
        trimmed.read(line)
    # the command line's own line, when it is all there is (no traceback says "above")
    said = [line for line in lines if line.startswith(_ERROR_LINE)]
    alone = said and not trimmed.in_traceback
    return {
        "summary": said[-1].removeprefix(_ERROR_LINE) if alone else (lines[0] if lines else text),
        "exception": "\n".join(trimmed.exception),
        "userFrames": "\n".join(trimmed.kept),
        "otherFrames": trimmed.left_out,
        "text": text,
    }


class _Trimmed:
    """The lines of tracebacks read one by one, the user's kept; `in_traceback`: whether a
    traceback (or a SyntaxError's file and line) was met."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.exception: list[str] = []
        self.left_out = 0
        self._in_frame = self._keep = self.in_traceback = self._user_frame = False
        self._start = 0  # where the current traceback's lines begin in `kept`

    def read(self, line: str) -> None:
        if line.startswith("  File ") and _FRAME.match(line):
            if not self.in_traceback:  # a SyntaxError's file and line: no header before it
                self._start, self._user_frame, self.in_traceback = len(self.kept), False, True
            self._in_frame, self._keep = True, is_user_file(_file_of(line))
            self._user_frame |= self._keep
            self.left_out += not self._keep
            if self._keep:
                self.kept.append(line)
        elif self._in_frame and line.startswith("    "):
            if self._keep:
                self.kept.append(line)  # the frame's source line and its ^^^ marks
        elif line.startswith(_CHAIN):
            self._chained(line)
        elif line.strip() and (self._in_frame or self.exception or not self.in_traceback):
            self._in_frame = False
            if self.in_traceback:
                self.exception.append(line)
            self.kept.append(line)

    def _chained(self, line: str) -> None:
        if line.startswith(_CHAIN[0]):  # a traceback begins
            self._start, self._user_frame = len(self.kept), False
            self.in_traceback = True
        elif not self._user_frame:  # the cause before this line is none of the user's
            del self.kept[self._start :]
            self._in_frame, self.exception = False, []
            return
        self.kept.extend(["", line] if self.kept else [line])
        self._in_frame, self.exception = False, []


def _file_of(line: str) -> str:
    match = _FRAME.match(line)
    return match.group("file") if match else ""
