"""The `mcpkit` command."""
