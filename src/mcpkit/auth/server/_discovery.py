"""The keys of a `JwtVerifier.from_issuer`: the issuer's metadata found on first use (OpenID
Connect discovery, then RFC 8414; `read_metadata`, which the provider recipes' discovery
shares), its `issuer` held to the configured one exactly, then the JWKS it names, fetched
and rotated by `RemoteKeys`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
    from joserfc.jwk import Key

from mcpkit.auth._fetch import FetchFailed, HttpClientSlot, check_endpoint, send_bounded
from mcpkit.auth.client._urls import well_known
from mcpkit.auth.metadata import AuthorizationServerMetadata
from mcpkit.auth.server._attempts import Attempts
from mcpkit.auth.server._jwks import RemoteKeys, Usable
from mcpkit.errors import VerifierUnavailable

__all__ = ["DiscoveredKeys", "metadata_urls", "read_metadata"]

_Metadata = TypeVar("_Metadata", bound=AuthorizationServerMetadata)


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata is looked for, in order: OpenID Connect discovery (the path
    appended, OIDC Discovery section 4), then RFC 8414 (the path inserted after
    `/.well-known/`, RFC 8414 section 3.1); one URL when the two coincide."""
    urls = [f"{issuer.rstrip('/')}/.well-known/openid-configuration"]
    rfc8414 = well_known(issuer, "oauth-authorization-server")
    return urls if rfc8414 in urls else [*urls, rfc8414]


async def read_metadata(
    client: httpx.AsyncClient,
    issuer: str,
    *,
    max_bytes: int,
    timeout: float,
    kind: type[_Metadata],
) -> _Metadata:
    """`issuer`'s metadata, as `kind` (for fields beyond RFC 8414's), from the first of
    `metadata_urls` that has it, each fetch bounded by `max_bytes` and `timeout`, its
    `issuer` held to `issuer` exactly; FetchFailed otherwise (`refused` when a document was
    read but is not acceptable). The provider recipes' discovery reads it too."""
    for url in metadata_urls(issuer):
        request = client.build_request("GET", url, headers={"accept": "application/json"})
        status, body = await send_bounded(client, request, limit=max_bytes, timeout=timeout)
        if status in (404, 410):
            continue  # not published there: try the next location
        if status != 200:
            raise FetchFailed(f"{url} answered HTTP {status}")
        return _checked(url, body, issuer, kind)
    raise FetchFailed(f"no metadata at {' or '.join(metadata_urls(issuer))}")


def _checked(url: str, body: bytes, issuer: str, kind: type[_Metadata]) -> _Metadata:
    try:
        found = msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise FetchFailed(f"{url} is not authorization server metadata: {exc}") from None
    if found.issuer != issuer:
        # RFC 8414 section 3.3, OIDC Discovery section 4.3: a document naming another
        # issuer could make us trust keys of a server the tokens do not come from.
        raise FetchFailed(
            f"{url} describes issuer {found.issuer!r}, not {issuer!r}: refused; "
            "configure the issuer exactly as the provider states it",
            refused=True,
        )
    return found


class DiscoveredKeys:
    """A `KeySource` that discovers `issuer`'s `jwks_uri` on first use and then hands over to
    the `RemoteKeys` `make_keys` builds for it. Discovery runs once at a time; while it fails
    (unreachable, a refused document, an `issuer` that is not ours) tokens get
    `VerifierUnavailable` (503), and it is tried again after 1 s, 2, 4... up to `max_retry`.
    Metadata found is kept for the verifier's life; the JWKS follows its own cache."""

    def __init__(
        self,
        issuer: str,
        *,
        http: HttpClientSlot,
        clock: Callable[[], float],
        make_keys: Callable[[str], RemoteKeys],
        max_retry: float,
        max_bytes: int,
        timeout: float,
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._clock = clock
        self._make_keys = make_keys
        self._max_retry = max_retry
        self._max_bytes = max_bytes
        self._timeout = timeout
        self.keys: RemoteKeys | None = None
        self._attempts = Attempts(
            clock=clock,
            interval=max_retry,
            what=f"could not discover the keys of issuer {issuer}",
            level=logging.ERROR,
        )

    async def keys_for(self, kid: str | None, usable: Usable) -> list[Key]:
        keys = self.keys or await self._discovered()
        return await keys.keys_for(kid, usable)

    async def _discovered(self) -> RemoteKeys:
        await self._attempts.run(lambda: self._discover(self._http.get()))
        if self.keys is None:
            raise VerifierUnavailable(
                f"the issuer {self.issuer}'s metadata could not be read: {self._attempts.failure}"
            )
        return self.keys

    async def _discover(self, client: httpx.AsyncClient) -> None:
        self.keys = self._make_keys(await self._jwks_uri(client))

    async def _jwks_uri(self, client: httpx.AsyncClient) -> str:
        found = await read_metadata(
            client,
            self.issuer,
            max_bytes=self._max_bytes,
            timeout=self._timeout,
            kind=AuthorizationServerMetadata,
        )
        if found.jwks_uri is None:
            raise FetchFailed(f"the metadata of {self.issuer} names no jwks_uri", refused=True)
        try:
            check_endpoint(found.jwks_uri, "the discovered jwks_uri")
        except ValueError as exc:
            raise FetchFailed(str(exc), refused=True) from None
        return found.jwks_uri

    async def aclose(self) -> None:
        await self._attempts.aclose()
        if self.keys is not None:
            await self.keys.aclose()
        await self._http.aclose()
