"""Client ID metadata documents (SEP-991; spec: basic/authorization, "Client ID Metadata
Documents"): a client whose id is an https URL is described by the JSON document at that URL.
Fetched with httpx (`mcpkit.auth._fetch`: bounded size and time over the whole exchange,
never inflated, no redirects), validated, and cached.

Server-side request forgery ("Client ID Metadata Document Security"): only https URLs with a
path, no credentials or fragment, whose host resolves to public addresses only, unless
`allow_insecure_metadata_urls` (local tests) also allows http and loopback or private hosts.
The name is resolved once, its addresses checked, and the document fetched from the address
checked (TLS still verified for the name): a DNS answer that changes in between (rebinding)
cannot send the fetch elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth._fetch import FetchFailed, fetch_bounded
from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.devserver.redirects import is_acceptable
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import Bounded
from mcpkit.auth.metadata import ClientInformation, decode
from mcpkit.protocol.depth import deeper_than

__all__ = ["MetadataDocuments", "is_metadata_url"]

_MAX_AGE: Final = re.compile(r"max-age=([0-9]{1,9})")
_MAX_CACHE_TTL: Final = 3600
_MAX_DEPTH: Final = 32  # a real document nests 3 deep at most


def is_metadata_url(client_id: str) -> bool:
    """Whether `client_id` names a metadata document rather than a registered client."""
    return client_id.startswith(("https://", "http://"))


def _refused(url: str, why: str) -> Refused:
    return Refused("invalid_client", f"client ID metadata document {url}: {why}")


def _request(client: httpx.AsyncClient, url: str, address: str | None) -> httpx.Request:
    """The GET of `url`, sent to `address` when given: the URL's host stays in the Host
    header and is the name the server's certificate is verified for (SNI)."""
    headers = {"accept": "application/json"}
    if address is None:
        return client.build_request("GET", url, headers=headers)
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=host if parts.port is None else f"{host}:{parts.port}")
    return client.build_request(
        "GET",
        pinned.geturl(),
        headers=headers | {"host": parts.netloc},
        extensions={"sni_hostname": parts.hostname},
    )


