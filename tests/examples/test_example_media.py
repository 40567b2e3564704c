"""Every image and audio block the example servers return decodes: each tool called with
arguments made from its input schema, each resource read, each prompt got, and every PNG
checked down to its chunk CRCs and zlib checksum (autogen-ext refused a broken one)."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import io
import struct
import sys
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.protocol import codes
from mcpkit.proxy import ProxyServer
from mcpkit.types import (
    AudioContent,
    BlobResourceContents,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    EmbeddedResource,
    ImageContent,
    Root,
    TextContent,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# examples/proxy.py serves examples/everything.py, which is checked here itself;
# examples/front.py reads its provider's discovery document at import (from the environment):
# tests/interop/test_front_example.py runs it against a real provider.
NAMES = sorted(
    path.stem
    for path in EXAMPLES.glob("*.py")
    if "\nserver = " in path.read_text()
    and "ProxyServer(" not in path.read_text()
    and path.stem != "front"
)


def load_server(name: str) -> Server:
    spec = importlib.util.spec_from_file_location(f"example_media_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while built
    spec.loader.exec_module(module)
    server = module.server
    assert isinstance(server, Server) and not isinstance(server, ProxyServer)
    return server


# --------------------------------------------------------------- decoders

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# bits per pixel of one sample count, by colour type (PNG spec, IHDR)
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decode_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose every chunk CRC, zlib stream and size check out."""
    assert data.startswith(_PNG_SIGNATURE), "not a PNG signature"
    at, chunks = len(_PNG_SIGNATURE), []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in the {kind!r} chunk"
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b""), "IHDR first, IEND last"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert interlace == 0, "this checker reads non-interlaced PNGs only"
    # zlib.decompress checks the stream's adler-32 itself.
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    row = (width * depth * _SAMPLES[colour] + 7) // 8
    assert len(pixels) == height * (1 + row), "image data does not fill the image"
    return width, height


def decode_wav(data: bytes) -> int:
    """The frame count of a WAV file whose header agrees with its data."""
    with wave.open(io.BytesIO(data)) as audio:
        frames = audio.getnframes()
        read = audio.readframes(frames)
        assert len(read) == frames * audio.getsampwidth() * audio.getnchannels()
        return frames


DECODERS = {
    "image/png": decode_png,
    "audio/wav": decode_wav,
    "audio/x-wav": decode_wav,
}


def check_media(mime_type: str | None, b64: str) -> None:
    decoder = DECODERS.get(mime_type or "")
    assert decoder is not None, f"no decoder here for {mime_type!r}: add one to this test"
    decoder(base64.b64decode(b64, validate=True))


def decode_blocks(found: list[tuple[str, str | None, str]]) -> None:
    for where, mime_type, b64 in found:
        try:
            check_media(mime_type, b64)
        except Exception as exc:  # name the example and the call in the failure
            raise AssertionError(f"{where}: {mime_type} does not decode: {exc}") from exc


# ----------------------------------------------------------- calling everything


def sample(schema: dict[str, Any]) -> Any:
    """A value that fits a simple input schema (the examples' kinds)."""
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return sample(schema[key][0])
    kind = schema.get("type", "string")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        required = schema.get("required", [])
        return {k: sample(v) for k, v in schema.get("properties", {}).items() if k in required}
    minimum = schema.get("minimum", 1)
    formats = {"date": "2030-01-02", "date-time": "2030-01-02T03:04:05Z", "uri": "https://a.b/"}
    simple = {
        "string": formats.get(schema.get("format", ""), "sample"),
        "integer": minimum,
        "number": minimum,
        "boolean": True,
        "array": [],
        "null": None,
    }
    return simple[kind]


def media(where: str, blocks: list[Any]) -> Iterator[tuple[str, str | None, str]]:
    for block in blocks:
        if isinstance(block, (ImageContent, AudioContent)):
            yield where, block.mime_type, block.data
        elif isinstance(block, EmbeddedResource):
            yield from media(where, [block.resource])
        elif isinstance(block, BlobResourceContents) and (block.mime_type or "").startswith(
            ("image/", "audio/")
        ):
            yield where, block.mime_type, block.blob


ROOTS = [Root(uri="file:///tmp", name="tmp")]


def decline(params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="decline")


def answer(params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="ok"), model="test")


async def everything_returned(server: Server, name: str) -> list[tuple[str, str | None, str]]:
    found: list[tuple[str, str | None, str]] = []
    asks = {"elicitation_handler": decline, "sampling_handler": answer, "roots": ROOTS}
    async with Client(server, **asks) as client:
        offers = client.server_capabilities
        for tool in await client.list_tools() if offers.tools else []:
            try:
                result = await client.call_tool(tool.name, sample(tool.input_schema))
            except McpError as exc:  # a tool that sends the user to a URL first: no blocks
                assert exc.code == codes.URL_ELICITATION_REQUIRED, exc
                continue
            found.extend(media(f"{name}: tool {tool.name}", result.content))
        for resource in await client.list_resources() if offers.resources else []:
            read = await client.read_resource(resource.uri)
            found.extend(media(f"{name}: resource {resource.uri}", read.contents))
        for prompt in await client.list_prompts() if offers.prompts else []:
            arguments = {a.name: "sample" for a in prompt.arguments or () if a.required}
            got = await client.get_prompt(prompt.name, arguments)
            found.extend(media(f"{name}: prompt {prompt.name}", [m.content for m in got.messages]))
    return found


@pytest.mark.parametrize("name", NAMES)
async def test_every_image_and_audio_block_of_an_example_decodes(name: str) -> None:
    server = load_server(name)
    async with asyncio.timeout(20):
        decode_blocks(await everything_returned(server, name))


async def test_the_tools_example_returns_an_image_that_is_checked() -> None:
    found = await everything_returned(load_server("tools"), "tools")
    assert [(where, mime) for where, mime, _ in found] == [("tools: tool red_dot", "image/png")]
    assert decode_png(base64.b64decode(found[0][2])) == (1, 1)


def test_the_png_checker_refuses_a_bad_checksum() -> None:
    good = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/VscvDQAAAABJRU5ErkJggg=="
    )
    assert decode_png(good) == (1, 1)
    idat = good.index(b"IDAT")
    bad_adler = bytearray(good)
    bad_adler[idat + 4 + 11] ^= 1  # the zlib stream's adler-32, CRC made to match again
    body = bytes(bad_adler[idat + 4 : idat + 4 + 13])
    bad_adler[idat + 17 : idat + 21] = struct.pack(">I", zlib.crc32(b"IDAT" + body))
    with pytest.raises(zlib.error, match="incorrect data check"):
        decode_png(bytes(bad_adler))
    bad_crc = bytearray(good)
    bad_crc[idat + 17] ^= 1
    with pytest.raises(AssertionError, match="bad CRC in the b'IDAT' chunk"):
        decode_png(bytes(bad_crc))
