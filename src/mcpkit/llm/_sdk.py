"""The providers' SDKs, imported only when used, with the extra to install when missing; and
each SDK's default async client, made from it when the caller gives none."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, TypeVar

__all__ = ["ANTHROPIC", "GEMINI", "OPENAI", "Sdk", "require"]

C = TypeVar("C")


def require(module: str, package: str, extra: str) -> ModuleType:
    """`module`, or an ImportError that names the `package` and the mcpkit extra with it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this needs the {package} package: pip install 'mcpkit[{extra}]'"
        ) from exc


@dataclass(frozen=True, slots=True)
class Sdk:
    """One provider's SDK: its `module`, the `package` that brings it, the mcpkit `extra` with
    that package, and the `factory` of its async client (which reads its key from the
    environment, as each SDK documents)."""

    module: str
    package: str
    extra: str
    factory: str

    def client(self, given: C | None) -> C:
        """`given`, or a new client of the SDK's defaults."""
        if given is not None:
            return given
        sdk: Any = require(self.module, self.package, self.extra)
        made: C = getattr(sdk, self.factory)()
        return made


ANTHROPIC: Final = Sdk("anthropic", "anthropic", "anthropic", "AsyncAnthropic")
OPENAI: Final = Sdk("openai", "openai", "openai", "AsyncOpenAI")
GEMINI: Final = Sdk("google.genai", "google-genai", "gemini", "Client")
