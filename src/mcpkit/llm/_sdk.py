"""The providers' SDKs, imported only when used, with the extra to install when missing; and
each SDK's default async client, made from it when the caller gives none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, TypeVar

from mcpkit._extras import import_extra

__all__ = ["ANTHROPIC", "GEMINI", "OPENAI", "Sdk"]

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Sdk:
    """One provider's SDK: its `module`, the mcpkit `extra` that installs it, and the
    `factory` of its async client (which reads its key from the environment, as each SDK
    documents)."""

    module: str
    extra: str
    factory: str

    def client(self, given: C | None) -> C:
        """`given`, or a new client of the SDK's defaults."""
        if given is not None:
            return given
        sdk: Any = import_extra(self.module, self.extra)
        made: C = getattr(sdk, self.factory)()
        return made


ANTHROPIC: Final = Sdk("anthropic", "anthropic", "AsyncAnthropic")
OPENAI: Final = Sdk("openai", "openai", "AsyncOpenAI")
GEMINI: Final = Sdk("google.genai", "gemini", "Client")
