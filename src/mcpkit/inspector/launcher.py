"""The file the inspector opens in a browser instead of a link: a page readable by its owner
alone that sends the browser on to the one-time login link, so no credential is ever in the
browser's arguments (which every user of the machine can read, `ps`, /proc/PID/cmdline)."""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["Launcher"]

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url={link}">
<title>mcpkit inspector</title>
</head>
<body>
<p>Opening the <a href="{link}">mcpkit inspector</a>...</p>
</body>
</html>
"""


class Launcher:
    """`Launcher(link)` writes a page that redirects to `link` in a folder of its own (0700,
    under the system's temporary folder), as a file only its owner may read (0600);
    `url` is what the browser is given (`file://...`: no secret in it), `remove()` deletes
    the folder (once the browser used the link, and when the inspector stops)."""

    def __init__(self, link: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mcpkit-inspector-"))  # 0700, new
        self.path = self.folder / "open.html"
        # O_EXCL: never write through a file or link someone placed there first
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(_PAGE.format(link=html.escape(link, quote=True)))

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def remove(self) -> None:
        """Delete the page and its folder (again: a no-op)."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)
