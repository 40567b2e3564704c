"""The benchmark server on mcpkit, written with plain `def` functions as users mostly write them."""

from mcpkit import Server

server = Server("bench", version="1.0.0")


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
