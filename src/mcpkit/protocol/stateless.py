"""`CachePolicy` where docs/eras.md named it until the module was named for what it holds
(`mcpkit.protocol.own_terms`): user code that followed those docs keeps importing. Its
documented home is now `mcpkit.server`, beside the `Server(cache=...)` it configures."""

from mcpkit.protocol.own_terms import CachePolicy

__all__ = ["CachePolicy"]
