"""The inspector's web app (plain ASGI): the page and its assets, an SSE event stream, and a
JSON API, each call checked for the session's token, a loopback Host and a same-site Origin."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from typing import Any, cast
from urllib.parse import parse_qs

from mcpkit.errors import McpError
from mcpkit.inspector.session import CallCancelled, InspectorSession

__all__ = ["InspectorApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/form.js": ("form.js", "text/javascript; charset=utf-8"),
    "/render.js": ("render.js", "text/javascript; charset=utf-8"),
    "/answer.js": ("answer.js", "text/javascript; charset=utf-8"),
    "/log.js": ("log.js", "text/javascript; charset=utf-8"),
    "/look.js": ("look.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),  # asked for by browsers on every page
}
_MAX_BODY = 4 * 1024 * 1024
#: Seconds between SSE comments that keep an idle stream (and its proxies) open.
_KEEPALIVE = 15.0
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class InspectorApp:
    """`InspectorApp(session)` is an ASGI app; open `/?token=<app.token>`."""

    def __init__(self, session: InspectorSession, token: str | None = None) -> None:
        self.session = session
        self.token = token or secrets.token_urlsafe(24)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if not _loopback_host(scope):
            # DNS rebinding: a page of another site, resolved to 127.0.0.1, names its own host
            return await _reply(send, 403, {"error": "this inspector answers 127.0.0.1 only"})
        if path in _ASSETS and path != "/" and scope["method"] == "GET":
            return await _asset(send, *_ASSETS[path])
        if not secrets.compare_digest(_query(scope, "token"), self.token):
            return await _reply(send, 403, {"error": "open the URL the inspector printed"})
        if not _same_origin(scope):
            return await _reply(send, 403, {"error": "requests from other sites are refused"})
        if path == "/" and scope["method"] == "GET":
            return await _asset(send, *_ASSETS["/"])
        if path == "/api/events" and scope["method"] == "GET":
            return await self._events(receive, send)
        if path.startswith("/api/") and scope["method"] == "POST":
            return await self._api(path.removeprefix("/api/"), scope, receive, send)
        await _reply(send, 404, {"error": f"no {scope['method']} {path} here"})

    async def _api(self, action: str, scope: Scope, receive: Receive, send: Send) -> None:
        if _header(scope, b"content-type").split(";")[0].strip() != "application/json":
            return await _reply(send, 415, {"error": "send JSON (Content-Type: application/json)"})
        body = await _body(receive)
        try:
            args: Any = json.loads(body) if body else {}
        except ValueError:
            return await _reply(send, 400, {"error": "the body is not JSON"})
        if body is None or not isinstance(args, dict):
            return await _reply(send, 400, {"error": "send a JSON object under 4 MB"})
        try:
            result = await self._act(action, cast("dict[str, Any]", args))
        except McpError as exc:
            return await _reply(send, 200, {"error": {"code": exc.code, "message": exc.message}})
        except CallCancelled as exc:
            return await _reply(send, 200, {"cancelled": str(exc)})
        except (KeyError, TypeError, ValueError) as exc:
            return await _reply(send, 400, {"error": f"bad request for {action}: {exc}"})
        except Exception as exc:  # a server that cannot start, a URL that refuses us
            return await _reply(send, 200, {"error": {"code": -32603, "message": str(exc)}})
        await _reply(send, 200, {"result": result})

    async def _act(self, action: str, args: dict[str, Any]) -> Any:
        session = self.session
        if action == "state":
            return session.state()
        if action == "connect":
            return await session.connect(str(args["target"]))
        if action == "disconnect":
            await session.disconnect()
            return {}
        if action == "request":
            call = args.get("call")
            return await session.request(str(args["method"]), args.get("params"), call)
        if action == "cancel":
            return {"cancelled": session.cancel(str(args["call"]))}
        if action == "answer":
            return {
                "accepted": session.answer(str(args["id"]), args.get("result"), args.get("error"))
            }
        raise KeyError(action)

    async def _events(self, receive: Receive, send: Send) -> None:
        queue = self.session.subscribe()
        gone = asyncio.get_running_loop().create_task(_disconnected(receive))
        try:
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b": open\n\n", "more_body": True})
            while not gone.done():
                chunk = await _next_event(queue, gone)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the page went away mid-write
        finally:
            gone.cancel()
            self.session.unsubscribe(queue)


async def _next_event(
    queue: asyncio.Queue[dict[str, Any] | None], gone: asyncio.Task[None]
) -> bytes | None:
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, gone}, timeout=_KEEPALIVE, return_when="FIRST_COMPLETED")
    if getter not in done:
        getter.cancel()
        return None if gone in done else b": keepalive\n\n"
    event = getter.result()
    if event is None:
        return None
    return b"data: " + json.dumps(event, default=str).encode() + b"\n\n"


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _query(scope: Scope, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _loopback_host(scope: Scope) -> bool:
    host = _header(scope, b"host")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in _LOOPBACK


def _same_origin(scope: Scope) -> bool:
    # Browsers send Origin on every POST and on cross-site fetches: it must be this server.
    origin = _header(scope, b"origin")
    return not origin or origin == "http://" + _header(scope, b"host")


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _asset(send: Send, name: str, content_type: str) -> None:
    data = resources.files("mcpkit.inspector").joinpath("static", name).read_bytes()
    headers = [
        (b"content-type", content_type.encode()),
        (b"cache-control", b"no-store"),
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; media-src data:"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _reply(send: Send, status: int, payload: Any) -> None:
    data = json.dumps(payload, default=str).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
