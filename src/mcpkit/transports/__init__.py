"""I/O adapters that implement `mcpkit.runtime.channel.MessageChannel`."""
