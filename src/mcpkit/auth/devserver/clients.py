"""The clients the development authorization server knows: pre-registered ones, dynamically
registered ones (RFC 7591, bounded) and client ID metadata documents; and client
authentication at the token, revocation and introspection endpoints (RFC 6749 section 2.3:
none, client_secret_basic, client_secret_post; RFC 7523: private_key_jwt)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable
from typing import Any, Final

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from joserfc.errors import JoseError
    from joserfc.jws import extract_compact

from mcpkit._asgi import Scope
from mcpkit.auth.devserver._http import Form, Refused, basic_credentials
from mcpkit.auth.devserver.assertions import ASSERTION_TYPE, PRIVATE_KEY_JWT, ClientAssertions
from mcpkit.auth.devserver.cimd import MetadataDocuments, is_metadata_url
from mcpkit.auth.devserver.redirects import is_acceptable
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import SourceBounded
from mcpkit.auth.metadata import ClientInformation, ClientMetadata, decode
from mcpkit.protocol.depth import deeper_than

__all__ = ["AUTH_METHODS", "GRANT_TYPES", "MAX_DEPTH", "Clients", "is_confidential", "single"]

#: Token endpoint client authentication methods served (RFC 7591 section 2).
AUTH_METHODS: Final = ("none", "client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT)
#: Grants served at the token endpoint.
GRANT_TYPES: Final = ("authorization_code", "refresh_token", "client_credentials")
#: The deepest JSON nesting read in client metadata (a real document nests 3 deep at most).
MAX_DEPTH: Final = 32
_NO_SECRET: Final = ("none", PRIVATE_KEY_JWT)
_BASIC_CHALLENGE: Final = ((b"www-authenticate", b'Basic realm="mcpkit-dev"'),)


def single(form: Form, name: str) -> str | None:
    """The one value of `name`; RFC 6749 section 3.1: a parameter sent twice is refused."""
    values = form.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise Refused("invalid_request", f"parameter {name} is given more than once")
    return values[0]


def is_confidential(client: ClientInformation) -> bool:
    """Whether `client` can authenticate: it has a secret or signs JWTs with its key."""
    return client.client_secret is not None or client.token_endpoint_auth_method == PRIVATE_KEY_JWT


def _invalid_client(description: str, basic: bool) -> Refused:
    return Refused(
        "invalid_client", description, status=401, headers=_BASIC_CHALLENGE if basic else ()
    )


class Clients:
    """Looks clients up, registers them and authenticates them."""

    def __init__(
        self,
        settings: DevServerSettings,
        clock: Callable[[], float],
        preregistered: Iterable[ClientInformation] = (),
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._fixed = {client.client_id: client for client in preregistered}
        self._registered: SourceBounded[str, ClientInformation] = SourceBounded(
            settings.max_clients, settings.max_clients_per_source
        )
        self.documents = MetadataDocuments(settings, clock)
        self._assertions = ClientAssertions(clock)

    async def find(self, client_id: str) -> ClientInformation | None:
        """The client `client_id`: pre-registered, registered, or fetched from its metadata
        document URL (refused when that fails); None when unknown."""
        found = self._fixed.get(client_id) or self._registered.get(client_id)
        if found is None and is_metadata_url(client_id):
            found = await self.documents.get(client_id)
        return found

    async def authenticate(
        self, scope: Scope, form: Form, audiences: Collection[str] = ()
    ) -> ClientInformation:
        """The client making a token-endpoint-style request, authenticated; 401 invalid_client
        (with a Basic challenge when Basic was tried) otherwise. A client assertion's `aud`
        must be one of `audiences` (the issuer, the endpoint's URL)."""
        assertion = single(form, "client_assertion")
        if assertion is not None or single(form, "client_assertion_type") is not None:
            return await self._by_assertion(scope, form, assertion, audiences)
        basic = basic_credentials(scope)
        form_id, form_secret = single(form, "client_id"), single(form, "client_secret")
        if basic is not None and form_secret is not None:
            raise Refused("invalid_request", "use one client authentication method, not two")
        client_id, secret = basic if basic is not None else (form_id, form_secret)
        if basic is not None and form_id is not None and form_id != client_id:
            raise _invalid_client("client_id differs from the Basic credentials", True)
        if not client_id:
            raise _invalid_client("no client_id: authenticate the client", False)
        client = await self.find(client_id)
        if client is None:
            raise _invalid_client(
                f"unknown client {client_id!r}: register it first", basic is not None
            )
        if client.token_endpoint_auth_method == PRIVATE_KEY_JWT:
            raise _invalid_client("this client authenticates with private_key_jwt", False)
        if client.client_secret is None:
            if secret:
                raise _invalid_client("this client is public: send no secret", basic is not None)
            return client
        if secret is None or not secrets.compare_digest(
            secret.encode("utf-8"), client.client_secret.encode("utf-8")
        ):
            raise _invalid_client("wrong or missing client secret", basic is not None)
        return client

    async def _by_assertion(
        self, scope: Scope, form: Form, assertion: str | None, audiences: Collection[str]
    ) -> ClientInformation:
        """RFC 7523 section 2.2: the client named by `client_id` (or the assertion's `iss`),
        registered for private_key_jwt, proves who it is with `assertion`."""
        if basic_credentials(scope) is not None or single(form, "client_secret") is not None:
            raise Refused("invalid_request", "use one client authentication method, not two")
        if single(form, "client_assertion_type") != ASSERTION_TYPE or not assertion:
            raise _invalid_client(
                f"a client assertion needs client_assertion_type {ASSERTION_TYPE}", False
            )
        client_id = single(form, "client_id") or _unverified_issuer(assertion)
        client = await self.find(client_id) if client_id else None
        if client is None or client.token_endpoint_auth_method != PRIVATE_KEY_JWT:
            raise _invalid_client(
                f"client {client_id!r} is not registered for private_key_jwt", False
            )
        self._assertions.verify(client, assertion, audiences)
        return client

    def configured(self, client_id: str) -> bool:
        """Whether `client_id` was given in the settings (a resource server, say), not
        registered by whoever asked."""
        return client_id in self._fixed

    def register(self, body: bytes, source: str) -> ClientInformation:
        """RFC 7591 section 3: a new client from its metadata, with a secret unless it asked for
        `token_endpoint_auth_method: none`."""
        client = self.new_client(body)
        self._registered.put(client.client_id, client, source)
        return client

    def new_client(self, body: bytes, prefix: str = "dev-") -> ClientInformation:
        """The client a registration request describes, checked and given its credentials
        (a `client_id` starting with `prefix`), not yet remembered."""
        if deeper_than(body, MAX_DEPTH):  # msgspec recurses: refuse before it can overflow
            raise Refused("invalid_client_metadata", f"the JSON nests deeper than {MAX_DEPTH}")
        try:
            metadata = decode(body, ClientMetadata)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise Refused("invalid_client_metadata", f"not valid client metadata: {exc}") from None
        method = metadata.token_endpoint_auth_method or "client_secret_basic"  # RFC 7591 default
        if method not in AUTH_METHODS:
            raise Refused(
                "invalid_client_metadata",
                f"token_endpoint_auth_method {method!r} is not one of {', '.join(AUTH_METHODS)}",
            )
        if method == PRIVATE_KEY_JWT and not isinstance((metadata.jwks or {}).get("keys"), list):
            raise Refused(
                "invalid_client_metadata",
                'private_key_jwt needs the public keys inline as jwks: {"keys": [...]} '
                "(jwks_uri is not fetched by the development server)",
            )
        grants = metadata.grant_types or ["authorization_code", "refresh_token"]
        _check_grants(grants, method, metadata.redirect_uris)
        for uri in metadata.redirect_uris or ():
            if not is_acceptable(uri):
                raise Refused(
                    "invalid_redirect_uri",
                    f"redirect URI {uri!r} must be https, http on a loopback host, or a "
                    "private-use scheme, without a fragment",
                )
        now = int(self._clock())
        fields = msgspec.structs.asdict(metadata) | {
            "token_endpoint_auth_method": method,
            "grant_types": list(grants),
            "client_id": prefix + secrets.token_urlsafe(16),
            "client_secret": None if method in _NO_SECRET else secrets.token_urlsafe(32),
            "client_id_issued_at": now,
            "client_secret_expires_at": None if method in _NO_SECRET else 0,
        }
        return msgspec.convert(fields, ClientInformation)


def _check_grants(grants: list[str], method: str, redirect_uris: list[str] | None) -> None:
    unknown = [grant for grant in grants if grant not in GRANT_TYPES]
    if unknown:
        raise Refused("invalid_client_metadata", f"grant types not served: {', '.join(unknown)}")
    if "authorization_code" in grants and not redirect_uris:
        raise Refused("invalid_redirect_uri", "the authorization_code grant needs redirect_uris")
    if "client_credentials" in grants and method == "none":
        raise Refused(
            "invalid_client_metadata",
            "client_credentials needs a confidential client: pick client_secret_basic, "
            "client_secret_post or private_key_jwt",
        )


def _unverified_issuer(assertion: str) -> str | None:
    # Only to find whose keys to verify with; the signature is checked right after.
    try:
        payload = extract_compact(assertion.encode()).payload
        claims = msgspec.json.decode(payload, type=dict[str, Any])
    except (JoseError, ValueError, msgspec.DecodeError):
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None
