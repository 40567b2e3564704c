"""The providers' SDKs, imported only when used, with the extra to install when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, package: str, extra: str) -> ModuleType:
    """`module`, or an ImportError that names the `package` and the mcpkit extra with it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this needs the {package} package: pip install 'mcpkit[{extra}]'"
        ) from exc
