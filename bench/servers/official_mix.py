"""The one-CPU benchmark's server on the official MCP Python SDK (`MCPServer`), run in
bench/.venv-official (bench/one_cpu.py; tools: mix_tools.py)."""

from mcp.server.mcpserver import MCPServer
from mix_tools import register

server = MCPServer("bench", version="1.0.0")
register(server.tool)
