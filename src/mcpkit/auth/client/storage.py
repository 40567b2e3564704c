"""Where a client keeps what authorization gave it: tokens per MCP server, stamped with their
issuer, and client registrations per authorization server, keyed by its issuer (spec:
basic/authorization, "Authorization Server Binding", SEP-2352). `MemoryTokenStorage` (the
default) forgets them at exit; `FileTokenStorage` keeps them in owner-only files written
atomically ("Token Theft")."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

import msgspec

from mcpkit.auth.metadata import ClientInformation
from mcpkit.errors import McpkitError

__all__ = [
    "FileTokenStorage",
    "MemoryTokenStorage",
    "StoredClient",
    "StoredTokens",
    "TokenStorage",
    "UnsafeTokenDirectory",
    "load_issuer_client",
]

logger = logging.getLogger("mcpkit.auth")


class UnsafeTokenDirectory(McpkitError):
    """`FileTokenStorage`'s directory is one another user could have prepared: a symbolic
    link, not owned by this user, or writable by others. Nothing is read from it or written
    to it; the message says what to do."""


class StoredTokens(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Tokens for one MCP server: what they are for (`resource`), who issued them and where to
    refresh them, and when the access token expires (seconds since the epoch)."""

    access_token: str
    resource: str
    issuer: str
    token_endpoint: str
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str | None = None

    def __repr__(self) -> str:
        # Tokens are bearer credentials: never in a log line or a traceback's locals.
        return (
            f"StoredTokens(resource={self.resource!r}, issuer={self.issuer!r}, "
            f"expires_at={self.expires_at!r}, scope={self.scope!r}, "
            f"refresh_token={'...' if self.refresh_token else None})"
        )


