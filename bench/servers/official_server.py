"""The benchmark server on the official MCP Python SDK (mcp 2.x high-level API, `MCPServer`),
written with plain `def` functions as users mostly write them. Runs in bench/.venv-official.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("bench", version="1.0.0")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers (structured output)."""
    return a + b


@server.resource("bench://info", mime_type="text/plain")
def info() -> str:
    """A fixed text resource."""
    return "benchmark server"


@server.prompt()
def greet(name: str) -> str:
    """Greet someone by name."""
    return f"Hello {name}"


if __name__ == "__main__":
    server.run()
