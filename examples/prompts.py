"""Prompts and completions for their arguments."""

from __future__ import annotations

from enum import Enum

from mcpkit import Server
from mcpkit.types import PromptMessage, TextContent

server = Server("prompts-example", version="1.0.0")


class Language(Enum):
    python = "python"
    rust = "rust"
    go = "go"


@server.prompt(title="Code review")
def review(code: str, language: Language = Language.python) -> str:
    """Ask for a review of some code (a str result is one user message)."""
    return f"Please review this {language.value} code:\n{code}"


@server.prompt()
def debate(topic: str) -> list[PromptMessage]:
    """Several messages, as PromptMessage values."""
    return [
        PromptMessage(role="user", content=TextContent(text=f"Argue for {topic}.")),
        PromptMessage(role="assistant", content=TextContent(text="Certainly. First...")),
        PromptMessage(role="user", content=TextContent(text="Now argue against it.")),
    ]


@server.completion(prompt="debate", argument="topic")
def topics(prefix: str, context: dict[str, str]) -> list[str]:
    """Completions for `topic` (the Language enum of `review` completes by itself)."""
    return [t for t in ("tabs", "spaces", "types", "tests") if t.startswith(prefix)]


if __name__ == "__main__":
    server.run()
