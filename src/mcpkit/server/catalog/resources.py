"""Resources and resource templates: specs built once, and reading them (server/resources).

A spec is built when a function is registered, and every mistake that would make each read
fail is refused there, naming the URI: parameters a fixed URI cannot give, template
parameters the template does not name, a template `match` could not read back. A read then
screens a template's values (`template_values`), validates them against the function's
parameters, runs the function (in a worker thread if it is sync and the server says so) and
turns its value into contents (`content`). A function that returns None or raises KeyError
or FileNotFoundError has no such resource: server/resources, "Error Handling", gives that its
own code (-32002, answered as -32602 under 2026-07-28 by `protocol.answering`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.calling.content import contents_list
from mcpkit.server.catalog.calling.injection import with_dependencies
from mcpkit.server.catalog.calling.invoke import (
    argument_choices,
    context_parameter,
    is_context_annotation,
)
from mcpkit.server.catalog.registration_checks import scope_set, thread_choice
from mcpkit.server.catalog.template_values import Screen, screen_for, screen_values
from mcpkit.server.catalog.uri_template import UriTemplate
from mcpkit.server.catalog.visibility.tags import tag_set, version_of, with_labels
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.server.schemas.argument_messages import ArgumentError
from mcpkit.server.schemas.signature import FunctionSignature, build_signature
from mcpkit.types import (
    Annotations,
    BlobResourceContents,
    Icon,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

__all__ = [
    "ResourceOptions",
    "ResourceSpec",
    "TemplateSpec",
    "make_resource",
    "make_template",
    "read_spec",
]


@dataclass(slots=True)
class ResourceSpec:
    """A resource at one fixed URI: its function, its wire `Resource` for resources/list,
    and what a read needs (where the Context goes, sync or async, the default MIME type).
    """

    uri: str
    fn: Callable[..., Any]
    wire: Resource
    context_param: str | None
    is_async: bool
    mime_type: str | None
    scopes: frozenset[str] = frozenset()  # what a caller's token needs (HTTP with auth)
    tags: frozenset[str] = frozenset()  # its `tags=` (also in `wire.meta`: `visibility.tags`)
    version: str | None = None
    sync_in_thread: bool | None = None  # its own `sync_in_thread=` (None: the server's)


@dataclass(slots=True)
class TemplateSpec:
    """A resource template: URIs that match `template` are read by its function, which gets
    the matched values as arguments (`signature` converts the text to its parameter types).
    `choices` are the values a parameter allows, offered to completion/complete.
    """

    template: UriTemplate
    fn: Callable[..., Any]
    wire: ResourceTemplate
    signature: FunctionSignature
    context_param: str | None
    is_async: bool
    mime_type: str | None
    choices: dict[str, list[str]]
    scopes: frozenset[str] = frozenset()  # what a caller's token needs (HTTP with auth)
    tags: frozenset[str] = frozenset()  # its `tags=` (also in `wire.meta`: `visibility.tags`)
    version: str | None = None
    #: How its matched values are screened before a read (`template_values`).
    screen: Screen = field(default_factory=dict[str, bool])
    sync_in_thread: bool | None = None  # its own `sync_in_thread=` (None: the server's)


class ResourceOptions(TypedDict, total=False):
    """The options of a resource or resource template, besides its URI: what
    `server.resource()`, `server.add_resource()`, `make_resource()` and `make_template()`
    take (this is their one list). `size` is a fixed resource's alone: a template leaves it
    out, as its resources differ."""

    #: The wire `name`; the function's name when left out.
    name: str | None
    #: A human-readable name for a client's UI (server/resources, "Resource").
    title: str | None
    #: Left out, the first paragraph of the function's docstring.
    description: str | None
    #: Shown in the listing, and the default type of text or bytes the function returns.
    mime_type: str | None
    annotations: Annotations | None
    icons: list[Icon] | None
    #: The size in bytes, when known before a read (a fixed resource only).
    size: int | None
    meta: dict[str, Any] | None
    #: OAuth scopes a caller's token needs to see and read it (HTTP with auth).
    scopes: Iterable[str] | None
    tags: Iterable[str] | None
    version: str | None
    #: Pass a template's values as matched, without the path-traversal screen.
    allow_paths: bool
    #: Whether a sync function runs in a worker thread (None: the server's setting).
    sync_in_thread: bool | None


def _name_from(fn: Callable[..., Any], name: str | None) -> str:
    """The wire `name` (required by the spec): the one given, else the function's."""
    return name or fn.__name__


