"""TARGET, as every `mcpkit` verb and the web inspector take it: a server file
(`server.py[:object]`, or `server.js`, run with node), a module (`pkg.mod[:object]`), a command
(`"npx -y some-server"`, `"uvx some-server"`), or a URL (Streamable HTTP or legacy SSE);
`parse_target` decides which and `open_client` connects
the mcpkit client to it. It is the client's, below both the cli and the inspector, so neither
imports the other for it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcpkit.errors import InvalidUrl
from mcpkit.transports.connect import script_argv
from mcpkit.transports.endpoint_url import check_endpoint_url, looks_like_url

if TYPE_CHECKING:
    import httpx

    from mcpkit.client.client import Client

__all__ = [
    "NO_BROWSER_HINT",
    "Target",
    "TargetError",
    "TargetKind",
    "default_token_directory",
    "open_client",
    "parse_headers",
    "parse_target",
]

TargetKind = Literal["file", "module", "command", "url"]

#: What a browser login says where no browser can open (a shell over SSH), and when nothing
#: came back: the command line's ways to authorize without one.
NO_BROWSER_HINT = (
    "where no browser can open, use --oauth headless (for an authorization server that "
    "approves without a person) or send a token with --header 'Authorization: Bearer TOKEN'"
)

# `pkg.mod`, `pkg.mod:app`: Python identifiers joined by dots, and an optional object name.
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?")
_HOW = (
    "give a server file (server.py, server.py:object or server.js), a module "
    "(package.module:object), "
    'a command in quotes ("npx -y some-server") or a URL (http://127.0.0.1:8000/mcp)'
)


#: Where the launchers hosts' configs name come from, for a command that is not there.
_COMES_WITH = {
    "node": "Node.js",
    "npx": "Node.js (npm)",
    "uvx": "uv (docs.astral.sh/uv)",
    "uv": "uv (docs.astral.sh/uv)",
}


class TargetError(ValueError):
    """TARGET names nothing mcpkit can connect to; the message says what to give instead."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a TARGET text names: its kind, and the command or URL the client connects to."""

    text: str
    kind: TargetKind
    #: The URL (kind "url") or the command's argv (the others).
    argv_or_url: tuple[str, ...] | str
    #: What a host's configuration gives the server besides (`mcpkit list cursor:github`):
    #: a command's environment (over ours) and folder, a URL's headers.
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    headers: Mapping[str, str] | None = None

    @property
    def spawns(self) -> bool:
        """Whether connecting starts a process (every kind but "url")."""
        return self.kind != "url"


def parse_target(text: str, *, cwd: Path | None = None) -> Target:
    """Decide what `text` names. A file or module is served by `python -m mcpkit run` in a
    child process (the way hosts run it), so a server that crashes or prints cannot take the
    command line down with it; a command runs as given; a URL is connected to over HTTP."""
    stripped = text.strip()
    if not stripped:
        raise TargetError(f"the target is empty; {_HOW}")
    if looks_like_url(stripped):
        try:
            check_endpoint_url(stripped)
        except InvalidUrl as exc:  # before anything is started or connected to
            raise TargetError(str(exc)) from None
        return Target(text, "url", stripped)
    base = cwd if cwd is not None else Path.cwd()
    found = _local_file(text, stripped, base)
    if found is not None:
        return found
    if any(ch.isspace() for ch in stripped):
        return _command(text, stripped)
    if ":" not in stripped and shutil.which(stripped) is not None:
        return Target(text, "command", (stripped,))  # a program on PATH, such as `my-server`
    if _MODULE.fullmatch(stripped):
        return Target(text, "module", _serve_with_mcpkit(stripped))
    raise TargetError(f"{text!r} is not a file, module, program on PATH or URL; {_HOW}")


def _local_file(text: str, stripped: str, base: Path) -> Target | None:
    """What one word names if it is a file: a program, a JavaScript server run with node, a
    Python server file (`server.py[:object]`, which must exist); None for other text."""
    if any(ch.isspace() for ch in stripped):
        return None  # `python server.py` (words) is a command
    file_part = stripped.partition(":")[0]
    if _runs_by_itself(base / stripped):  # `./node_modules/.bin/some-server`
        return Target(text, "command", (stripped,))
    script = script_argv(stripped)
    if script is not None:
        if not (base / stripped).is_file():
            raise TargetError(f"{stripped} does not exist (relative to {base}); {_HOW}")
        if shutil.which(script[0]) is None:
            raise TargetError(_not_on_path(script[0]))
        return Target(text, "command", tuple(script))
    if file_part.endswith(".py") or (base / file_part).is_file():
        if not (base / file_part).is_file():
            raise TargetError(f"{file_part} does not exist (relative to {base}); {_HOW}")
        return Target(text, "file", _serve_with_mcpkit(stripped))
    return None


