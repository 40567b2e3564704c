"""Liveness and readiness routes of the HTTP app, for load balancers and orchestrators.

`GET /healthz` answers 200 while the process serves at all. `GET /readyz` answers 200 while
it takes new work, and 503 with `Retry-After` once a shutdown has begun (`draining`): a
balancer that checks it stops sending requests to a process that is finishing its calls,
while those calls go on. It also answers 503 while the server's store does not answer (a
Redis that is down or hung: `Stores.check`, bounded by the store's `timeout`), since every
request needing it would fail meanwhile; 200 again once it does. Both skip the Host and
Origin checks and authorization, as a probe sends the address it reached (a pod IP, the
upstream's name) and carries no token; they say nothing but that status. `HEAD` gets the
same status without a body.

A request that needs the store while it does not answer gets the same news as its own answer,
before any response has started: 503 with Retry-After (`store_down`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Final

from mcpkit._asgi import Scope, Send, send_whole
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.stores.deadline import StoreUnavailable, outage_message, store_kind
from mcpkit.stores.url import Stores
from mcpkit.transports.http.checks import Refusal, refuse

__all__ = ["HealthRoutes", "store_down"]

_JSON: Final = ((b"content-type", b"application/json"), (b"cache-control", b"no-store"))
_OK: Final = b'{"status":"ok"}'
_READY: Final = b'{"status":"ready"}'
_DRAINING: Final = b'{"status":"draining"}'
# Not the store's URL, nor why: the routes answer anyone, without a token.
_STORE_DOWN: Final = b'{"status":"store unavailable"}'
#: Seconds a balancer should wait before asking a draining process again.
_RETRY_AFTER: Final = b"5"


class HealthRoutes:
    """The app's `live` and `ready` paths (None: not served), whether it is `draining`, and
    `store_check`, which raises `StoreUnavailable` while the store does not answer (None:
    nothing to check)."""

    __slots__ = ("draining", "live", "ready", "store_check")

    def __init__(
        self,
        live: str | None,
        ready: str | None,
        store_check: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        for name, path in (("health_path", live), ("ready_path", ready)):
            if path is not None and not path.startswith("/"):
                raise ValueError(f"{name} must start with '/', not {path!r}")
        self.live = live
        self.ready = ready
        self.draining = False
        self.store_check = store_check

    def serves(self, path: str) -> bool:
        return path == self.live or path == self.ready

    async def answer(self, scope: Scope, path: str, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await send_whole(send, 405, b"", ((b"allow", b"GET, HEAD"),))
            return
        headers: tuple[tuple[bytes, bytes], ...]
        if path == self.live:
            status, body, headers = 200, _OK, _JSON
        elif self.draining:
            status, body = 503, _DRAINING
            headers = (*_JSON, (b"retry-after", _RETRY_AFTER))
        elif not await self._store_answers():
            status, body = 503, _STORE_DOWN
            headers = (*_JSON, (b"retry-after", _RETRY_AFTER))
        else:
            status, body, headers = 200, _READY, _JSON
        if method == "HEAD":
            # The length a GET would have, and no body (RFC 9110 section 9.3.2).
            length = (b"content-length", str(len(body)).encode())
            start = {"type": "http.response.start", "status": status, "headers": [*headers, length]}
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        await send_whole(send, status, body, headers)

    async def _store_answers(self) -> bool:
        if self.store_check is None:
            return True
        try:
            await self.store_check()
        except StoreUnavailable:
            return False
        return True


def store_down(stores: Stores) -> Refusal:
    """503 for a request that needed the store while it was down or past its deadline
    (`mcpkit.stores.deadline`), before any response started: Retry-After, and a JSON-RPC
    error naming the kind of store and the setting that bounds the wait (not its address,
    which the log has)."""
    retry = max(1, math.ceil(stores.timeout))
    return refuse(
        503,
        f"{outage_message(stores.url, stores.timeout)}: try again in {retry} s",
        code=INTERNAL_ERROR,
        headers=((b"retry-after", str(retry).encode()),),
        data={"store": store_kind(stores.url), "setting": "timeout", "timeout": stores.timeout},
    )
