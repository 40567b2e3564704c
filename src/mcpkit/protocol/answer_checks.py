"""The server's answers to `initialize` and `server/discover`, and what may become of them
between the moment they are made and the moment they are sent (a server's middleware may
change them): the revision stays the negotiated one, the server's identity its own, and no
capability the server does not declare may be advertised; instructions are free."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.extensions import Extension
from mcpkit.types import (
    Implementation,
    InitializeRequestParams,
    InitializeResult,
    ServerCapabilities,
)

__all__ = [
    "check_discover_answer",
    "check_initialize_answer",
    "discover_answer",
    "initialize_answer",
    "negotiated",
    "unserved",
]


def negotiated(requested: str, supported: Sequence[str]) -> str:
    """basic/lifecycle, Version Negotiation: the requested revision if we speak it, else our
    latest (the client then decides whether it can go on).

    `supported` is newest first (as SUPPORTED_REVISIONS is), so its head is the latest,
    which the spec says to offer. Never an error here: a client asking for a revision we
    lack must still get an answer naming one we speak, so it can decide for itself.
    """
    return requested if requested in supported else supported[0]


def initialize_answer(
    params: InitializeRequestParams,
    supported: Sequence[str],
    capabilities: ServerCapabilities,
    server_info: Implementation,
    instructions: str | None,
) -> InitializeResult:
    """What `initialize` is answered with: the revision negotiated, what the server declares.

    The answer middleware sees; `check_initialize_answer` later holds its result to the
    same revision, server info and capabilities.
    """
    return InitializeResult(
        protocol_version=negotiated(params.protocol_version, supported),
        capabilities=capabilities,
        server_info=server_info,
        instructions=instructions,
    )


def discover_answer(
    revisions: Sequence[str],
    capabilities: ServerCapabilities,
    extensions: Sequence[Extension],
    instructions: str | None,
) -> dict[str, Any]:
    """server/discover's answer: the `revisions` we speak, the capabilities and extensions we
    declare, and our instructions (the server's info goes in the result's `_meta`, as on
    every 2026 result)."""
    # As JSON values, not the typed struct: the answer is a plain dict (server/discover has
    # no generated result type here), and `check_discover_answer` compares it as such.
    declared = msgspec.to_builtins(capabilities)
    declared.pop("tasks", None)  # (2025-11-25's tasks; 2026's are an extension)
    if extensions:
        # Each served extension is declared by its id, with no settings of its own; ids the
        # capabilities already name keep their settings unless an extension names them too.
        served: dict[str, Any] = {ext.id: {} for ext in extensions}
        declared["extensions"] = {**(declared.get("extensions") or {}), **served}
    result: dict[str, Any] = {"supportedVersions": list(revisions), "capabilities": declared}
    if instructions is not None:
        result["instructions"] = instructions
    return result


def check_initialize_answer(
    result: object, version: str, info: Implementation, declared: ServerCapabilities
) -> None:
    """McpError (-32603, so the client learns the handshake failed and the server's log
    says why) when `result` may not answer an `initialize` negotiated at `version`.

    What middleware may change and what it may not: the revision was negotiated by the
    protocol and both sides act on it, the server info is the server's identity, and a
    capability it does not declare would make the client send requests nobody serves.
    Saying less (dropping a capability) and rewording instructions are allowed.
    """
    if not isinstance(result, InitializeResult):  # (a hook's answer: any object at run time)
        _refuse(f"the answer must be an InitializeResult, not {type(result).__name__}")
    if result.protocol_version != version:
        _refuse(
            f"the negotiated protocol version is {version!r}, not {result.protocol_version!r}: "
            "it is the protocol's to choose"
        )
    if result.server_info != info:
        _refuse("serverInfo is the server's own and may not change")
    path = unserved(msgspec.to_builtins(result.capabilities), msgspec.to_builtins(declared))
    if path is not None:
        _refuse(f"it advertises capability {path!r}, which the server does not declare")


def check_discover_answer(answer: object, made: dict[str, Any]) -> None:
    """As `check_initialize_answer`, for `server/discover`'s answer, `made` the one the
    protocol made."""
    # `made` is protocol-built, so its keys are known; the answer is whatever a hook returned.
    if not isinstance(answer, dict):
        _refuse(f"the server/discover answer must be a dict, not {type(answer).__name__}")
    result = cast("dict[str, Any]", answer)
    if result.get("supportedVersions") != made["supportedVersions"]:
        _refuse("supportedVersions are the protocol's to say")
    path = unserved(result.get("capabilities"), made["capabilities"])
    if path is not None:
        _refuse(f"it advertises capability {path!r}, which the server does not declare")


def unserved(advertised: object, declared: object, path: str = "") -> str | None:
    """The first capability (a dotted path) `advertised` claims beyond `declared`, both as
    JSON values; None when it claims nothing more (it may claim less)."""
    # Recursive because capabilities nest (`resources.subscribe`, `extensions.<id>.<key>`):
    # a claim is checked at every level, so a sub-feature cannot be slipped in below a
    # declared parent.
    if isinstance(advertised, dict):
        if not isinstance(declared, dict):
            return path or "capabilities"
        claims = cast("dict[str, object]", advertised)
        has = cast("dict[str, object]", declared)
        for key, value in claims.items():
            inner = f"{path}.{key}" if path else key
            if key not in has:
                return inner
            found = unserved(value, has[key], inner)
            if found is not None:
                return found
        return None
    # A leaf (`listChanged: true`...): false, or no more than what is declared.
    return None if not advertised or advertised == declared else path


def _refuse(why: str) -> NoReturn:
    """Raise the handshake's refusal: an internal error, since the fault is the server's own
    middleware, not the client's request; the message names the rule it broke."""
    raise McpError(codes.INTERNAL_ERROR, f"Middleware changed the handshake's answer: {why}")
