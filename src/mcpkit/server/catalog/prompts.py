"""Prompts: specs built from functions, and rendering them into messages (server/prompts).

A prompt's arguments are its function's parameters. server/prompts gives every argument as
a string, so each is converted to its parameter's type on the way in (`coerce`), and a
value that does not convert is the caller's fault: invalid params, naming the prompt. What
the function returns becomes the `messages` of a `GetPromptResult`; a value of no shape a
message can take is the server author's mistake, raised as TypeError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack, cast

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.runtime.workers import call_handler, is_async_callable
from mcpkit.server.catalog.calling.content import CONTENT_TYPES
from mcpkit.server.catalog.calling.injection import with_dependencies
from mcpkit.server.catalog.calling.invoke import (
    argument_choices,
    context_parameter,
    is_context_annotation,
)
from mcpkit.server.catalog.registration_checks import scope_set, thread_choice
from mcpkit.server.catalog.visibility.tags import tag_set, version_of, with_labels
from mcpkit.server.schemas._docstrings import summary_doc
from mcpkit.server.schemas.argument_messages import ArgumentError
from mcpkit.server.schemas.signature import FunctionSignature, build_signature
from mcpkit.types import GetPromptResult, Icon, Prompt, PromptArgument, PromptMessage, TextContent

__all__ = ["PromptOptions", "PromptSpec", "make_prompt", "render_prompt"]


@dataclass(slots=True)
class PromptSpec:
    """A prompt as registered: its function, its wire `Prompt` for prompts/list, and what
    prompts/get needs to call it (the signature that converts arguments, where the Context
    goes, sync or async). `choices` are the values an argument allows, for completion."""

    name: str
    fn: Callable[..., Any]
    wire: Prompt
    signature: FunctionSignature
    context_param: str | None
    is_async: bool
    choices: dict[str, list[str]]
    scopes: frozenset[str] = frozenset()  # what a caller's token needs (HTTP with auth)
    tags: frozenset[str] = frozenset()  # its `tags=` (also in `wire.meta`: `visibility.tags`)
    version: str | None = None
    sync_in_thread: bool | None = None  # its own `sync_in_thread=` (None: the server's)


class PromptOptions(TypedDict, total=False):
    """The options of a prompt, besides its name: what `server.prompt()`,
    `server.add_prompt()` and `make_prompt()` take (this is their one list)."""

    #: A human-readable name for a client's UI.
    title: str | None
    #: Left out, the first paragraph of the function's docstring.
    description: str | None
    icons: list[Icon] | None
    meta: dict[str, Any] | None
    #: OAuth scopes a caller's token needs to see and get it (HTTP with auth).
    scopes: Iterable[str] | None
    tags: Iterable[str] | None
    version: str | None
    #: Whether a sync function runs in a worker thread (None: the server's setting).
    sync_in_thread: bool | None


def make_prompt(
    fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[PromptOptions]
) -> PromptSpec:
    """The spec of a prompt read by `fn`, named `name` or after the function.

    Raises TypeError or ValueError, naming the prompt, for a malformed option (tags,
    version, scopes, sync_in_thread).
    """
    where = f"prompt {name or fn.__name__!r}"
    own = thread_choice(where, fn, options.get("sync_in_thread"))
    # Dependencies first: the parameters they fill are not arguments a client gives.
    fn = with_dependencies(fn, where, own)
    signature = build_signature(fn, skip=is_context_annotation, coerce=True)  # strings
    schema = signature.input_schema
    required = set(schema.get("required", []))
    # A prompt's arguments are names and descriptions only (server/prompts, "PromptArgument"):
    # the types stay in the signature, which converts what a client sends.
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
        arguments=arguments or None,  # left out, not `[]`, for a prompt that takes none
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
    """Call the prompt's function with `arguments` and turn its value into messages.

    `ctx` is the request's Context, given to the Context parameter as it is; a sync function
    runs in a worker thread if its own choice, else `in_thread` (the server's), says so.
    Raises McpError (invalid params) for arguments the signature refuses.
    """
    try:
        kwargs = spec.signature.validate(dict(arguments or {}))
    except ArgumentError as exc:
        # A protocol error, where a tool's would be an error result: a prompt's result has
        # no way to say it failed (server/prompts, "Error Handling": -32602).
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
    """One returned item as a message. Text and bare content are the user's: a prompt is
    most often the user's request, templated; another role is asked for with a
    PromptMessage or a `{"role", "content"}` dict."""
    if isinstance(item, PromptMessage):
        return item
    if isinstance(item, str):
        return PromptMessage(role="user", content=TextContent(text=item))
    if isinstance(item, CONTENT_TYPES):
        return PromptMessage(role="user", content=item)
    fields = _as_dict(item)
    if fields is not None and "role" in fields and "content" in fields:
        content = fields["content"]
        # Plain text is the common case in such a dict; any other content goes as it is.
        if isinstance(content, str):
            content = TextContent(text=content)
        return PromptMessage(role=fields["role"], content=content)
    # A bug of the server's code, not of the request: raised, so it is not hidden as
    # an odd message the model would read.
    raise TypeError(
        f"a prompt returned {type(item).__name__}; return str, PromptMessage, "
        "content, a {'role', 'content'} dict, a list of these, or GetPromptResult"
    )


def _as_dict(value: object) -> dict[str, Any] | None:
    # Through a cast: pyright leaves a dict's keys and values unknown where mypy makes them Any.
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def to_prompt_result(spec: PromptSpec, value: Any) -> GetPromptResult:
    """`value`, a prompt function's return, as the result of prompts/get; a whole
    `GetPromptResult` is taken as it is, its description the function's own."""
    if isinstance(value, GetPromptResult):
        return value
    # A list or tuple gives one message per item (a list of content blocks too); anything
    # else, one message.
    items = cast("Sequence[Any]", value) if isinstance(value, (list, tuple)) else [value]
    # The result repeats the prompt's description, as server/prompts' example does.
    return GetPromptResult(messages=[_message(i) for i in items], description=spec.wire.description)
