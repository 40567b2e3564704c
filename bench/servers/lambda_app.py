"""The function `bench/lambda_cold_start.py` starts: one tool, served by `lambda_handler()`."""

from mcpkit import Server

server = Server("lambda-bench")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


handler = server.lambda_handler()
