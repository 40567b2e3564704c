"""Which files `mcpkit dev` watches, and which changed: modification times, polled (no
dependency on an OS notification API)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["changed_files", "files_to_watch", "snapshot"]

Snapshot = dict[Path, int | None]


def files_to_watch(server_file: Path) -> list[Path]:
    """The server's file and the other .py files of its folder (the modules it most likely
    imports), and the HTML of its folder and of the folders in it (its MCP Apps views, whose
    change shows the view again); deeper folders are left out, so a virtualenv beside it
    costs nothing."""
    folder = server_file.resolve().parent
    views = [*folder.glob("*.html"), *folder.glob("*/*.html")]
    return sorted({server_file.resolve(), *folder.glob("*.py"), *views})


def snapshot(files: Iterable[Path]) -> Snapshot:
    """Each file's modification time (None: missing now)."""
    times: Snapshot = {}
    for path in files:
        try:
            times[path] = path.stat().st_mtime_ns
        except OSError:
            times[path] = None
    return times


def changed_files(before: Snapshot, after: Snapshot) -> list[Path]:
    return [path for path, mtime in after.items() if before.get(path, mtime) != mtime]
