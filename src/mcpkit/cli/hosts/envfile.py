"""`--env KEY=VALUE` options and `--env-file` files (dotenv lines, read by python-dotenv of the
`cli` extra) as one mapping."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcpkit._extras import import_extra

__all__ = ["parse_env_file", "parse_env_options"]

# An environment variable name as POSIX shells accept it.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_env_options(values: Sequence[str], *, allow_prompt: bool) -> dict[str, str | None]:
    """`KEY=VALUE` options; a bare `KEY` (None: ask the user) only when `allow_prompt`."""
    env: dict[str, str | None] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        _check_name(key, f"--env {value!r}")
        if not sep and not allow_prompt:
            raise ValueError(
                f"--env {value!r} has no value: give KEY=VALUE (only vscode can ask for a "
                "value when the server starts)"
            )
        env[key] = rest if sep else None
    return env


def parse_env_file(path: Path) -> dict[str, str]:
    """A dotenv file, read by python-dotenv as the other tools that take one read it: blank
    lines and `#` comments skipped, `export ` before KEY allowed, quoted values (escapes in
    double quotes, none in single quotes, over several lines), and no `${VAR}` expanded."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"--env-file {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"--env-file {path} is not UTF-8 text; give a KEY=VALUE file") from None
    parser: Any = import_extra("dotenv.parser", "cli", "--env-file")
    env: dict[str, str] = {}
    # parse_stream, not dotenv_values: that one skips a line it cannot read with a logged
    # warning; parse_stream is what it reads with, and says which line (its Binding's
    # `error`), so the line is refused here. It expands nothing: the values are the file's.
    for binding in parser.parse_stream(io.StringIO(text)):
        said: str = binding.original.string
        # (a binding's text begins with the blank lines before it)
        line = binding.original.line + said[: len(said) - len(said.lstrip())].count("\n")
        where = f"--env-file {path}, line {line}"
        if binding.error:
            raise ValueError(
                f"{where}: {said.strip()!r} is not KEY=VALUE, or opens a quote it never closes"
            )
        if binding.key is not None and binding.value is None:
            raise ValueError(f"{where}: {said.strip()!r} is not KEY=VALUE")
        if binding.key is not None:
            _check_name(binding.key, where)
            env[binding.key] = binding.value
    return env


def _check_name(key: str, where: str) -> None:
    if not _NAME.fullmatch(key):
        raise ValueError(
            f"{where}: {key!r} is not an environment variable name (letters, digits and _, "
            "not starting with a digit)"
        )
