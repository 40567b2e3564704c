"""The one-CPU benchmark's server on mcpkit (bench/one_cpu.py; tools: mix_tools.py)."""

from mix_tools import register

from mcpkit import Server

server = Server("bench", version="1.0.0")
register(server.tool)
