"""A server's Server Card (the experimental SEP-2127 extension) and the AI Catalog entry that
points to it: `CardPublisher`, the object a `Server` holds and hands `publish_card` over to,
and `card_routes`, the routes an HTTP app of the server serves them on.

What a card says comes from what the server already knows (its `serverInfo`: version,
title, description, icons, website; the revisions it speaks; whether its endpoint asks for a
bearer token; whether it serves the legacy SSE transport) and from what only its operator
knows (`publish_card`: the card's reverse-DNS name, the public URL, the repository). A card
lists no tools, resources or prompts and no capabilities (SEP-2127, "Why Exclude
Primitives?"), and no address the server listens on: only the URL given here."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final, TypedDict
from urllib.parse import urlsplit

import msgspec

from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS
from mcpkit.types.server_card import (
    CARD_MEDIA_TYPE,
    CARD_SCHEMA_URL,
    CARD_SUFFIX,
    CATALOG_MEDIA_TYPE,
    CATALOG_PATH,
    CardHeader,
    CardInput,
    Remote,
    Repository,
    ServerCard,
    card_problems,
)

if TYPE_CHECKING:
    from mcpkit.transports.deployment.custom_routes import CustomRoute
    from mcpkit.types import Icon, Implementation

__all__ = [
    "CardPublisher",
    "Listing",
    "PublishedCard",
    "bearer_header",
    "build_card",
    "card_routes",
    "catalog_entry",
    "listing",
]

#: The revisions every HTTP app of a server speaks at its Streamable HTTP endpoint, newest
#: first: the card's `supportedProtocolVersions`, so that a client can pick before it
#: connects.
ENDPOINT_REVISIONS: Final = (*MODERN_REVISIONS, *SUPPORTED_REVISIONS)
#: Forges a repository URL's host names, as `Repository.source` says them.
_FORGES: Final = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}


@dataclasses.dataclass(frozen=True, slots=True)
class PublishedCard:
    """What `publish_card` was given: the card's `name`, the public Streamable HTTP `url`,
    the `repository` URL, and whether to publish the AI Catalog (`catalog`).

    Frozen: a second `publish_card` replaces it whole, so an app built meanwhile never
    sees half of one call's settings and half of another's."""

    name: str
    url: str
    repository: str | None
    catalog: bool


class CardPublisher:
    """A server's card settings (`published`, None until `publish_card`).

    Only the settings are kept, not the card: the card also depends on the app that
    serves it (its auth, its legacy transport), so each HTTP app builds its own from
    them (`card_routes`)."""

    def __init__(self, info: Implementation) -> None:
        self._info = info
        self.published: PublishedCard | None = None

    def publish_card(
        self, name: str, url: str, *, repository: str | None = None, catalog: bool = False
    ) -> None:
        """Serve this server's Server Card (experimental: SEP-2127, draft) at
        `<endpoint>/server-card` in every HTTP app of the server (docs/discovery.md).
        `name` is the card's reverse-DNS name (`io.example/weather`: the registry's
        `mcp-name`); `url` the public URL clients connect to (`https://mcp.example.com/mcp`),
        the only address the card names; `repository` the source's URL. `catalog=True` also
        serves the domain's AI Catalog at `/.well-known/ai-catalog.json`, for an app that owns
        its host. The server's `description` (100 characters at most) is required. A value
        the card's schema refuses is refused here, naming the field."""
        _check_url(url)
        published = PublishedCard(name, url, repository, catalog)
        # The card is built and checked against its schema now, so that a bad name or a
        # missing description fails at this call, naming the field, rather than later when
        # an app builds the card's route.
        problems = card_problems(msgspec.json.decode(_encoded(build_card(self._info, published))))
        if problems:
            raise ValueError(
                "publish_card cannot make a valid Server Card: "
                + "; ".join(problems)
                + " (name: reverse-DNS with one slash, 'io.example/weather'; description, "
                "title: Server(description=..., title=...), 1 to 100 characters)"
            )
        self.published = published