def _labels(where: str, options: ResourceOptions) -> tuple[frozenset[str], str | None]:
    """The checked tags and version (each refused with `where` when malformed)."""
    return tag_set(where, options.get("tags")), version_of(where, options.get("version"))


def _described(
    fn: Callable[..., Any], options: ResourceOptions, labels: tuple[frozenset[str], str | None]
) -> dict[str, Any]:
    """The fields a resource and a resource template share on the wire, from the options
    (`labels`: its tags and version, which go in its `_meta`)."""
    return {
        "name": _name_from(fn, options.get("name")),
        "title": options.get("title"),
        "description": options.get("description") or summary_doc(fn),
        "mime_type": options.get("mime_type"),
        "annotations": options.get("annotations"),
        "icons": options.get("icons"),
        "meta": with_labels(options.get("meta"), *labels),
    }


def make_resource(
    fn: Callable[..., Any], uri: str, **options: Unpack[ResourceOptions]
) -> ResourceSpec:
    """The spec of a resource at `uri`, read by `fn`.

    Raises:
        TypeError: `fn` needs parameters a fixed URI cannot give, or an option belongs to
            templates (`allow_paths`) or is malformed.
    """
    # A template-only option on a fixed resource is refused, not ignored: the user meant
    # something that would never happen.
    if "allow_paths" in options:
        raise TypeError(
            f"resource {uri!r}: allow_paths is for a resource template's values, and a fixed "
            "URI has none"
        )
    own = thread_choice(f"resource {uri!r}", fn, options.get("sync_in_thread"))
    # Dependencies first: the parameters they fill are no longer ones a read must give.
    fn = with_dependencies(fn, f"resource {uri!r}", own)
    ctx_param = context_parameter(fn)
    _refuse_parameters(fn, uri, ctx_param)
    labels = _labels(f"resource {uri!r}", options)
    wire = Resource(uri=uri, size=options.get("size"), **_described(fn, options, labels))
    needed = scope_set(f"resource {uri!r}", options.get("scopes"))
    mime_type = options.get("mime_type")
    is_async = is_async_callable(fn)
    return ResourceSpec(
        uri, fn, wire, ctx_param, is_async, mime_type, needed, *labels, sync_in_thread=own
    )


def _refuse_parameters(fn: Callable[..., Any], uri: str, ctx_param: str | None) -> None:
    """A fixed URI gives a function no values, so one that needs them would fail every read
    (server/resources: values in a URI are what resource templates are for)."""
    needed = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.default is p.empty
        and p.name != ctx_param
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if needed:
        example = uri.rstrip("/") + "".join(f"/{{{name}}}" for name in needed)
        raise TypeError(
            f"resource {uri!r}: {_name_from(fn, None)}() needs the parameters "
            f"{', '.join(needed)}, which a fixed URI cannot give; put them in the URI as a "
            f"template, such as {example!r}, or give them defaults"
        )


