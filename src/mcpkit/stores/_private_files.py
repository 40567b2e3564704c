"""The files of a SQLite store, kept to this user: folders made 0700, the database made 0600
before SQLite opens it, existing files of this user made 0600 again, and one warning for what
other users can still open.

A store holds live session ids (enough to take a session over), event logs with tool results
and the key that seals 2026-07-28 requestState. SQLite makes a database's `-wal`, `-shm` and
`-journal` files with the database file's permissions (its unix VFS copies them), so making the
database 0600 before the first `sqlite3.connect` covers them all; nothing changes the process
umask, which other threads share.

An existing file of the store that group or others may open (a database made by an older
release, or by hand, under umask 022, and so its -wal and -shm) is made 0600 when it is this
user's, and the warning says so (a group given access on purpose loses it, and is told);
one of another user's is not ours to change, nor is a folder too open (other files may live
there): the warning names each path and the command that closes it. Nothing is refused:
that would turn an upgrade into an outage.
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
    """Make the files of the store at `database` (the file, its SQLite companions) that this
    user owns and others could open 0600, and log one warning naming them, and what others
    can still open (another user's file, the folder) with how to close it; nothing when all
    is private
    (or when `database` is no file at all, which SQLite's own error will say). Not on
    Windows, whose files have no such permission bits (their ACLs come from the folder)."""
    if os.name == "nt" or not os.path.isfile(database):
        return
    problems: list[str] = []
    fixes: list[str] = []
    files = (database, *(Path(f"{database}{suffix}") for suffix in _COMPANIONS))
    closed: list[str] = []
    exposed: list[str] = []
    for path in files:
        if _opened_by_others(path, mask=0o077):
            (closed if _close_own(path) else exposed).append(str(path))
    if closed:
        problems.append(
            f"{', '.join(closed)} could be read or written by other users: made them 0600"
        )
    if exposed:
        problems.append(f"{', '.join(exposed)} can be read or written by other users")
        fixes.append(f"chmod 600 {' '.join(exposed)} as their owner")
    folder = database.parent
    if _opened_by_others(folder, mask=0o022):
        # Whoever may write the folder can plant a -wal file before SQLite makes one, and
        # read everything written to it.
        problems.append(f"its folder {folder} can be written by other users")
        fixes.append(f"chmod 700 {folder} (or move the store to a folder of your own)")
    if problems:
        logger.warning(
            "the SQLite store %s holds session ids, event logs and the requestState key, but %s%s",
            database,
            "; ".join(problems),
            f": {'; '.join(fixes)}" if fixes else "",
        )


def _close_own(path: Path) -> bool:
    """Make `path` 0600 if it is this user's file (not a link to one elsewhere); whether it
    was."""
    getuid = getattr(os, "getuid", None)
    try:
        found = os.lstat(path)
        if getuid is None or found.st_uid != getuid() or not stat.S_ISREG(found.st_mode):
            return False
        os.chmod(path, FILE_MODE)
    except OSError:
        return False
    return True


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
