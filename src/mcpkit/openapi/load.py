"""Reading an OpenAPI document from a dict, a JSON or YAML file, or a URL, and checking that
it is one mcpkit can serve (OpenAPI 3.0 or 3.1, with `paths`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

from mcpkit._extras import import_extra, needs_extra
from mcpkit.errors import MissingExtra
from mcpkit.openapi.bounded import MAX_DOCUMENT_BYTES, send_bounded
from mcpkit.openapi.exceptions import OpenApiRequestError, OpenApiSpecError

if TYPE_CHECKING:
    import httpx

__all__ = ["SpecSource", "check_spec", "load_spec", "parse_spec_text", "read_spec"]

#: What `load_spec` accepts: the document itself, a file path, or an http(s) URL.
SpecSource: TypeAlias = Mapping[str, Any] | str | Path

_VERSION: Final = re.compile(r"3\.[01]\.\d+")
_YAML_SUFFIXES: Final = (".yaml", ".yml")


def check_spec(document: object, where: str = "the document") -> Mapping[str, Any]:
    """`document` if it is an OpenAPI 3.0 or 3.1 document with `paths`; refused loudly else."""
    if not isinstance(document, Mapping):
        raise OpenApiSpecError(where, "an OpenAPI document is a JSON object at its top")
    spec = cast(Mapping[str, Any], document)
    if "swagger" in spec:
        raise OpenApiSpecError(
            "#/swagger",
            f"Swagger {spec['swagger']} is not supported: convert the document to OpenAPI 3 "
            "(3.0 or 3.1) first",
        )
    version = spec.get("openapi")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise OpenApiSpecError("#/openapi", f"expected OpenAPI 3.0.x or 3.1.x, found {version!r}")
    if not isinstance(spec.get("paths"), Mapping):
        raise OpenApiSpecError(
            "#/paths", "the document has no `paths` object, so no operation to serve"
        )
    return spec


#: A document nested past what the interpreter's recursion allows is refused, not a crash.
_TOO_DEEP: Final = "the document is nested too deeply to read"


class _AliasFound(Exception):
    """A YAML alias (`*name`) in a document, which is refused."""


def _no_aliases(pyyaml: Any) -> Any:
    """PyYAML's safe loader with aliases refused: each one is a copy of its anchor's node
    wherever the document is walked (and converting a document walks it all), so a few
    hundred bytes of aliases of aliases come to billions of nodes. An OpenAPI document
    shares with `$ref`, which the conversion counts (`schemas`)."""

    def compose_node(loader: Any, parent: Any, index: Any) -> Any:
        if loader.check_event(pyyaml.AliasEvent):
            event = loader.peek_event()
            raise _AliasFound(
                f"the YAML alias *{event.anchor} on line {event.start_mark.line + 1} is "
                "refused: a document with aliases can grow without bound as it is read; "
                "share with $ref, or write the YAML out without anchors"
            )
        return pyyaml.SafeLoader.compose_node(loader, parent, index)

    return type("NoAliasLoader", (pyyaml.SafeLoader,), {"compose_node": compose_node})


def parse_spec_text(text: str, where: str, *, yaml: bool = False) -> Mapping[str, Any]:
    """A document from its JSON (or, with the `openapi` extra, YAML) text."""
    if yaml:
        try:
            # the `openapi` extra, imported by name: PyYAML ships no type hints
            pyyaml: Any = import_extra("yaml", "openapi", "reading YAML")
        except MissingExtra as exc:
            raise OpenApiSpecError(where, str(exc)) from None
        try:
            loaded: object = pyyaml.load(text, Loader=_no_aliases(pyyaml))
        except _AliasFound as found:
            raise OpenApiSpecError(where, str(found)) from None
        except pyyaml.YAMLError as exc:
            raise OpenApiSpecError(where, f"not valid YAML: {exc}") from None
        except RecursionError:
            raise OpenApiSpecError(where, _TOO_DEEP) from None
        return check_spec(loaded, where)
    try:
        return check_spec(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise OpenApiSpecError(where, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise OpenApiSpecError(where, _TOO_DEEP) from None


def read_spec(
    source: Mapping[str, Any] | Path | str, *, max_document_bytes: int = MAX_DOCUMENT_BYTES
) -> Mapping[str, Any]:
    """A document given as itself or as a JSON/YAML file path (not a URL: see `load_spec`),
    a file refused past `max_document_bytes`."""
    if max_document_bytes < 1:
        raise ValueError("max_document_bytes must be >= 1")
    if isinstance(source, Mapping):
        return check_spec(source)
    path = Path(source)
    try:
        with path.open("rb") as file:
            data = file.read(max_document_bytes + 1)  # (a pipe or /dev/zero has no size)
    except OSError as exc:
        raise OpenApiSpecError(str(path), f"cannot read the document: {exc}") from None
    if len(data) > max_document_bytes:
        raise OpenApiSpecError(
            str(path),
            f"the document is larger than {max_document_bytes} bytes (max_document_bytes, "
            f"default {MAX_DOCUMENT_BYTES}): raise it with read_spec(path, "
            "max_document_bytes=...) and pass the document to from_openapi",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OpenApiSpecError(str(path), f"cannot read the document: {exc}") from None
    return parse_spec_text(text, str(path), yaml=path.suffix.lower() in _YAML_SUFFIXES)


async def load_spec(
    source: SpecSource,
    *,
    client: httpx.AsyncClient | None = None,
    max_document_bytes: int = MAX_DOCUMENT_BYTES,
) -> Mapping[str, Any]:
    """A checked document from a dict, a file path, or an http(s) URL fetched with `client`
    (a new `httpx.AsyncClient` when none is given), a file or an answer refused past
    `max_document_bytes`."""
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        if max_document_bytes < 1:
            raise ValueError("max_document_bytes must be >= 1")
        return await _fetch(source, client, max_document_bytes)
    return read_spec(source, max_document_bytes=max_document_bytes)


async def _fetch(url: str, client: httpx.AsyncClient | None, limit: int) -> Mapping[str, Any]:
    with needs_extra("openapi"):
        import httpx

    try:
        if client is None:
            async with httpx.AsyncClient() as own:
                response, data = await send_bounded(
                    own, own.build_request("GET", url), limit, "max_document_bytes"
                )
        else:
            response, data = await send_bounded(
                client, client.build_request("GET", url), limit, "max_document_bytes"
            )
    except (httpx.HTTPError, OpenApiRequestError) as exc:
        raise OpenApiSpecError(url, f"cannot fetch the document: {exc}") from None
    if response.status_code != 200:
        raise OpenApiSpecError(url, f"fetching the document answered {response.status_code}")
    kind = response.headers.get("content-type", "")
    yaml = "yaml" in kind or url.lower().endswith(_YAML_SUFFIXES)
    text = data.decode(response.encoding or "utf-8", errors="replace")
    return parse_spec_text(text, url, yaml=yaml)