class StoredClient(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The client's registration at `issuer` (RFC 7591 response, or a client ID metadata
    document's URL); kept under that issuer and used with no other authorization server."""

    issuer: str
    information: ClientInformation


@runtime_checkable
class TokenStorage(Protocol):
    """Keeps tokens per MCP server URL (`server`) and client registrations per authorization
    server (`issuer`, its issuer identifier); implementations must keep them from other users
    (they are bearer credentials). The two kinds are looked up apart: a string may be both a
    server's key and an issuer's."""

    async def load_tokens(self, server: str, /) -> StoredTokens | None: ...

    async def save_tokens(self, server: str, tokens: StoredTokens | None, /) -> None:
        """Keep `tokens` for `server`; None forgets them."""
        ...

    async def load_client(self, issuer: str, /) -> StoredClient | None: ...

    async def save_client(self, issuer: str, client: StoredClient | None, /) -> None:
        """Keep `client`, registered at `issuer`; None forgets it."""
        ...


async def load_issuer_client(
    storage: TokenStorage, issuer: str, *, legacy_key: str | None = None
) -> StoredClient | None:
    """The registration `storage` keeps for `issuer`, never one made at another authorization
    server (spec: "Authorization Server Binding").

    Storage written before registrations were keyed by issuer (earlier mcpkit versions) kept
    one under the MCP server's URL: give that URL as `legacy_key` and such a registration moves
    to its own issuer's key (and is returned when that is `issuer`)."""
    stored = await storage.load_client(issuer)
    if stored is None and legacy_key is not None and legacy_key != issuer:
        legacy = await storage.load_client(legacy_key)
        # A registration whose issuer is its key is already in the new format (an issuer
        # URL may also be a server URL); anything else there is an old server-keyed one.
        if legacy is not None and legacy.issuer != legacy_key:
            if await storage.load_client(legacy.issuer) is None:
                await storage.save_client(legacy.issuer, legacy)
            await storage.save_client(legacy_key, None)
            logger.info("moved the client registration at %s under its issuer", legacy.issuer)
            stored = legacy if legacy.issuer == issuer else None
    if stored is not None and stored.issuer != issuer:
        return None
    return stored


class MemoryTokenStorage:
    """Tokens and registrations in this process only."""

    def __init__(self) -> None:
        self._tokens: dict[str, StoredTokens] = {}
        self._clients: dict[str, StoredClient] = {}

    async def load_tokens(self, server: str) -> StoredTokens | None:
        return self._tokens.get(server)

    async def save_tokens(self, server: str, tokens: StoredTokens | None) -> None:
        if tokens is None:
            self._tokens.pop(server, None)
        else:
            self._tokens[server] = tokens

    async def load_client(self, issuer: str) -> StoredClient | None:
        return self._clients.get(issuer)

    async def save_client(self, issuer: str, client: StoredClient | None) -> None:
        if client is None:
            self._clients.pop(issuer, None)
        else:
            self._clients[issuer] = client


class _Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    #: The key the file is for: a server's URL (its tokens) or an issuer (its registration);
    #: named `server` since the files of the first versions, which held both under the server.
    server: str
    tokens: StoredTokens | None = None
    client: StoredClient | None = None


class FileTokenStorage:
    """One JSON file per key in `directory` (created 0700): an MCP server's tokens, an
    authorization server's client registration. Each file is 0600 and replaced atomically, so
    a crash never leaves half a token file and no other user can read one. A file that cannot
    be read as ours counts as empty (and is replaced on the next save).

    Another local user must not plant tokens here: an existing `directory` that is a
    symbolic link, is not owned by this user, or that group or others may write is refused
    (`UnsafeTokenDirectory`), and so is a file in it that is not this user's own regular
    file. Tokens are keyed by the server's URL with its query, registrations by the issuer;
    the endpoints a token is refreshed at come from the issuer's metadata, never from a
    file."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = asyncio.Lock()

    def path_for(self, key: str) -> Path:
        """The file of `key` (a server URL or an issuer): named by a hash, so any URL makes a
        safe file name."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    async def load_tokens(self, server: str) -> StoredTokens | None:
        return (await self._load(server)).tokens

    async def save_tokens(self, server: str, tokens: StoredTokens | None) -> None:
        async with self._lock:
            entry = await self._load(server)
            entry.tokens = tokens
            await asyncio.to_thread(self._write, server, entry)

    async def load_client(self, issuer: str) -> StoredClient | None:
        return (await self._load(issuer)).client

    async def save_client(self, issuer: str, client: StoredClient | None) -> None:
        async with self._lock:
            entry = await self._load(issuer)
            entry.client = client
            await asyncio.to_thread(self._write, issuer, entry)

    async def _load(self, server: str) -> _Entry:
        return await asyncio.to_thread(self._read, server)

    def _check_directory(self, *, create: bool) -> bool:
        """Whether the directory exists and is ours alone (made 0700 when `create`);
        UnsafeTokenDirectory when it exists and is not."""
        try:
            found = os.lstat(self.directory)
        except FileNotFoundError:
            if not create:
                return False
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(self.directory, 0o700)
            found = os.lstat(self.directory)
        problem = _unsafe(found, directory=True)
        if problem is not None:
            raise UnsafeTokenDirectory(
                f"the token directory {self.directory} {problem}: another user could plant "
                "or read tokens there; give a directory of your own (it is created 0700 when "
                "it does not exist)"
            )
        return True

    def _read(self, server: str) -> _Entry:
        if not self._check_directory(create=False):
            return _Entry(server=server)
        path = self.path_for(server)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return _Entry(server=server)
        try:
            problem = _unsafe(os.fstat(fd), directory=False)
            if problem is not None:
                logger.warning("ignored the token file %s: it %s", path, problem)
                return _Entry(server=server)
            with os.fdopen(fd, "rb", closefd=False) as file:
                data = file.read()
            entry = msgspec.json.decode(data, type=_Entry)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return _Entry(server=server)
        finally:
            os.close(fd)
        # A hash collision (or a copied file) must not hand one server's tokens to another.
        return entry if entry.server == server else _Entry(server=server)

    def _write(self, server: str, entry: _Entry) -> None:
        self._check_directory(create=True)
        target = self.path_for(server)
        # mkstemp creates the file 0600 from the start: the token is never readable by others,
        # not even between creation and a chmod.
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(msgspec.json.encode(entry))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _unsafe(found: os.stat_result, *, directory: bool) -> str | None:
    """What makes a token directory or file one another user could have prepared, or None."""
    kind = stat.S_ISDIR(found.st_mode) if directory else stat.S_ISREG(found.st_mode)
    if stat.S_ISLNK(found.st_mode):
        return "is a symbolic link"
    if not kind:
        return "is not a directory" if directory else "is not a regular file"
    getuid = getattr(os, "getuid", None)
    if getuid is not None and found.st_uid != getuid():
        return "belongs to another user"
    if found.st_mode & 0o022:
        return "may be written by other users"
    return None
