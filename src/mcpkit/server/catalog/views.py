"""MCP Apps on the server (the `io.modelcontextprotocol/ui` extension, SEP-1865, docs/apps.md):
views, and tools linked to them.

A view is an HTML document served as a `ui://` resource (`text/html;profile=mcp-app`) with its
settings in the contents' `_meta.ui` (`ViewMeta`: the origins it may reach, the browser
features it asks for, its frame). Its HTML comes from a string, a file (read at each read, so
an edited file is served at once) or a package resource. A tool names its view with
`view="ui://..."`; its `_meta.ui` then carries `resourceUri` (and the deprecated flat
`ui/resourceUri` that hosts still read) and `visibility`: "model" (the agent's tool list) and/or
"app" (callable by the view).

A client that did not declare the extension gets the text-only fallback the extension asks
for: tools without their UI metadata, and no app-only tool, listed or callable (`for_client`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, TypedDict, get_args

import msgspec

from mcpkit.protocol.extensions import declares
from mcpkit.runtime.workers import is_async_callable
from mcpkit.types import ClientCapabilities, TextResourceContents, Tool
from mcpkit.types.apps_extension import (
    UI_EXTENSION,
    UI_RESOURCE_URI_KEY,
    VIEW_MIME_TYPE,
    Csp,
    Permissions,
    ToolUi,
    ViewMeta,
    Visibility,
)

__all__ = [
    "ViewOptions",
    "ViewSource",
    "client_renders_views",
    "text_only",
    "tool_ui",
    "view_function",
    "view_meta",
    "view_reader",
    "with_ui",
]

#: Where a view's HTML comes from: the HTML itself (a `str`), a file (a `Path`), or a
#: package resource (`("package", "file.html")`, read with importlib.resources).
ViewSource = str | os.PathLike[str] | tuple[str, str]

#: The values the extension defines for a tool's `visibility`; any other is refused here, not
#: sent to a host that would not know it.
_VISIBILITIES: Final = frozenset(get_args(Visibility))


def tool_ui(
    tool_name: str,
    view: str | None,
    visibility: Iterable[str] | None,
    meta: Mapping[str, Any] | None,
) -> tuple[ToolUi | None, dict[str, Any] | None]:
    """A tool's link to its view, checked, and the tool's `_meta` carrying it (`meta`, the
    user's own, kept beside it); (None, meta) for a tool with neither."""
    if view is None and visibility is None:
        return None, dict(meta) if meta is not None else None
    if view is not None and not view.startswith("ui://"):
        raise ValueError(f"tool {tool_name!r}: view must be a ui:// URI, not {view!r}")
    shown: tuple[Visibility, ...] | None = None
    if visibility is not None:
        if isinstance(visibility, str):
            raise TypeError(
                f"tool {tool_name!r}: visibility is a list such as ['model', 'app'], "
                f"not the string {visibility!r}"
            )
        names = tuple(visibility)
        unknown = [v for v in names if v not in _VISIBILITIES]
        if unknown or not names:
            raise ValueError(
                f"tool {tool_name!r}: visibility takes 'model' and/or 'app', not {names!r}"
            )
        # One order, each once: the same choice always gives the same `_meta`.
        order: tuple[Visibility, ...] = ("model", "app")
        shown = tuple(v for v in order if v in names)
    ui = ToolUi(resource_uri=view, visibility=shown)
    return ui, with_ui(meta, ui)


def with_ui(meta: Mapping[str, Any] | None, ui: ToolUi) -> dict[str, Any]:
    """`meta` with `ui` as its `ui` member (and the flat deprecated key where there is a
    view)."""
    # The user's own `ui` keys are replaced, not merged: the link is view= and visibility='s
    # to say, and a stale flat key would point a host at another view.
    merged = {k: v for k, v in (meta or {}).items() if k not in ("ui", UI_RESOURCE_URI_KEY)}
    shown: dict[str, Any] = msgspec.to_builtins(ui)
    if "visibility" in shown:
        shown["visibility"] = list(shown["visibility"])  # (JSON's array, as it was sent)
    merged["ui"] = shown
    if ui.resource_uri is not None:
        merged[UI_RESOURCE_URI_KEY] = ui.resource_uri
    return merged


def text_only(wire: Tool) -> Tool:
    """The tool as a client without the UI extension sees it: no UI metadata."""
    meta = {k: v for k, v in (wire.meta or {}).items() if k not in ("ui", UI_RESOURCE_URI_KEY)}
    return msgspec.structs.replace(wire, meta=meta or None)


def client_renders_views(capabilities: ClientCapabilities) -> bool:
    """Whether a client declared the UI extension with the view MIME type (or no list of
    types at all: it then takes the only one there is)."""
    if not declares(capabilities, UI_EXTENSION):
        return False
    settings = (capabilities.extensions or {}).get(UI_EXTENSION)
    types = settings.get("mimeTypes") if isinstance(settings, dict) else None
    return not isinstance(types, list) or VIEW_MIME_TYPE in types


class ViewOptions(TypedDict, total=False):
    """The options of a view, besides its URI and HTML: what `server.view()` and
    `server.add_view()` take (this is their one list)."""

    name: str | None
    title: str | None
    description: str | None
    #: The origins it may reach (its CSP); none when unset.
    csp: Csp | None
    #: The browser features it asks for.
    permissions: Permissions | None
    #: A dedicated sandbox origin, in the form the host documents.
    domain: str | None
    #: Whether the host should draw a border and background around it.
    prefers_border: bool | None


def view_meta(options: ViewOptions) -> ViewMeta | None:
    """The view's `_meta.ui`, or None when nothing is set (a host then applies the
    restrictive default policy)."""
    found = ViewMeta(
        csp=options.get("csp"),
        permissions=options.get("permissions"),
        domain=options.get("domain"),
        prefers_border=options.get("prefers_border"),
    )
    return None if found == ViewMeta() else found


def view_reader(
    uri: str, source: ViewSource, meta: ViewMeta | None
) -> Callable[[], list[TextResourceContents]]:
    """The function a view's resource reads: its HTML, as `text/html;profile=mcp-app`, with
    its `_meta.ui`. A file is read at each read (so `mcpkit dev` serves an edit at once)."""
    html = _html_of(uri, source)

    def read() -> list[TextResourceContents]:
        return [_contents(uri, html(), meta)]

    # What the resource is described as when no description is given (`summary_doc`).
    read.__doc__ = f"the view {uri}"
    return read


def view_function(uri: str, fn: Callable[..., Any], meta: ViewMeta | None) -> Callable[..., Any]:
    """`fn`, which returns a view's HTML (sync or async, taking a Context or not), as the
    function its resource reads."""
    if is_async_callable(fn):

        @functools.wraps(fn)
        async def read_async(*args: Any, **kwargs: Any) -> list[TextResourceContents]:
            return [_contents(uri, _text(uri, await fn(*args, **kwargs)), meta)]

        return read_async

    @functools.wraps(fn)
    def read(*args: Any, **kwargs: Any) -> list[TextResourceContents]:
        return [_contents(uri, _text(uri, fn(*args, **kwargs)), meta)]

    return read


def _contents(uri: str, html: str, meta: ViewMeta | None) -> TextResourceContents:
    """One read of a view: its HTML under the view MIME type, which is how a host knows it
    for an app, with the view's settings in the contents' `_meta.ui`."""
    wire_meta = {"ui": msgspec.to_builtins(meta)} if meta is not None else None
    return TextResourceContents(uri=uri, mime_type=VIEW_MIME_TYPE, text=html, meta=wire_meta)


def _html_of(uri: str, source: ViewSource) -> Callable[[], str]:
    """How to get the view's HTML at each read. A missing file or package resource is
    refused here, at registration, and not at the first read by a host."""
    if isinstance(source, str):
        return lambda: source
    if isinstance(source, tuple):
        package, name = source
        import importlib.resources  # (only here: it loads tempfile and shutil besides)

        resource = importlib.resources.files(package).joinpath(name)
        if not resource.is_file():
            raise FileNotFoundError(f"view {uri!r}: no resource {name!r} in package {package!r}")
        return resource.read_text
    if isinstance(source, os.PathLike):  # pyright: ignore[reportUnnecessaryIsInstance]
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"view {uri!r}: no file {path}")
        return lambda: path.read_text(encoding="utf-8")
    raise TypeError(f"view {uri!r}: the HTML is a str, a Path or a (package, name) pair")


def _text(uri: str, value: object) -> str:
    """The HTML a view function returned; TypeError naming the view for anything else,
    which is no document a host could render."""
    if not isinstance(value, str):
        raise TypeError(f"view {uri!r}: its function returned {type(value).__name__}, not HTML")
    return value
