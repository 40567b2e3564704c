"""The Lambda handler tests' helpers importable by name, and their `handler` fixture: the test
server's `lambda_handler()`, closed after the test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _lambda_server import make_server  # noqa: E402 (after the path it is found on)

from mcpkit.serverless import LambdaHandler  # noqa: E402


@pytest.fixture
def handler() -> Iterator[LambdaHandler]:
    made = make_server().lambda_handler()
    try:
        yield made
    finally:
        made.close()
