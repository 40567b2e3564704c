"""The one-CPU benchmark's server on FastMCP 4, run in bench/.venv-fastmcp (bench/one_cpu.py;
tools: mix_tools.py)."""

from fastmcp import FastMCP
from mix_tools import register

server = FastMCP("bench", version="1.0.0")
register(server.tool)
