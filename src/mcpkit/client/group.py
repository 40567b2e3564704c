"""`ServerGroup`: the servers of an `mcpServers` config (the file Claude Desktop, Cursor and VS
Code write), one `Client` each, connected together; `Client({"mcpServers": ...})` speaks to
them as one (`mcpkit.client.group_calls`), and `client.servers["github"]` is one server's own
client.

A server that fails to start (its command is missing, it exits, its URL refuses, it does not
answer within `init_timeout`) is left out with a warning and its reason in `failed`; the
others are used. Only when none starts does connecting fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar

import msgspec

from mcpkit.errors import ConnectionFailed, LocalProtocolError
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.runtime.background import close_all
from mcpkit.transports.server_config import (
    ConfigError,
    ServerEntry,
    parse_entry,
    read_config,
    server_entries,
)

if TYPE_CHECKING:
    from mcpkit.client.request_path import LogLevel
    from mcpkit.types import ServerCapabilities

__all__ = ["SEPARATOR", "C", "ServerClient", "ServerGroup", "clients_of", "config_entries"]

logger = logging.getLogger("mcpkit.client")

#: Between a server's name and a tool's or prompt's: `github_create_issue`, as a server mounted
#: under a namespace shows them (`mcpkit.proxy.from_config` serves a config by those names).
SEPARATOR: Final = "_"
# A server's name goes into tool names and URIs alike (as a mount's namespace).
_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class ServerClient(Protocol):
    """What the group uses of each server's client (a `Client`, which it does not import)."""

    @property
    def protocol_version(self) -> str: ...
    @property
    def server_capabilities(self) -> ServerCapabilities: ...
    @property
    def instructions(self) -> str | None: ...
    async def connect(self) -> None: ...
    async def aclose(self) -> None: ...
    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        progress: Any = None,
        result_type: Any = None,
    ) -> Any: ...
    async def ping(self, *, timeout: float | None = None) -> None: ...
    async def subscribe(self, uri: str) -> None: ...
    async def unsubscribe(self, uri: str) -> None: ...
    async def set_logging_level(self, level: LogLevel) -> None: ...
    async def send_roots_list_changed(self) -> None: ...


#: The client type of each server (a `Client`).
C = TypeVar("C", bound=ServerClient)


