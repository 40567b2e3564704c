"""mcpkit's version: the one place it is written (pyproject.toml reads it from here, hatch's
`[tool.hatch.version]`), and what a server without `version=` sends as its own."""

__all__ = ["__version__"]

__version__ = "0.1.0"
