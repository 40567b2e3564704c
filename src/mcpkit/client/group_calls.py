"""`GroupCalls`: the era of a `ServerClient` made from an `mcpServers` config, which speaks to the
servers of its `ServerGroup` as one (docs/client.md, "Many servers from one config").

Names are those a server mounted under its name shows (`Server.mount`, and so
`mcpkit.proxy.from_config`): a tool or prompt `NAME` of server `github` is `github_NAME`; a URI
`scheme://rest` is `scheme://github/rest` (`scheme:rest` is `scheme:github/rest`), an http(s)
one is kept as it is. A list gathers every server's, all pages; a call goes to the server its
name or URI names, as that server knows it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Generic, cast

import msgspec

from mcpkit.client.group import SEPARATOR, C, ServerClient, ServerGroup
from mcpkit.errors import LocalProtocolError, McpError, TransportError
from mcpkit.protocol import codes
from mcpkit.types import (
    Implementation,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    ServerCapabilitiesPrompts,
    ServerCapabilitiesResources,
    ServerCapabilitiesTools,
)

if TYPE_CHECKING:
    from mcpkit.client.request_path import LogLevel, ProgressHandler
    from mcpkit.protocol.events import NotificationReceived
    from mcpkit.runtime.connection import Connection

__all__ = ["GroupCalls"]

logger = logging.getLogger("mcpkit.client")

# Kept as they are, as a mount keeps them (server/resources, "Common URI Schemes").
_WEB_SCHEMES: Final = frozenset({"http", "https"})
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
#: list method -> (the client call that gathers every page, the capability, the result type).
_LISTS: Final[dict[str, tuple[str, str, type[Any]]]] = {
    "tools/list": ("list_tools", "tools", ListToolsResult),
    "prompts/list": ("list_prompts", "prompts", ListPromptsResult),
    "resources/list": ("list_resources", "resources", ListResourcesResult),
    "resources/templates/list": (
        "list_resource_templates",
        "resources",
        ListResourceTemplatesResult,
    ),
}


def _one_server(what: str) -> str:
    return (
        f"{what} goes to one server of the config: use its own client, "
        "client.servers['NAME'] (a ServerGroup)"
    )


class GroupCalls(Generic[C]):
    """The `Era` of a client of many servers: each request merged from, or routed to, the
    servers of `group` that started."""

    ping: tuple[str, Any] = ("ping", None)
    client_tasks = False
    discovered = None
    modern = None

    def __init__(self, group: ServerGroup[C]) -> None:
        self.group = group
        # http(s) URIs are not renamed: the servers that listed each (in the config's order);
        # two of them make its reads nobody's, never the last lister's.
        self._web_uris: dict[str, dict[str, None]] = {}

    # --------------------------------------------------------------- facts

    @property
    def connection(self) -> Connection:
        raise LocalProtocolError(_one_server("a connection"))

    @property
    def protocol_version(self) -> str:
        """The revisions the servers speak, comma-separated when they differ."""
        return ", ".join(sorted({client.protocol_version for client in self.group.values()}))

    @property
    def server_info(self) -> Implementation:
        return Implementation(name="servers: " + ", ".join(self.group), version="")

    @property
    def server_capabilities(self) -> ServerCapabilities:
        """What any of the servers offers."""
        caps = [client.server_capabilities for client in self.group.values()]
        resources = [c.resources for c in caps if c.resources is not None]
        return ServerCapabilities(
            tools=ServerCapabilitiesTools() if any(c.tools for c in caps) else None,
            prompts=ServerCapabilitiesPrompts() if any(c.prompts for c in caps) else None,
            resources=ServerCapabilitiesResources(
                subscribe=any(r.subscribe for r in resources) or None
            )
            if resources
            else None,
            logging={} if any(c.logging is not None for c in caps) else None,
            completions={} if any(c.completions is not None for c in caps) else None,
        )

    @property
    def instructions(self) -> str | None:
        said = [
            f"{name}: {client.instructions}"
            for name, client in self.group.items()
            if client.instructions
        ]
        return "\n\n".join(said) or None

    # ------------------------------------------------------------ requests

    async def send(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Any:
        # The path's bound is final here: None means none, which a member writes math.inf.
        bound = math.inf if timeout is None else timeout
        given = _as_dict(params)
        if method in _LISTS:
            result = await self._merged(method, bound)
        elif method == "ping":
            await self._each(lambda client: client.ping(timeout=bound))
            return None
        elif method in ("tools/call", "prompts/get"):
            client, given["name"] = self._by_name(given.get("name"), method)
            return await client.request(
                method, given, timeout=bound, progress=progress, result_type=result_type
            )
        elif method == "resources/read":
            server, client, given["uri"] = self._by_uri(given.get("uri"))
            result = await client.request(method, given, timeout=bound, progress=progress)
            result = _read_renamed(server, result)
        elif method == "completion/complete":
            client, given["ref"] = self._by_ref(given.get("ref"))
            return await client.request(method, given, timeout=bound, result_type=result_type)
        else:
            raise McpError(codes.METHOD_NOT_FOUND, _one_server(method))
        if result_type is None:
            return result
        return msgspec.convert(msgspec.to_builtins(result), result_type)

    async def _merged(self, method: str, bound: float) -> Any:
        """Every server's list (each one's every page), renamed, in the config's order; a
        server lost meanwhile is left out."""
        call, capability, result_type = _LISTS[method]
        owners = [
            (name, client)
            for name, client in self.group.items()
            if getattr(client.server_capabilities, capability) is not None
        ]
        timeout = None if bound == math.inf else bound

        async def listed(name: str, client: ServerClient) -> list[Any]:
            try:
                async with asyncio.timeout(timeout):
                    found: list[Any] = await getattr(client, call)()
            except TransportError as exc:  # gone: left out from now on
                self.group.lose(name, str(exc) or type(exc).__name__)
                return []
            except McpError as exc:  # its error answer leaves it out of this list only
                logger.warning("the server %r of the config could not list: %s", name, exc)
                return []
            except TimeoutError:  # the others' lists are not held up by it
                logger.warning("the server %r of the config did not list in %g s", name, bound)
                return []
            return found

        lists = await asyncio.gather(*(listed(name, client) for name, client in owners))
        items: list[Any] = []
        for (name, _), found in zip(owners, lists, strict=True):
            items.extend(self._renamed(name, item) for item in found)
        field = {"tools/list": "tools", "prompts/list": "prompts"}.get(method)
        if field is None:
            field = "resources" if method == "resources/list" else "resource_templates"
        return result_type(**{field: [item for item in items if item is not None]})

    def _renamed(self, server: str, item: Any) -> Any:
        """`item` (a Tool, Prompt, Resource or ResourceTemplate) as the group shows it; None
        for a resource whose URI has no scheme to keep (it could not be read back)."""
        if isinstance(item, ResourceTemplate):
            uri = prefixed_uri(server, item.uri_template)
            return None if uri is None else msgspec.structs.replace(item, uri_template=uri)
        if isinstance(item, Resource):
            uri = prefixed_uri(server, item.uri)
            if uri is not None and uri == item.uri:
                self._web_uris.setdefault(uri, {})[server] = None
            return None if uri is None else msgspec.structs.replace(item, uri=uri)
        return msgspec.structs.replace(item, name=f"{server}{SEPARATOR}{item.name}")

    async def _each(self, call: Callable[[ServerClient], Awaitable[None]]) -> None:
        """`call` on every server at once; the first error raised once all are done (none
        left running behind it)."""
        done = await asyncio.gather(
            *(call(client) for client in self.group.values()), return_exceptions=True
        )
        errors = [found for found in done if isinstance(found, BaseException)]
        if errors:
            raise errors[0]

    # -------------------------------------------------------------- routing

    def _by_name(self, name: object, method: str) -> tuple[ServerClient, str]:
        what = "tool" if method == "tools/call" else "prompt"
        if isinstance(name, str):
            for server in self.group.clients:
                if name.startswith(server + SEPARATOR):
                    return self._client(server), name[len(server) + len(SEPARATOR) :]
        raise McpError(
            codes.INVALID_PARAMS,
            f"no server of the config has the {what} {name!r}: names start with the server's "
            f"and {SEPARATOR!r} (servers: {', '.join(self.group.clients)})",
        )

    def _by_uri(self, uri: object) -> tuple[str, ServerClient, str]:
        if isinstance(uri, str):
            listers = list(self._web_uris.get(uri, ()))
            if len(listers) > 1:
                raise McpError(codes.INVALID_PARAMS, _listed_by_many(uri, listers))
            if listers:
                return listers[0], self._client(listers[0]), uri
            for server in self.group.clients:
                original = original_uri(server, uri)
                if original is not None:
                    return server, self._client(server), original
        raise McpError(
            codes.RESOURCE_NOT_FOUND,
            f"no server of the config has the resource {uri!r}: a URI names its server "
            "first, as in scheme://SERVER/path",
        )

    def _by_ref(self, ref: object) -> tuple[ServerClient, dict[str, Any]]:
        given = _as_dict(ref)
        if given.get("type") == "ref/prompt":
            client, given["name"] = self._by_name(given.get("name"), "prompts/get")
            return client, given
        _, client, given["uri"] = self._by_uri(given.get("uri"))
        return client, given

    def _client(self, server: str) -> ServerClient:
        try:
            return self.group[server]
        except KeyError as exc:
            raise McpError(codes.INVALID_PARAMS, str(exc.args[0])) from None

    # ------------------------------------------------ what eras do each their way

    def refuse_session_tasks(self, what: str) -> None:
        raise LocalProtocolError(_one_server(what))

    def modern_params(self, params: Any) -> dict[str, Any]:
        raise McpError(codes.INVALID_REQUEST, _one_server("modern_params"))

    async def subscribe(self, uri: str) -> None:
        _, client, original = self._by_uri(uri)
        await client.subscribe(original)

    async def unsubscribe(self, uri: str) -> None:
        _, client, original = self._by_uri(uri)
        await client.unsubscribe(original)

    async def set_logging_level(self, level: LogLevel) -> None:
        await self._each(
            lambda client: (
                client.set_logging_level(level)
                if client.server_capabilities.logging is not None
                else _nothing()
            )
        )

    async def roots_changed(self) -> None:
        await self._each(lambda client: client.send_roots_list_changed())

    async def listen(self, hear_list_changes: bool) -> None:
        pass  # each server's client listens for itself

    def heard(self, ev: NotificationReceived) -> bool:
        return True

    async def aclose(self) -> None:
        pass  # the group's clients are closed with the group


async def _nothing() -> None:
    pass


def _listed_by_many(uri: str, servers: list[str]) -> str:
    """Why a URI kept as it is (http, https) that several servers list goes to none of them:
    any of them may answer for it, and a read must not go to whichever listed it last."""
    named = ", ".join(repr(server) for server in servers[:-1]) + f" and {servers[-1]!r}"
    return (
        f"the servers {named} of the config {'both' if len(servers) == 2 else 'all'} list "
        f"the resource {uri!r}, so which one's "
        "it is cannot be told: read it through that server's own client, "
        "client.servers['NAME']"
    )


def _as_dict(params: Any) -> dict[str, Any]:
    """Request params (or a ref) as a dict of their wire names, a copy to change."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(cast("dict[str, Any]", params))
    found: object = msgspec.to_builtins(params)
    if isinstance(found, dict):
        return dict(cast("dict[str, Any]", found))
    raise McpError(codes.INVALID_PARAMS, f"params must be an object, not {params!r}")


def _read_renamed(server: str, result: ReadResourceResult) -> ReadResourceResult:
    """The contents' URIs as the group shows them."""
    contents = [
        msgspec.structs.replace(item, uri=prefixed_uri(server, item.uri) or item.uri)
        for item in result.contents
    ]
    return msgspec.structs.replace(result, contents=contents)


def prefixed_uri(server: str, uri: str) -> str | None:
    """`uri` (or a URI template) of `server` as the group shows it; None if it has no scheme
    to keep (a template that starts with a variable)."""
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return None
    if scheme.lower() in _WEB_SCHEMES:
        return uri
    if rest.startswith("//"):
        return f"{scheme}://{server}/{rest[2:]}"
    return f"{scheme}:{server}/{rest}"


def original_uri(server: str, uri: str) -> str | None:
    """The URI of `server` the group shows as `uri`; None if it is not one of its."""
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or scheme.lower() in _WEB_SCHEMES:
        return None
    for lead, back in ((f"//{server}/", "//"), (f"{server}/", "")):
        if rest.startswith(lead):
            return f"{scheme}:{back}{rest[len(lead) :]}"
    return None
