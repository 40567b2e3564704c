"""Mcp-Name on the tasks extension's methods names the task (SEP-2663, "Streamable HTTP:
Routing Headers"): checked against params.taskId like tools/call's against params.name."""

from __future__ import annotations

import msgspec
import pytest

from mcpkit.protocol import codes
from mcpkit.transports.http.mirrored import mirror_problem, read_mirrored


def body(method: str, task_id: str) -> bytes:
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"taskId": task_id}}
    )


@pytest.mark.parametrize("method", ["tasks/get", "tasks/update", "tasks/cancel"])
def test_mcp_name_must_be_the_task_id(method: str) -> None:
    found = read_mirrored(body(method, "t-1"))
    assert found is not None
    matching = [(b"mcp-method", method.encode()), (b"mcp-name", b" t-1 ")]
    assert mirror_problem(matching, found) is None
    wrong = mirror_problem([(b"mcp-method", method.encode()), (b"mcp-name", b"t-2")], found)
    assert wrong is not None and wrong.code == codes.HEADER_MISMATCH
    assert "params.taskId" in wrong.message
    missing = mirror_problem([(b"mcp-method", method.encode())], found)
    assert missing is not None and missing.code == codes.HEADER_MISMATCH
