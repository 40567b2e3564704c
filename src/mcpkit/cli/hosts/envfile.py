"""`--env KEY=VALUE` options and `--env-file` files (dotenv lines) as one mapping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

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
    """A dotenv file: `KEY=VALUE` lines, an optional `export ` before KEY, blank lines and
    `#` comments skipped, a value in matching single or double quotes taken literally."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"--env-file {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"--env-file {path} is not UTF-8 text; give a KEY=VALUE file") from None
    env: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        where = f"--env-file {path}, line {number}"
        if not sep:
            raise ValueError(f"{where}: {line.strip()!r} is not KEY=VALUE")
        _check_name(key, where)
        env[key] = _unquote(value.strip())
    return env


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _check_name(key: str, where: str) -> None:
    if not _NAME.fullmatch(key):
        raise ValueError(
            f"{where}: {key!r} is not an environment variable name (letters, digits and _, "
            "not starting with a digit)"
        )