def _check_url(url: str) -> None:
    """ValueError unless `url` is an absolute http(s) URL with a host and no query or
    fragment: it is the address clients are told to connect to, so a relative or local
    form would send them nowhere."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"publish_card(url={url!r}) must be the public http(s) URL of the MCP endpoint, "
            "with no query or fragment, e.g. 'https://mcp.example.com/mcp'"
        )


def build_card(
    info: Implementation,
    published: PublishedCard,
    *,
    bearer: bool = False,
    legacy_url: str | None = None,
) -> ServerCard:
    """The card of a server of `serverInfo` `info`: its Streamable HTTP remote at the
    published URL (with an `Authorization` header when the endpoint asks for a `bearer`
    token), and the legacy SSE one at `legacy_url` when the app serves it.

    The legacy remote advertises 2024-11-05 only, the last revision that defined the
    HTTP+SSE transport (basic/transports, "Backwards Compatibility")."""
    headers = [bearer_header()] if bearer else None
    remotes = [
        Remote(
            type="streamable-http",
            url=published.url,
            headers=headers,
            supported_protocol_versions=list(ENDPOINT_REVISIONS),
        )
    ]
    if legacy_url is not None:
        remotes.append(
            Remote(
                type="sse",
                url=legacy_url,
                headers=headers,
                supported_protocol_versions=["2024-11-05"],
            )
        )
    return ServerCard(
        schema=CARD_SCHEMA_URL,
        **listing(info, published.name, published.repository),
        remotes=remotes,
    )


class Listing(TypedDict):
    """What a Server Card and the registry's `server.json` both say of a server.

    A TypedDict, with the fields' names as both structs spell them, so that one value
    spreads into either as keyword arguments (`**listing(...)`)."""

    name: str
    version: str
    description: str
    title: str | None
    website_url: str | None
    repository: Repository | None
    icons: list[Icon] | None


def listing(info: Implementation, name: str, repository: str | None) -> Listing:
    """What the card and `server.json` (mcpkit.server.serving.registry_entry) both say of a
    server of `serverInfo` `info` named `name` (reverse-DNS) whose source is at `repository`:
    made here only, so that the two cannot disagree."""
    return Listing(
        name=name,
        version=info.version,
        # "" rather than None: both documents require the field; `publish_card` and
        # `build_server_json` refuse an empty one before anything is served or written.
        description=info.description or "",
        title=info.title,
        website_url=info.website_url,
        repository=_repository(repository),
        icons=list(info.icons) if info.icons else None,
    )


def bearer_header() -> CardHeader:
    """The `Authorization` header of a remote whose endpoint asks for a bearer token.

    It says only that a token is needed and where to learn how to get one (the protected
    resource metadata, basic/authorization), never a value: the card is public."""
    token = CardInput(
        description="An OAuth 2.1 access token for this server.", is_required=True, is_secret=True
    )
    return CardHeader(
        name="Authorization",
        description="A bearer token; the server's protected resource metadata names its "
        "authorization server.",
        is_required=True,
        is_secret=True,
        value="Bearer {token}",
        variables={"token": token},
    )


def _repository(url: str | None) -> Repository | None:
    """`url` as the card's repository: its `source` is the forge's short name for the
    well-known ones, else the host itself, so that any URL still yields a valid entry."""
    if url is None:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return Repository(url=url, source=_FORGES.get(host, host))


def catalog_entry(card_url: str, name: str) -> dict[str, str]:
    """The AI Catalog entry of a card named `name` at `card_url`: its identifier is
    `urn:air:{publisher}:mcp:{name}`, the publisher the name's namespace read forwards
    (`io.example/weather`: `urn:air:example.io:mcp:weather`)."""
    # The card's name is reverse-DNS (`io.example`), while the catalog identifies a
    # publisher by its domain as written (`example.io`).
    namespace, _, short = name.partition("/")
    publisher = ".".join(reversed(namespace.split(".")))
    return {
        "identifier": f"urn:air:{publisher}:mcp:{short}",
        "type": CARD_MEDIA_TYPE,
        "url": card_url,
    }


def card_routes(
    info: Implementation,
    published: PublishedCard,
    endpoint: str,
    *,
    bearer: bool,
    legacy_path: str | None,
) -> list[CustomRoute]:
    """The routes of the card (at `endpoint` + /server-card) and, when published with
    `catalog=True`, of the AI Catalog, for an app serving its MCP endpoint at `endpoint`."""
    # Imported here: only an app that publishes a card needs the route helper, and this
    # module is imported by every Server.
    import json

    from mcpkit.transports.deployment.public_document import public_document_route

    # Built once per app, when its routes are made: the card is a static document, and
    # the same bytes answer every GET.
    legacy_url = _legacy_url(published.url, endpoint, legacy_path)
    card = build_card(info, published, bearer=bearer, legacy_url=legacy_url)
    card_path = endpoint.rstrip("/") + CARD_SUFFIX
    routes = [public_document_route(card_path, _encoded(card), CARD_MEDIA_TYPE, "the Server Card")]
    # The catalog points at the card by its public URL, not the app's path: a proxy in front
    # may serve the app under another prefix, and the public URL is what clients can reach.
    if published.catalog:
        entry = catalog_entry(published.url.rstrip("/") + CARD_SUFFIX, published.name)
        body = json.dumps({"specVersion": "1.0", "entries": [entry]}).encode()
        routes.append(
            public_document_route(CATALOG_PATH, body, CATALOG_MEDIA_TYPE, "the AI Catalog")
        )
    return routes


def _legacy_url(url: str, endpoint: str, legacy_path: str | None) -> str | None:
    """The public URL of the legacy SSE stream: the public URL with the endpoint's path
    replaced by `legacy_path`; None when the app serves no legacy transport, or the public
    URL's path does not end with the endpoint's (a proxy rewrites it: unknown)."""
    if legacy_path is None:
        return None
    # Derived, not guessed: when the public URL's path is not the app's endpoint path, a
    # proxy maps paths in a way this app cannot see, and a wrong URL in a public card would
    # be worse than none.
    bare = url.rstrip("/")
    tail = endpoint.rstrip("/")
    if not bare.endswith(tail) or not tail:
        return None
    return bare[: len(bare) - len(tail)] + legacy_path


def _encoded(card: ServerCard) -> bytes:
    """The card as JSON, encoded once: the route serves these same bytes to every request."""
    return msgspec.json.encode(card)
