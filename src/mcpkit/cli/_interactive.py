"""Answering the server's sampling and elicitation requests on the terminal: each form field
asked with its type, choices and default; refused when there is nobody to ask (`--no-input`,
or stdin is not a terminal)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcpkit.cli._args import UsageError, as_list, as_object, convert, shown_value
from mcpkit.server.schemas._coercion import integral_floats_as_ints
from mcpkit.types import TextContent

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.types import CreateMessageRequestParams, ElicitRequestParams

__all__ = ["Asker"]

# spec client/sampling: the example error a client returns when the user rejects a request
_USER_REJECTED = -1


class Asker:
    """The sampling and elicitation handlers of the command line's client."""

    def __init__(self, ui: Terminal, *, no_input: bool, listing: str | None = None) -> None:
        self.ui = ui
        self.no_input = no_input
        #: The verb that only lists (`mcpkit list`): it declares every client feature, so a
        #: server shows all it offers to a capable client, and refuses each request it gets.
        self.listing = listing

    def _refusal(self, what: str) -> str | None:
        """Why `what` cannot be asked, or None when a person is there to answer."""
        if self.listing is not None:
            return f"the server asked for {what}; refused ({self.listing} only lists)"
        if self.no_input:
            return f"the server asked for {what}; refused (--no-input)"
        if not sys.stdin.isatty():
            return f"the server asked for {what}; refused, as stdin is not a terminal"
        return None

    async def sample(self, params: CreateMessageRequestParams) -> dict[str, Any]:
        """sampling/createMessage: the messages shown, the reply typed by the user."""
        from mcpkit.errors import McpError

        refusal = self._refusal("a model reply (sampling)")
        if refusal is not None:
            self.ui.note(refusal)
            raise McpError(_USER_REJECTED, "the user's command line does not answer sampling")
        self.ui.stop_progress()
        self.ui.note("The server asks for a model reply (sampling) to:")
        if params.system_prompt:
            self.ui.note(f"  system: {params.system_prompt}")
        for message in params.messages:
            blocks = message.content if isinstance(message.content, list) else [message.content]
            for block in blocks:
                text = block.text if isinstance(block, TextContent) else f"[{block.type}]"
                self.ui.note(f"  {message.role}: {text}")
        reply = await _ask("Your reply (an empty line refuses): ")
        if not reply:
            raise McpError(_USER_REJECTED, "the user declined to answer the sampling request")
        return {
            "role": "assistant",
            "content": {"type": "text", "text": reply},
            "model": "mcpkit-cli-user",
            "stopReason": "endTurn",
        }

    async def elicit(self, params: ElicitRequestParams) -> dict[str, Any]:
        """elicitation/create, form mode: each field asked in turn."""
        refusal = self._refusal("input (elicitation)")
        if refusal is not None:
            self.ui.note(refusal)
            return {"action": "decline"}
        self.ui.stop_progress()
        self.ui.note(f"The server asks: {params.message}")
        choice = await _choose("Answer? [y]es, [n]o (decline), [c]ancel: ", "ync")
        if choice in (None, "c"):
            return {"action": "cancel"}
        if choice == "n":
            return {"action": "decline"}
        schema = params.requested_schema or {}
        required = set(as_list(schema.get("required")))
        content: dict[str, Any] = {}
        for name, prop in as_object(schema.get("properties")).items():
            value = await _field(name, as_object(prop), name in required)
            if value is _CANCEL:
                return {"action": "cancel"}
            if value is not _SKIP:
                content[name] = value
        return {"action": "accept", "content": content}

    async def elicit_url(self, params: ElicitRequestParams) -> dict[str, Any]:
        """elicitation/create, URL mode: the URL printed, the user confirms (never opened for
        them: the spec asks clients to show the full URL and get consent first)."""
        refusal = self._refusal("a visit to a URL (elicitation)")
        if refusal is not None:
            self.ui.note(refusal)
            return {"action": "decline"}
        self.ui.stop_progress()
        self.ui.note(f"The server asks: {params.message}")
        self.ui.note(f"  open: {params.url}")
        answer = await _ask("Done (or will do)? [y/N]: ")
        return {"action": "accept" if answer and answer.lower().startswith("y") else "decline"}


_SKIP = object()
_CANCEL = object()


async def _field(name: str, prop: Mapping[str, Any], required: bool) -> Any:
    """One form field, asked until the answer fits its type (EOF cancels the form)."""
    choices = _choices(prop)
    kind = prop.get("type", "string")
    hint = f"{kind}" + (f", one of {', '.join(choices)}" if choices else "")
    if prop.get("type") == "array":
        hint = "comma-separated" + (f", of {', '.join(choices)}" if choices else "")
    default = prop.get("default")
    if default is not None:
        hint += f", default {shown_value(default)}"
    elif not required:
        hint += ", optional"
    label = prop.get("title") or name
    description = f" - {prop['description']}" if prop.get("description") else ""
    while True:
        answer = await _ask(f"  {label}{description} ({hint}): ")
        if answer is None:
            return _CANCEL
        if not answer:
            if default is not None:
                # an integer field's default of 2.0 is the int 2, as a typed 2.0 is
                return integral_floats_as_ints(default) if kind == "integer" else default
            if not required:
                return _SKIP
            sys.stderr.write(f"  {label} is required\n")
            continue
        try:
            return _value(name, answer, prop, choices)
        except UsageError as exc:
            sys.stderr.write(f"  {exc}\n")


def _value(name: str, answer: str, prop: Mapping[str, Any], choices: list[str]) -> Any:
    if prop.get("type") == "array":
        items = [item.strip() for item in answer.split(",") if item.strip()]
        bad = [item for item in items if choices and item not in choices]
        if bad:
            raise UsageError(f"{', '.join(bad)} is not one of {', '.join(choices)}")
        return items
    if choices and answer not in choices:
        raise UsageError(f"{answer!r} is not one of {', '.join(choices)}")
    return convert(name, answer, prop)


def _choices(prop: Mapping[str, Any]) -> list[str]:
    """The allowed values of an enum field: `enum`, titled `oneOf` consts, or the same on an
    array's `items` (spec client/elicitation, "Supported schema types")."""
    source = as_object(prop.get("items")) if prop.get("type") == "array" else prop
    if isinstance(source.get("enum"), list):
        return [str(v) for v in as_list(source["enum"])]
    titled = (as_object(c) for c in as_list(source.get("oneOf") or source.get("anyOf")))
    return [str(c["const"]) for c in titled if "const" in c]


async def _choose(prompt: str, letters: str) -> str | None:
    """The letter of `letters` the answer starts with, asked again on anything else (a bare
    Enter or a typo decides nothing); None at the end of stdin."""
    while True:
        answer = await _ask(prompt)
        if answer is None:
            return None
        first = answer.strip()[:1].lower()
        if first and first in letters:
            return first
        options = ", ".join(repr(letter) for letter in letters)
        sys.stderr.write(f"  answer with one of {options}\n")


async def _ask(prompt: str) -> str | None:
    """One line from stdin (None at its end), read in a daemon thread: a blocked read must
    not keep the process alive after Ctrl+C."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        line = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (Ctrl+C)
            loop.call_soon_threadsafe(_settle, answer, line)

    threading.Thread(target=read, daemon=True, name="mcpkit-cli-input").start()
    line = await answer
    return line.rstrip("\n") if line else None


def _settle(future: asyncio.Future[str], line: str) -> None:
    if not future.done():
        future.set_result(line)