class MetadataDocuments:
    """Fetches, checks and caches client ID metadata documents."""

    def __init__(self, settings: DevServerSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._cache: Bounded[str, tuple[ClientInformation, float]] = Bounded(
            settings.metadata_cache_size
        )
        # A refusal is kept for `metadata_failure_ttl`: a flood of /authorize naming a URL
        # that fails makes one fetch, not one each.
        self._failures: Bounded[str, tuple[Refused, float]] = Bounded(settings.metadata_cache_size)
        # The fetches under way, by URL: a second request for one joins the first, and
        # there are at most `metadata_max_fetches` at once (each holds a socket to a host
        # the client chose).
        self._fetching: dict[str, asyncio.Task[ClientInformation]] = {}

    async def get(self, url: str) -> ClientInformation:
        """The validated document for client id `url`; refused with invalid_client saying
        why, or with 503 temporarily_unavailable while `metadata_max_fetches` are under way."""
        now = self._clock()
        cached = self._cache.get(url)
        if cached is not None and cached[1] > now:
            return cached[0]
        failed = self._failures.get(url)
        if failed is not None and failed[1] > now:
            raise Refused(failed[0].error, failed[0].description)
        task = self._fetching.get(url)
        if task is None:
            if len(self._fetching) >= self._settings.metadata_max_fetches:
                raise Refused(
                    "temporarily_unavailable",
                    f"{self._settings.metadata_max_fetches} client ID metadata documents are "
                    "being fetched already (metadata_max_fetches): try again shortly",
                    status=503,
                    headers=[(b"retry-after", b"5")],
                )
            task = asyncio.create_task(self._load(url))
            self._fetching[url] = task
            task.add_done_callback(self._fetched)
        # Shielded: a request that leaves does not end the fetch others wait on.
        return await asyncio.shield(task)

    def _fetched(self, task: asyncio.Task[ClientInformation]) -> None:
        for url, running in list(self._fetching.items()):
            if running is task:
                del self._fetching[url]
        if not task.cancelled():
            task.exception()  # retrieved here: nobody may be left waiting for it

    async def _load(self, url: str) -> ClientInformation:
        try:
            address = await self._check_url(url)
            document, ttl = await self._fetch(url, address)
        except Refused as refused:
            until = self._clock() + self._settings.metadata_failure_ttl
            self._failures.put(url, (refused, until))
            raise
        self._failures.pop(url)
        if ttl > 0:
            self._cache.put(url, (document, self._clock() + ttl))
        return document

    async def _check_url(self, url: str) -> str | None:
        """The public address to fetch `url` from (None: any, `allow_insecure_metadata_urls`),
        or refused."""
        insecure = self._settings.allow_insecure_metadata_urls
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _refused(url, "not a URL") from None
        if parts.scheme != "https" and not (insecure and parts.scheme == "http"):
            raise _refused(url, "a client_id URL must use https")
        if not parts.hostname or parts.username is not None or "#" in url:
            raise _refused(url, "a client_id URL has a host, no credentials and no fragment")
        if parts.path in ("", "/") or "/./" in parts.path or "/../" in parts.path:
            raise _refused(url, "a client_id URL has a path without dot segments")
        if insecure:
            return None
        return await self._check_public(url, parts.hostname, port or 443)

    async def _check_public(self, url: str, host: str, port: int) -> str:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._settings.metadata_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError):
            raise _refused(url, "its host does not resolve") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not address.is_global:
                raise _refused(
                    url,
                    f"its host resolves to the non-public address {address} "
                    "(set allow_insecure_metadata_urls for local tests)",
                )
        if not infos:
            raise _refused(url, "its host does not resolve")
        return str(infos[0][4][0]).split("%")[0]

    async def _fetch(self, url: str, address: str | None) -> tuple[ClientInformation, int]:
        # One deadline over the whole exchange and the size counted as the bytes arrive,
        # never inflated: a 57 KB gzip document grew to 122 MB before the 5 KiB check, and
        # one dripped a byte every 2 s was held 38 s despite metadata_timeout=5.
        limit = self._settings.metadata_max_size
        try:
            async with httpx.AsyncClient() as client:
                request = _request(client, url, address)
                response = await fetch_bounded(
                    client, request, limit=limit, timeout=self._settings.metadata_timeout
                )
        except FetchFailed as exc:
            reason = f"it is refused: {exc}" if exc.refused else f"fetching it failed ({exc})"
            raise _refused(url, reason) from None
        if response.status_code != 200:
            raise _refused(url, f"fetching it answered HTTP {response.status_code}")
        ttl = self._ttl(response.headers.get("cache-control", ""))
        return self._validate(url, response.content), ttl

    def _ttl(self, cache_control: str) -> int:
        """How long to keep a document: its Cache-Control max-age (bounded), none for
        no-store, else the setting."""
        lowered = cache_control.lower()
        if "no-store" in lowered or "no-cache" in lowered:
            return 0
        found = _MAX_AGE.search(lowered)
        if found is None:
            return self._settings.metadata_cache_ttl
        return min(int(found.group(1)), _MAX_CACHE_TTL)

    @staticmethod
    def _validate(url: str, body: bytes) -> ClientInformation:
        if deeper_than(body, _MAX_DEPTH):  # msgspec recurses: refuse before it can overflow
            raise _refused(url, f"its JSON nests deeper than {_MAX_DEPTH}")
        try:
            document = decode(body, ClientInformation)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _refused(url, f"it is not a valid client metadata document ({exc})") from None
        if document.client_id != url:
            raise _refused(url, "its client_id is not exactly the URL it was fetched from")
        if not document.redirect_uris or not document.client_name:
            raise _refused(url, "it must name client_name and redirect_uris")
        for uri in document.redirect_uris:
            if not is_acceptable(uri):  # /authorize would redirect there: evil.example
                raise _refused(
                    url,
                    f"its redirect URI {uri!r} must be https, http on a loopback host, or a "
                    "private-use scheme such as com.example.app:/cb",
                )
        if document.client_secret is not None or document.token_endpoint_auth_method not in (
            None,
            "none",
        ):
            # The draft forbids shared secrets in a public document; private_key_jwt comes later.
            raise _refused(url, 'token_endpoint_auth_method must be "none" here')
        return document
