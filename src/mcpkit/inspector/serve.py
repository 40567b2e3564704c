"""`serve_inspector`: serve the inspector on 127.0.0.1 with uvicorn until Ctrl-C, print a
one-time link to it, open another in a browser through a private file, and (for `mcpkit dev`)
reconnect when the server's files change."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from mcpkit._extras import missing_message, needs_extra
from mcpkit.inspector.app import InspectorApp
from mcpkit.inspector.approval import ConfirmationNeeded
from mcpkit.inspector.failure import describe_failure
from mcpkit.inspector.hub import Approve, InspectorHub
from mcpkit.inspector.launcher import Launcher
from mcpkit.inspector.login import BROWSER_CODE_LIFETIME
from mcpkit.inspector.panel_settings import ConnectionSettings
from mcpkit.inspector.watch import changed_files, snapshot

__all__ = ["serve_inspector"]

#: Seconds between looks at the watched files' modification times.
POLL_INTERVAL = 0.5


def serve_inspector(
    target_text: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    settings: ConnectionSettings | None = None,
    port: int | None = None,
    open_browser: bool = True,
    watch: Iterable[Path] = (),
    out: TextIO | None = None,
) -> int:
    """Serve the inspector for `target_text` (None: the page asks) until Ctrl-C; the exit
    code. `target_text` is connected to without a confirmation (the page asks before
    starting any other command); `headers` are sent to it only. `settings`: how to connect
    (`--protocol`, `--timeout`) until the page's connection panel says otherwise. `watch`:
    files whose change restarts the server and reconnects (`mcpkit dev`)."""
    out = out if out is not None else sys.stderr
    if importlib.util.find_spec("uvicorn") is None:
        print(f"error: {missing_message('uvicorn', 'http', 'the inspector')}", file=out)
        return 1
    try:
        sock = _listen(port or 0)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{port}: {exc}; pick another --port", file=out)
        return 1
    try:
        sandbox = _listen(0)  # MCP Apps: views load from another origin than the page's
    except OSError as exc:
        sock.close()
        print(f"error: cannot listen on 127.0.0.1 for the views' sandbox: {exc}", file=out)
        return 1
    hub = InspectorHub(initial_target=target_text, headers=headers, settings=settings)
    app = InspectorApp(
        hub,
        on_revoked=lambda: print(_RACED, file=out, flush=True),
        sandbox_port=sandbox.getsockname()[1],
    )
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # Two one-time links, neither holding the token itself; the terminal's is good until it
    # is used. The browser's arguments can be read by every user of this machine (`ps`), so
    # the browser is given a file only this user can read, which holds the other link.
    printed = app.one_time_code(None, exposed=False)
    print(f"mcpkit inspector: {base}/?code={printed}", file=out)
    print(
        "  (a one-time link: it logs in one browser, which stays logged in until it closes)",
        file=out,
        flush=True,
    )
    launcher = _launch_browser(app, base, out or sys.stderr) if open_browser else None
    try:
        asyncio.run(_serve(app, [sock, sandbox], list(watch), out or sys.stderr))
    except KeyboardInterrupt:
        return 130
    finally:
        if launcher is not None:
            launcher.remove()
        sock.close()
        sandbox.close()
    return 0


def _launch_browser(app: InspectorApp, base: str, out: TextIO) -> Launcher | None:
    """Open the login page in a browser through a private file (launcher.py), deleted once
    its code is used (or when the inspector stops); None, and the terminal told, if that file
    cannot be written (the link is never given to the browser's command line instead)."""
    launcher: Launcher | None = None

    def used() -> None:
        if launcher is not None:
            launcher.remove()

    code = app.one_time_code(BROWSER_CODE_LIFETIME, on_redeemed=used)
    try:
        launcher = Launcher(f"{base}/?code={code}")
    except OSError as exc:
        print(f"mcpkit inspector: not opening a browser ({exc}): open the link above", file=out)
        return None
    # a thread: some browsers' launchers block until the window closes
    threading.Thread(target=webbrowser.open, args=(launcher.url,), daemon=True).start()
    return launcher


_RACED = (
    "mcpkit inspector: the link opened in the browser was used twice; someone may have read "
    "it and used it first. Every login is revoked: open the link printed above, or start the "
    "inspector again."
)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


async def _serve(
    app: InspectorApp, sockets: list[socket.socket], watch: list[Path], out: TextIO
) -> None:
    with needs_extra("http", "the inspector"):
        import uvicorn

    config = uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    watcher = asyncio.create_task(_watch(app, watch, out)) if watch else None
    first = app.hub.initial_target
    # `mcpkit dev`: the server starts now, so a file broken from the start is told in the
    # terminal at once, not when a page first connects
    starting = asyncio.create_task(_first_start(app.hub, first, out)) if watch and first else None
    try:
        await server.serve(sockets=sockets)
    finally:
        for task in (watcher, starting):
            if task is not None:
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.hub.disconnect(), 5)


async def _first_start(hub: InspectorHub, target: str, out: TextIO) -> None:
    try:
        await hub.connect(target)
    except Exception as exc:
        _tell_failure(exc, "the server did not start", out)
        return
    print(f"mcpkit dev: serving {target}", file=out, flush=True)


def _tell_failure(exc: Exception, what: str, out: TextIO) -> None:
    failure = describe_failure(exc)
    told = failure["userFrames"] or failure["text"]
    print(f"mcpkit dev: {what}:\n{told}", file=out)
    print("mcpkit dev: the next save tries again", file=out, flush=True)


async def _watch(app: InspectorApp, files: list[Path], out: TextIO) -> None:
    seen = snapshot(files)
    while True:
        await asyncio.sleep(POLL_INTERVAL)
        now = snapshot(files)
        changed = changed_files(seen, now)
        seen = now
        if changed:
            await _reload(app.hub, changed, out, app.approvals.check)


async def _reload(
    hub: InspectorHub,
    changed: list[Path],
    out: TextIO,
    approve: Approve | None = None,
) -> None:
    """Reconnect to the target the pages last asked for; `approve` (the app's) checks it
    as it checked the page's request: a target that did not parse then was not confirmed."""
    names = ", ".join(path.name for path in changed)
    print(f"mcpkit dev: {names} changed; restarting the server", file=out, flush=True)
    hub.publish("reload", files=[str(path) for path in changed])
    target = hub.wanted_target
    if target is None:
        return  # no page asked for a server (or it disconnected): its next connect is fresh
    try:  # connected, or the last try failed (a syntax error mid-edit): try the new code
        await hub.connect(target, approve=approve)
    except ConfirmationNeeded:
        print(f"mcpkit dev: not starting {target}: nobody confirmed it in the page", file=out)
        return
    except Exception as exc:
        _tell_failure(exc, "the server did not start again", out)
        return
    print("mcpkit dev: reloaded", file=out, flush=True)
