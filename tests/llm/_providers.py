"""A local server that speaks the HTTP shape of the Anthropic Messages, OpenAI Chat
Completions and Responses, and Gemini generateContent APIs, answering from a script, and
checking every request body against the request types the providers' own SDKs define."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from google.genai import types as genai_types
from pydantic import TypeAdapter, ValidationError

__all__ = ["ProviderServer", "provider_server"]


def _request_types() -> dict[str, TypeAdapter[Any]]:
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
    from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

    return {
        "anthropic": TypeAdapter(MessageCreateParamsNonStreaming),
        "chat": TypeAdapter(CompletionCreateParamsNonStreaming),
        "responses": TypeAdapter(ResponseCreateParamsNonStreaming),
    }


_TYPES = _request_types()
# generateContent's body (GenerateContentRequest), field by field, as the SDK's models
# (which refuse unknown fields) define each.
_GEMINI_FIELDS: dict[str, TypeAdapter[Any]] = {
    "contents": TypeAdapter(list[genai_types.Content]),
    "systemInstruction": TypeAdapter(genai_types.Content),
    "tools": TypeAdapter(list[genai_types.Tool]),
    "toolConfig": TypeAdapter(genai_types.ToolConfig),
    "generationConfig": TypeAdapter(genai_types.GenerationConfig),
}


def _materialized(value: Any) -> Any:
    """The validated value with its lazily validated iterables (the SDKs' `Iterable[...]`
    fields) run, so every item is checked."""
    if isinstance(value, dict):
        return {k: _materialized(v) for k, v in value.items()}
    if value is None or isinstance(value, str | bytes | int | float | bool):
        return value
    try:
        return [_materialized(v) for v in value]
    except TypeError:
        return value


def _unknown(sent: Any, kept: Any, path: str) -> list[str]:
    """Keys the body has that validation dropped: fields the API's types do not define."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        found = [f"{path}.{k}" for k in sent if k not in kept]
        return found + [
            e for k in sent if k in kept for e in _unknown(sent[k], kept[k], f"{path}.{k}")
        ]
    if isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        return [
            e
            for i, (s, k) in enumerate(zip(sent, kept, strict=True))
            for e in _unknown(s, k, f"{path}[{i}]")
        ]
    return []


def schema_errors(api: str, body: dict[str, Any]) -> list[str]:
    """What in `body` the API's request types refuse or do not define ([] when it is valid)."""
    try:
        if api == "gemini":
            unknown = sorted(set(body) - set(_GEMINI_FIELDS))
            for field, value in body.items():
                if field in _GEMINI_FIELDS:
                    _GEMINI_FIELDS[field].validate_python(value)
            return [f"unknown field {f}" for f in unknown]
        kept = _materialized(_TYPES[api].validate_python(body))
    except ValidationError as exc:
        return [str(exc)]
    # JSON Schemas and tool arguments are free-form: their keys are the tools', not the API's.
    return [
        p for p in _unknown(body, kept, "$") if not p.endswith((".input_schema", ".parameters"))
    ]


class ProviderServer:
    """The scripted answers of each API (`script[api]`, taken in order) and the request
    bodies it got (`requests`: (api, body)); `url` once serving."""

    def __init__(self) -> None:
        self.script: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[str] = []
        self.url = ""

    def bodies(self, api: str) -> list[dict[str, Any]]:
        return [body for sent_to, body in self.requests if sent_to == api]

    @staticmethod
    def api_of(path: str) -> str | None:
        if path.endswith("/messages"):
            return "anthropic"
        if path.endswith("/chat/completions"):
            return "chat"
        if path.endswith("/responses"):
            return "responses"
        if path.endswith(":generateContent"):
            return "gemini"
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        api = self.api_of(scope["path"])
        status, answer = self._answer(api, scope["method"], raw)
        payload = json.dumps(answer).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, api: str | None, method: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if api is None or method != "POST":
            return 404, {"error": {"message": "no such endpoint here"}}
        body = json.loads(raw)
        self.requests.append((api, body))
        problems = schema_errors(api, body)
        if problems:
            self.errors.extend(f"{api}: {p}" for p in problems)
            return 400, {"error": {"type": "invalid_request_error", "message": "; ".join(problems)}}
        if not self.script.get(api):
            return 500, {"error": {"type": "api_error", "message": f"the script for {api} is done"}}
        return 200, self.script[api].pop(0)


@contextlib.asynccontextmanager
async def provider_server() -> AsyncIterator[ProviderServer]:
    """A ProviderServer served by uvicorn on a free port of 127.0.0.1, always stopped."""
    provider = ProviderServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # listening before uvicorn runs: connections wait in the backlog, no readiness wait
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(provider, lifespan="off", log_level="warning"))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    provider.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield provider
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()
