"""Prompts: specs built from functions, and rendering them into messages (server/prompts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack, cast

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.content import CONTENT_TYPES
from mcpkit.server.catalog.injection import with_dependencies
from mcpkit.server.catalog.invoke import argument_choices, context_parameter, is_context_annotation
from mcpkit.server.catalog.registration_checks import scope_set, thread_choice
from mcpkit.server.catalog.tags import tag_set, version_of, with_labels
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.server.schemas.signature import ArgumentError, FunctionSignature, build_signature
from mcpkit.types import GetPromptResult, Icon, Prompt, PromptArgument, PromptMessage, TextContent

__all__ = ["PromptOptions", "PromptSpec", "make_prompt", "render_prompt"]


@dataclass(slots=True)
class PromptSpec:
    name: str
    fn: Callable[..., Any]
    wire: Prompt
    signature: FunctionSignature
    context_param: str | None
    is_async: bool
    choices: dict[str, list[str]]
    scopes: frozenset[str] = frozenset()  # what a caller's token needs (HTTP with auth)
    tags: frozenset[str] = frozenset()  # its `tags=` (also in `wire.meta`, `catalog.tags`)
    version: str | None = None
    sync_in_thread: bool | None = None  # its own `sync_in_thread=` (None: the server's)


class PromptOptions(TypedDict, total=False):
    """The options of a prompt, besides its name: what `server.prompt()`,
    `server.add_prompt()` and `make_prompt()` take (this is their one list)."""

    title: str | None
    description: str | None
    icons: list[Icon] | None
    meta: dict[str, Any] | None
    scopes: Iterable[str] | None
    tags: Iterable[str] | None
    version: str | None
    sync_in_thread: bool | None


def make_prompt(
    fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[PromptOptions]
) -> PromptSpec:
    where = f"prompt {name or fn.__name__!r}"
    own = thread_choice(where, fn, options.get("sync_in_thread"))
    fn = with_dependencies(fn, where, own)
    signature = build_signature(fn, skip=is_context_annotation, coerce=True)  # strings
    schema = signature.input_schema
    required = set(schema.get("required", []))
    arguments = [
        PromptArgument(name=arg, description=prop.get("description"), required=arg in required)
        for arg, prop in schema.get("properties", {}).items()
    ]
    prompt_name = name or fn.__name__
    tags = tag_set(f"prompt {prompt_name!r}", options.get("tags"))
    version = version_of(f"prompt {prompt_name!r}", options.get("version"))
    wire = Prompt(
        name=prompt_name,
        title=options.get("title"),
        description=options.get("description") or summary_doc(fn),
        arguments=arguments or None,
        icons=options.get("icons"),
        meta=with_labels(options.get("meta"), tags, version),
    )
    return PromptSpec(
        wire.name,
        fn,
        wire,
        signature,
        context_parameter(fn),
        is_async_callable(fn),
        argument_choices(fn, signature.renamed),
        scope_set(f"prompt {wire.name!r}", options.get("scopes")),
        tags,
        version,
        own,
    )


async def render_prompt(
    spec: PromptSpec, arguments: dict[str, str] | None, ctx: object, in_thread: bool
) -> GetPromptResult:
    try:
        kwargs = spec.signature.validate(dict(arguments or {}))
    except ArgumentError as exc:
        raise McpError(
            codes.INVALID_PARAMS, f"Invalid arguments for prompt {spec.name!r}: {exc}"
        ) from exc
    if spec.context_param is not None:
        kwargs[spec.context_param] = ctx
    # An `async def` is awaited here: only a sync one needs the worker pool's call.
    value = await (
        spec.fn(**kwargs)
        if spec.is_async
        else call_handler(
            spec.fn,
            (),
            kwargs,
            is_async=False,
            in_thread=in_thread if spec.sync_in_thread is None else spec.sync_in_thread,
        )
    )
    return to_prompt_result(spec, value)


def _message(item: Any) -> PromptMessage:
    if isinstance(item, PromptMessage):
        return item
    if isinstance(item, str):
        return PromptMessage(role="user", content=TextContent(text=item))
    if isinstance(item, CONTENT_TYPES):
        return PromptMessage(role="user", content=item)
    fields = _as_dict(item)
    if fields is not None and "role" in fields and "content" in fields:
        content = fields["content"]
        if isinstance(content, str):
            content = TextContent(text=content)
        return PromptMessage(role=fields["role"], content=content)
    raise TypeError(
        f"a prompt returned {type(item).__name__}; return str, PromptMessage, "
        "content, a {'role', 'content'} dict, a list of these, or GetPromptResult"
    )


def _as_dict(value: object) -> dict[str, Any] | None:
    # Through a cast: pyright leaves a dict's keys and values unknown where mypy makes them Any.
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def to_prompt_result(spec: PromptSpec, value: Any) -> GetPromptResult:
    if isinstance(value, GetPromptResult):
        return value
    # A list or tuple gives one message per item (a list of content blocks too); anything
    # else, one message.
    items = cast("Sequence[Any]", value) if isinstance(value, (list, tuple)) else [value]
    return GetPromptResult(messages=[_message(i) for i in items], description=spec.wire.description)
