"""The wire types of MCP Apps (the `io.modelcontextprotocol/ui` extension, SEP-1865, stable
2026-01-26): a tool's link to its view (`_meta.ui` of a Tool) and a view's settings (`_meta.ui`
of its `resources/read` contents).

Written by hand: the extension is specified in its own repository (ext-apps), not in the base
schema. They follow the generated types' conventions (snake_case attributes, the wire names as
`name=`, unset optional fields left out of the JSON).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec

__all__ = [
    "UI_EXTENSION",
    "UI_RESOURCE_URI_KEY",
    "VIEW_MIME_TYPE",
    "Csp",
    "Permissions",
    "ToolUi",
    "ViewMeta",
    "Visibility",
]

#: The extension's identifier, the key of `capabilities.extensions` that declares it.
UI_EXTENSION: Final = "io.modelcontextprotocol/ui"
#: The MIME type of a view (an HTML document the host renders in a sandboxed iframe).
VIEW_MIME_TYPE: Final = "text/html;profile=mcp-app"
#: The flat `_meta` key of a tool's view, deprecated by `_meta.ui.resourceUri` but still
#: the one some hosts read: servers send both.
UI_RESOURCE_URI_KEY: Final = "ui/resourceUri"

#: Who may call a tool: the model (it is in the agent's tool list) and/or the view.
Visibility = Literal["model", "app"]


class Csp(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """The origins a view may reach (the host builds its Content-Security-Policy from them;
    left out, a view reaches nothing outside its own document)."""

    #: fetch/XHR/WebSocket (CSP `connect-src`).
    connect_domains: tuple[str, ...] | None = msgspec.field(default=None, name="connectDomains")
    #: Scripts, styles, images, fonts, media (`script-src`, `style-src`, `img-src`...).
    resource_domains: tuple[str, ...] | None = msgspec.field(default=None, name="resourceDomains")
    #: Nested iframes (`frame-src`; none without it).
    frame_domains: tuple[str, ...] | None = msgspec.field(default=None, name="frameDomains")
    #: The document's base URIs (`base-uri`; 'self' without it).
    base_uri_domains: tuple[str, ...] | None = msgspec.field(default=None, name="baseUriDomains")


class Permissions(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """Browser features a view asks for (the host may grant them in the iframe's `allow`)."""

    camera: dict[str, Any] | None = None
    microphone: dict[str, Any] | None = None
    geolocation: dict[str, Any] | None = None
    clipboard_write: dict[str, Any] | None = msgspec.field(default=None, name="clipboardWrite")


class ViewMeta(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A view's `_meta.ui`: what it may reach, what it asks for, where it lives, its frame."""

    csp: Csp | None = None
    permissions: Permissions | None = None
    #: A dedicated sandbox origin, in the form the host documents.
    domain: str | None = None
    #: Whether the host draws a border and background around it (the host decides if unset).
    prefers_border: bool | None = msgspec.field(default=None, name="prefersBorder")


class ToolUi(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A tool's `_meta.ui`: the view that renders its results, and who may call it (both the
    model and the view when unset)."""

    resource_uri: str | None = msgspec.field(default=None, name="resourceUri")
    visibility: tuple[Visibility, ...] | None = None

    @property
    def for_model(self) -> bool:
        """Whether the tool belongs in the agent's tool list."""
        return self.visibility is None or "model" in self.visibility

    @property
    def for_app(self) -> bool:
        """Whether a view may call it."""
        return self.visibility is None or "app" in self.visibility