def _runs_by_itself(path: Path) -> bool:
    """An executable file that is not Python source: a program given by its path."""
    return path.suffix != ".py" and path.is_file() and os.access(path, os.X_OK)


def _serve_with_mcpkit(target: str) -> tuple[str, ...]:
    from mcpkit.transports.connect import mcpkit_run_argv

    return tuple(mcpkit_run_argv(target))


def _command(text: str, stripped: str) -> Target:
    try:
        argv = shlex.split(stripped)
    except ValueError as exc:  # an unclosed quote
        raise TargetError(f"cannot split the command {text!r} into words: {exc}") from None
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    elif shutil.which(argv[0]) is None:
        raise TargetError(_not_on_path(argv[0]))
    return Target(text, "command", tuple(argv))


def _not_on_path(program: str) -> str:
    comes_with = _COMES_WITH.get(program)
    hint = f" ({program} comes with {comes_with}: install it)" if comes_with else ""
    return f"the command {program!r} is not on PATH{hint}; {_HOW}"


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """Header texts `'Name: value'` (the command line's `--header` options) as a dict; a
    malformed one is a TargetError naming it (the command line names its option too)."""
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        name = name.strip()
        if not sep or not name or any(ch.isspace() for ch in name):
            raise TargetError(f"the header {value!r} is not 'Name: value', as in 'X-Api-Key: abc'")
        headers[name] = rest.strip()
    return headers


def default_token_directory() -> Path:
    """Where the command line keeps OAuth tokens between runs (per server, mode 0600):
    `$XDG_CACHE_HOME/mcpkit/oauth`, else `~/.cache/mcpkit/oauth`."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "mcpkit" / "oauth"


def open_client(
    target: Target | str,
    *,
    headers: Mapping[str, str] | None = None,
    oauth: Literal["browser", "headless", "off"] = "browser",
    token_directory: Path | None = None,
    env: Mapping[str, str] | None = None,
    stderr: Any = "inherit",
    show_authorization: Callable[[str], object] | None = None,
    **client_options: Any,
) -> Client:
    """A `Client` (not yet connected: use `async with`) for `target`.

    URLs: `headers` go on every request; unless `oauth="off"` or an Authorization header is
    given, a server that answers 401 is authorized with OAuth (in a browser, or headless for
    authorization servers that approve at once), tokens kept in `token_directory`. With
    `show_authorization` (the command line's), a browser login tells it at once where to
    authorize, and where no browser opens, names the command line's ways around one.
    Processes: they inherit this environment (the user runs the command line in the shell
    that holds the server's settings) plus `env`.
    """
    from mcpkit.client.client import Client
    from mcpkit.transports.stdio_client import StdioParameters

    resolved = parse_target(target) if isinstance(target, str) else target
    if isinstance(resolved.argv_or_url, str):
        if resolved.headers:
            headers = {**resolved.headers, **(headers or {})}
        return Client(
            resolved.argv_or_url,
            headers=headers,
            auth=_oauth(oauth, headers, token_directory, show_authorization),
            **client_options,
        )
    if headers:
        raise TargetError("headers are for URL targets; a server started as a process has none")
    command, *args = resolved.argv_or_url
    params = StdioParameters(
        command,
        args,
        env={**os.environ, **(resolved.env or {}), **(env or {})},
        cwd=resolved.cwd,
        stderr=stderr,
    )
    return Client(params, **client_options)


def _oauth(
    mode: Literal["browser", "headless", "off"],
    headers: Mapping[str, str] | None,
    token_directory: Path | None,
    show: Callable[[str], object] | None,
) -> httpx.Auth | None:
    if mode == "off" or any(name.lower() == "authorization" for name in headers or {}):
        return None
    try:
        from mcpkit.auth.client import (
            FileTokenStorage,
            HeadlessRedirect,
            LoopbackBrowser,
            OAuth,
            RedirectHandler,
        )
        from mcpkit.auth.metadata import ClientMetadata
    except ModuleNotFoundError:  # without mcpkit[auth] a server's 401 is reported as it is
        return None

    if mode == "headless":
        redirect: RedirectHandler = HeadlessRedirect()
    elif show is None:
        redirect = LoopbackBrowser()
    else:
        redirect = LoopbackBrowser(show=show, hint=NO_BROWSER_HINT)
    storage = FileTokenStorage(token_directory or default_token_directory())
    return OAuth(redirect, storage=storage, client_metadata=ClientMetadata(client_name="mcpkit"))
