"""A FastMCP 4 server whose tools carry tags and a version (FastMCP sends them in each tool's
`_meta.fastmcp`), for test_fastmcp_config_interop.py; served over stdio."""

from __future__ import annotations

from fastmcp import FastMCP

mcp = FastMCP("fastmcp-tagged")


@mcp.tool(tags={"safe"}, version="2")
def read(path: str) -> str:
    """Read a file (pretend)."""
    return f"read {path}"


@mcp.tool(tags={"safe", "admin"})
def write(path: str) -> str:
    """Write a file (pretend)."""
    return f"wrote {path}"


@mcp.tool()
def plain() -> str:
    """A tool without tags."""
    return "plain"


if __name__ == "__main__":
    mcp.run(show_banner=False)
