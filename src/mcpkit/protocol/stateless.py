"""`CachePolicy` where docs/eras.md named it until the module was named for what it holds
(`mcpkit.protocol.own_terms`): user code that followed those docs keeps importing."""

from mcpkit.protocol.own_terms import CachePolicy

__all__ = ["CachePolicy"]
