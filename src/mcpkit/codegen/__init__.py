"""Python source generated from a server's tools: a typed client module (`client_module`) and
a standalone command-line script (`cli_script`), each headed by the digests `--check` reads."""

from __future__ import annotations

from mcpkit.codegen._cli_script import cli_script
from mcpkit.codegen._client_module import client_module, is_class_name
from mcpkit.codegen._header import Recorded, differences, read_header

__all__ = [
    "Recorded",
    "cli_script",
    "client_module",
    "differences",
    "is_class_name",
    "read_header",
]
