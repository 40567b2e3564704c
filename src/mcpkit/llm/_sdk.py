"""The providers' SDKs, imported only when used, with the extra to install when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this needs the {module.split('.')[0]} package: pip install 'mcpkit[{extra}]'"
        ) from exc
