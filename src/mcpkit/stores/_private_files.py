"""The files of a SQLite store, kept to this user: folders made 0700, the database made 0600
before SQLite opens it, and one warning for existing ones other users can open.

A store holds live session ids (enough to take a session over), event logs with tool results
and the key that seals 2026-07-28 requestState. SQLite makes a database's `-wal`, `-shm` and
`-journal` files with the database file's permissions (its unix VFS copies them), so making the
database 0600 before the first `sqlite3.connect` covers them all; nothing changes the process
umask, which other threads share.

An existing file or folder that is too open is warned about, not refused nor changed: an
operator may share it with a group on purpose (a backup user, say), and refusing would turn an
upgrade into an outage; the warning names each path and the command that closes it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Final

__all__ = ["FILE_MODE", "FOLDER_MODE", "check_private", "make_private_file", "make_private_folder"]

logger = logging.getLogger("mcpkit.stores")

#: What a store's files are made with: read and written by this user only.
FILE_MODE: Final = 0o600
#: What a folder mcpkit makes for a store is made with.
FOLDER_MODE: Final = 0o700
#: The files SQLite keeps beside a database, each as readable as the database itself.
_COMPANIONS: Final = ("-wal", "-shm", "-journal")


def make_private_folder(folder: Path) -> None:
    """Make `folder` and every missing folder above it, 0700 each (the umask can only narrow
    that). An existing folder is left as it is (`check_private` warns about it)."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:
            pass  # another process of the deployment made it at the same moment


def make_private_file(path: Path) -> bool:
    """Make `path` an empty file 0600 when it does not exist (SQLite takes an empty file for
    a new database); whether it was made here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def check_private(database: Path) -> None:
    """Log one warning naming what other users could open of the store at `database` (the
    file, its SQLite companions, its folder) and how to close it; nothing when all is private
    (or when `database` is no file at all, which SQLite's own error will say). Not on
    Windows, whose files have no such permission bits (their ACLs come from the folder)."""
    if os.name == "nt" or not os.path.isfile(database):
        return
    problems: list[str] = []
    fixes: list[str] = []
    exposed = [
        str(path)
        for path in (database, *(Path(f"{database}{suffix}") for suffix in _COMPANIONS))
        if _opened_by_others(path, mask=0o077)
    ]
    if exposed:
        problems.append(f"{', '.join(exposed)} can be read or written by other users")
        fixes.append(f"chmod 600 {' '.join(exposed)}")
    folder = database.parent
    if _opened_by_others(folder, mask=0o022):
        # Whoever may write the folder can plant a -wal file before SQLite makes one, and
        # read everything written to it.
        problems.append(f"its folder {folder} can be written by other users")
        fixes.append(f"chmod 700 {folder} (or move the store to a folder of your own)")
    if problems:
        logger.warning(
            "the SQLite store %s holds session ids, event logs and the requestState key, but %s: "
            "%s",
            database,
            "; ".join(problems),
            "; ".join(fixes),
        )


def _opened_by_others(path: Path, *, mask: int) -> bool:
    """Whether `path` exists with one of the permission bits of `mask`, or belongs to another
    user."""
    try:
        found = os.stat(path)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is not None and found.st_uid != getuid():
        return True
    return bool(stat.S_IMODE(found.st_mode) & mask)
