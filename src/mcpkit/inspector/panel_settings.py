"""The connection panel's settings (docs/inspector.md, "The connection panel"): the protocol era,
the transport, the request timeout, a command's environment variables, a URL's headers and a
state key, checked once as the page sends them and applied by the hub at every (re)connect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from mcpkit.client.target import Target

__all__ = ["ERAS", "TRANSPORTS", "ConnectionSettings", "Era", "Transport"]

#: The protocol revision to speak: "auto" finds it (server/discover, else initialize).
Era = Literal["auto", "2026-07-28", "2025-11-25"]
#: "auto": what the target implies (stdio for a command, Streamable HTTP for a URL, falling
#: back to HTTP+SSE as the spec's backwards compatibility asks); the others pin one.
Transport = Literal["auto", "stdio", "streamable-http", "sse"]
ERAS: tuple[Era, ...] = ("auto", "2026-07-28", "2025-11-25")
TRANSPORTS: tuple[Transport, ...] = ("auto", "stdio", "streamable-http", "sse")

# RFC 9110 token characters for a header name; POSIX-ish names for environment variables.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Seconds the page's timeout may be at most (a day: anything larger is a typo).
_MAX_TIMEOUT = 86_400.0


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How the hub connects: the page's panel, or the command line's options."""

    protocol: Era = "auto"
    transport: Transport = "auto"
    #: Seconds each request waits for its answer; None: as long as the person does (a call
    #: may hold an elicitation the person answers by hand).
    timeout: float | None = None
    #: Added to the inspector's environment for a server it starts (file, module, command).
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    #: Sent with every HTTP request to a URL target.
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    #: Sent as `_meta["io.mcpkit/stateKey"]` with each request that runs a handler: the
    #: caller's state on an mcpkit server with no session or token (docs/server.md, "State").
    state_key: str | None = None

    @classmethod
    def from_json(cls, data: object) -> ConnectionSettings:
        """The settings a page sent (`connect`'s `settings`); ValueError saying which is wrong."""
        if not isinstance(data, dict):
            raise ValueError("settings must be a JSON object")
        given = cast("dict[str, Any]", data)
        protocol = given.get("protocol", "auto")
        if protocol not in ERAS:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(ERAS)}")
        transport = given.get("transport", "auto")
        if transport not in TRANSPORTS:
            raise ValueError(f"transport {transport!r} is not one of {', '.join(TRANSPORTS)}")
        return cls(
            protocol=protocol,
            transport=transport,
            timeout=_timeout(given.get("timeout")),
            env=_pairs(given.get("env"), "env", _ENV_NAME),
            headers=_pairs(given.get("headers"), "headers", _HEADER_NAME),
            state_key=_state_key(given.get("stateKey")),
        )

    def check(self, target: Target) -> None:
        """ValueError if these settings cannot apply to `target`: environment variables are
        for a server the inspector starts, headers for a URL, and the transport must be one
        the target can speak."""
        if self.env and not target.spawns:
            raise ValueError(
                "environment variables are for a server the inspector starts, not a URL"
            )
        if self.headers and target.spawns:
            raise ValueError("headers are for a URL target; a server started as a process has none")
        if self.transport == "stdio" and not target.spawns:
            raise ValueError("the stdio transport is for a file, module or command, not a URL")
        if self.transport in ("streamable-http", "sse") and target.spawns:
            raise ValueError(f"the {self.transport} transport is for a URL target")

    def with_headers(self, given_first: Mapping[str, str]) -> ConnectionSettings:
        """These settings with `given_first` (the command line's `--header`) under the page's
        own: a name given both ways keeps the page's value."""
        page = {name.lower() for name in self.headers}
        kept = {name: value for name, value in given_first.items() if name.lower() not in page}
        return replace(self, headers={**kept, **self.headers})

    def public(self) -> dict[str, Any]:
        """What a page may be told: every setting, the names of headers and environment
        variables but not their values, whether a state key is set but not the key (they are
        often secrets, and the page keeps its own)."""
        return {
            "protocol": self.protocol,
            "transport": self.transport,
            "timeout": self.timeout,
            "env": sorted(self.env),
            "headers": sorted(self.headers),
            "stateKey": self.state_key is not None,
        }


def _timeout(value: object) -> float | None:
    if value is None or value == 0:
        return None  # 0, as on the command line: wait as long as the person does
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"timeout {value!r} is not a number of seconds")
    if not 0 < value <= _MAX_TIMEOUT:
        raise ValueError(f"timeout {value} is not between 0 (no timeout) and {_MAX_TIMEOUT:g} s")
    return float(value)


def _state_key(value: object) -> str | None:
    if value is None or value == "":
        return None
    from mcpkit.protocol.meta_keys import check_state_key

    wrong = check_state_key(value)
    if wrong is not None:
        raise ValueError(f"stateKey: {wrong}")
    assert isinstance(value, str)  # (check_state_key found nothing wrong)
    return value


def _pairs(value: object, what: str, names: re.Pattern[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object of names to text values")
    pairs: dict[str, str] = {}
    for name, text in cast("dict[object, object]", value).items():
        if not isinstance(name, str) or not names.fullmatch(name):
            raise ValueError(f"{what}: {name!r} is not a valid name")
        if not isinstance(text, str) or "\n" in text or "\r" in text or "\0" in text:
            raise ValueError(f"{what}: the value of {name} must be one line of text")
        pairs[name] = text
    return pairs
