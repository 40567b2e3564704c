"""Test support: mcpkit's own pytest plugin runs the `async def` tests (each in a fresh event
loop, bounded at 30 s: the plugin's default), and pytester tests the plugin itself."""

from __future__ import annotations

import importlib.metadata
import os


def _plugin_comes_from_the_entry_point() -> bool:
    """Whether pytest already loads mcpkit's plugin (an install that declares `pytest11`);
    loading it twice under two names is an error."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(
        ep.value == "mcpkit.testing._pytest"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


pytest_plugins = ["pytester"]
if not _plugin_comes_from_the_entry_point():
    pytest_plugins.append("mcpkit.testing._pytest")
