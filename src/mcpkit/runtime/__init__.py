"""The asyncio driver that pumps a protocol session over a message channel."""