def config_entries(
    config: Mapping[str, Any] | str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> list[ServerEntry]:
    """Every server of an `mcpServers` config (a dict, JSON text, or the path of a JSON file),
    checked, `${NAME}` expanded from `environ` (`os.environ` by default), and with names the
    group can put before their tools' names (ConfigError otherwise)."""
    servers = server_entries(read_config(config))
    found = os.environ if environ is None else environ
    entries = [parse_entry(name, raw, found) for name, raw in servers.items()]
    _check_names([entry.name for entry in entries])
    return entries


class ServerGroup(Mapping[str, C], Generic[C]):
    """The servers of an `mcpServers` config, each its own client, by name: what
    `Client(config).servers` is. `group["github"]` is that server's client; iterating gives
    the names of those that started; `failed` says why the others did not.

    `start_timeout` seconds (None: no bound) bound each server's whole start."""

    def __init__(self, clients: Mapping[str, C], *, start_timeout: float | None) -> None:
        #: Every server of the config, by name, as a client (connected or not).
        self.clients: dict[str, C] = dict(clients)
        self.start_timeout = start_timeout
        #: Why each server that did not start (or was lost since) is left out, by name.
        self.failed: dict[str, str] = {}
        self._connected: dict[str, C] = {}

    # ------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Start every server at once; those that fail are left out (`failed`, a warning).
        ConnectionFailed, naming each reason, if none starts."""
        if self._connected:
            raise LocalProtocolError("this group is already connected")
        self.failed.clear()
        try:
            async with asyncio.TaskGroup() as group:
                for name, client in self.clients.items():
                    group.create_task(self._start(name, client))
        except BaseException:
            # Cancelled meanwhile (a caller's timeout): the servers that had started would
            # keep their processes and connections, with no one left to close them.
            with contextlib.suppress(Exception):
                await self.aclose()
            raise
        # in the config's order, whichever started first
        self._connected = {
            name: client for name, client in self.clients.items() if name not in self.failed
        }
        if not self._connected and self.clients:
            reasons = "; ".join(f"{name}: {why}" for name, why in self.failed.items())
            raise ConnectionFailed(f"no server of the config started ({reasons})")

    async def _start(self, name: str, client: C) -> None:
        try:
            async with asyncio.timeout(self.start_timeout):
                await client.connect()
        except Exception as exc:  # one server's failure is reported, not raised
            why = (
                f"it did not start within {self.start_timeout:g} s (init_timeout)"
                if isinstance(exc, TimeoutError)
                else str(exc) or type(exc).__name__
            )
            self.lose(name, why)

    def lose(self, name: str, why: str) -> None:
        """Leave server `name` out from now on, with a warning saying `why`."""
        self.failed[name] = why
        self._connected.pop(name, None)
        logger.warning("the server %r of the config is left out: %s", name, why)

    async def aclose(self) -> None:
        """Close every server's client (those that failed are closed already); one that fails
        to close stops none of the others, and its error is raised once all are closed."""
        self._connected = {}
        await close_all(client.aclose() for client in self.clients.values())

    # --------------------------------------------------------------- lookup

    def __getitem__(self, name: str) -> C:
        client = self._connected.get(name)
        if client is not None:
            return client
        if name in self.failed:
            raise KeyError(f"the server {name!r} of the config is left out: {self.failed[name]}")
        known = ", ".join(self._connected) or "none started"
        raise KeyError(f"the config has no server {name!r} that started (those that did: {known})")

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._connected))

    def __len__(self) -> int:
        return len(self._connected)

    def __repr__(self) -> str:
        return f"<ServerGroup started={list(self._connected)} failed={list(self.failed)}>"


def _check_names(names: list[str]) -> None:
    """Each name fits in tool names and URIs, and no two make names that could be either's
    (`a` and `a_b` both could own `a_b_x`)."""
    for name in names:
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"server {name!r} of the config: its name goes before its tools' and prompts' "
                "names and into its resources' URIs: use 1 to 64 characters from A-Z, a-z, "
                "0-9, '_', '-' and '.'"
            )
    for name in names:
        for other in names:
            if other != name and other.startswith(name + SEPARATOR):
                raise ConfigError(
                    f"servers {name!r} and {other!r} of the config make names that cannot be "
                    f"told apart ({other + SEPARATOR}x could be either's): rename one"
                )


def clients_of(
    config: Mapping[str, Any], make: Callable[..., C], options: Mapping[str, Any]
) -> ServerGroup[C]:
    """The servers of an `mcpServers` config, each a client `make(target, **options)`: the
    options of the client of them all (`mcpkit.client.client_settings.options`), but for
    `headers` and `auth`, which are each URL server's own, and `stderr`, which goes into
    each command."""
    from mcpkit.transports.legacy_sse_client import open_legacy_sse

    rest = dict(options)
    headers, auth, stderr = rest.pop("headers"), rest.pop("auth"), rest.pop("stderr")
    if headers is not None or auth is not None:
        raise TypeError(
            "headers and auth are each server's own in an mcpServers config (a URL server's "
            '"headers"), not options of a client of many servers'
        )
    clients: dict[str, C] = {}
    for entry in config_entries(config):
        if isinstance(entry.target, str) and entry.transport == "sse":  # as the entry says
            opener = functools.partial(
                open_legacy_sse,
                entry.target,
                entry.headers or {},
                rest.get("max_message_size") or DEFAULT_MAX_MESSAGE_SIZE,
            )
            clients[entry.name] = make(opener, **rest)
        elif isinstance(entry.target, str):
            clients[entry.name] = make(entry.target, headers=entry.headers, **rest)
        else:  # the config's command, whose stderr goes where the caller said
            command = msgspec.structs.replace(entry.target, stderr=stderr)
            clients[entry.name] = make(command, **rest)
    return ServerGroup(clients, start_timeout=rest["init_timeout"])