def make_template(
    fn: Callable[..., Any], uri_template: str, **options: Unpack[ResourceOptions]
) -> TemplateSpec:
    """The spec of a resource template `uri_template`, read by `fn`.

    Raises:
        ValueError: the template is not valid RFC 6570, or has a form no URI could be
            matched back to (`UriTemplate.check_matchable`).
        TypeError: a parameter of `fn` is not a variable of the template, or an option is
            malformed.
    """
    template = UriTemplate(uri_template)
    template.check_matchable()  # never register a template no read could reach
    where = f"resource template {uri_template!r}"
    own = thread_choice(where, fn, options.get("sync_in_thread"))
    fn = with_dependencies(fn, where, own)
    signature = build_signature(fn, skip=is_context_annotation, coerce=True)  # strings
    params = set(signature.input_schema.get("properties", {}))
    # A parameter the URI never fills would be missing on every read; the reverse, a
    # variable the function does not take, is allowed (it routes but is not passed).
    missing = params - set(template.variables)
    if missing:
        raise TypeError(
            f"resource template {uri_template!r}: parameters {sorted(missing)} of "
            f"{fn.__name__}() are not variables of the template"
        )
    labels = _labels(f"resource template {uri_template!r}", options)
    wire = ResourceTemplate(uri_template=uri_template, **_described(fn, options, labels))
    allow_paths: object = options.get("allow_paths", False)  # (typed, but checked: users)
    if not isinstance(allow_paths, bool):
        raise TypeError(f"resource template {uri_template!r}: allow_paths is True or False")
    return TemplateSpec(
        template,
        fn,
        wire,
        signature,
        context_parameter(fn),
        is_async_callable(fn),
        options.get("mime_type"),
        argument_choices(fn, signature.renamed),
        scope_set(f"resource template {uri_template!r}", options.get("scopes")),
        *labels,
        screen_for(template, allow_paths),
        own,
    )


def not_found(uri: str) -> McpError:
    """The spec's "Resource not found" error, with the URI in `data` as its example has."""
    return McpError(codes.RESOURCE_NOT_FOUND, f"Resource not found: {uri}", {"uri": uri})


async def read_spec(
    spec: ResourceSpec | TemplateSpec,
    uri: str,
    variables: dict[str, str],
    ctx: object,
    in_thread: bool,
) -> list[TextResourceContents | BlobResourceContents]:
    """Call the resource's function and turn its return value into contents (`ctx`, the
    request's Context, goes to its Context parameter as it is); a plain one runs in a worker
    thread if `in_thread`, the server's setting, says so, unless the spec has its own.

    Raises:
        McpError: invalid params for a template value that is screened out or does not
            convert; resource not found for a None value, KeyError or FileNotFoundError.
    """
    kwargs: dict[str, Any] = {}
    if isinstance(spec, TemplateSpec):
        screen_values(spec.screen, uri, variables)  # (before the function sees any)
        # Only what the function takes: validation refuses names it does not know.
        wanted = {
            k: v
            for k, v in variables.items()
            if k in spec.signature.input_schema.get("properties", {})
        }
        try:
            kwargs = spec.signature.validate(wanted)
        except ArgumentError as exc:
            # A value of the wrong type is the caller's URI at fault, so invalid params.
            raise McpError(codes.INVALID_PARAMS, f"Invalid params: {uri}: {exc}") from exc
    if spec.context_param is not None:
        kwargs[spec.context_param] = ctx
    try:
        # An `async def` is awaited here: only a sync one needs the worker pool's call.
        value = await (
            spec.fn(**kwargs)
            if spec.is_async
            else call_handler(
                spec.fn, (), kwargs, is_async=False, in_thread=_where(spec, in_thread)
            )
        )
    except (KeyError, FileNotFoundError) as exc:
        # The usual ways a lookup says "no such thing": answer -32002, not an internal error.
        raise not_found(uri) from exc
    # server/resources: a missing resource MUST NOT be answered with empty contents.
    if value is None:
        raise not_found(uri)
    return contents_list(uri, value, spec.mime_type)


def _where(spec: ResourceSpec | TemplateSpec, in_thread: bool) -> bool:
    """Whether a sync function runs in a worker thread: its own choice, else the server's."""
    return in_thread if spec.sync_in_thread is None else spec.sync_in_thread
