"""Every error the command line prints starts `error: `, and a usage error is its one line
and a pointer to the verb's --help (as git's and cargo's), not a usage block before it."""

from __future__ import annotations

import pytest
from _verbs import SERVER, cli

S = str(SERVER)

USAGE_ERRORS = {
    ("call", S): ("the tool's name is missing: mcpkit call TARGET TOOL key=value ...", "call"),
    ("call", "--bogus", S, "add"): ("unrecognized arguments: --bogus", "call"),
    ("list", S, "--nope"): ("unrecognized arguments: --nope", "list"),
    ("call", S, "add", "a=x", "b=1"): ("argument 'a' must be integer; 'x' is not", "call"),
    ("run", S, "--port", "80"): ("--port is an option of --transport http", "run"),
    ("run", S, "--store", "ftp://x"): ("--store: unknown store 'ftp://x': use one of", "run"),
    ("run", S, "--store", "sqlite:///s.db?lease=0"): ("--store: lease='0' must be", "run"),
    ("frobnicate",): ("argument COMMAND: invalid choice: 'frobnicate'", ""),
}


@pytest.mark.parametrize("words", list(USAGE_ERRORS))
def test_a_usage_error_is_one_line_and_a_pointer_to_help(words: tuple[str, ...]) -> None:
    message, verb = USAGE_ERRORS[words]
    ran = cli(*words)
    assert (ran.code, ran.out) == (2, ""), ran.err
    first, pointer = ran.err.splitlines()  # nothing else: no usage block
    assert first.startswith(f"error: {message}"), ran.err
    assert pointer == f"(run '{' '.join(['mcpkit', verb]).strip()} --help' for its usage)"


@pytest.mark.parametrize(
    ("words", "code", "says"),
    [
        (("call", "missing_server.py", "add"), 3, "missing_server.py does not exist"),
        (("run", "missing_server.py"), 1, "missing_server.py does not exist"),  # a verb's own
        (("call", S, "fail"), 1, "the tool reported an error"),  # the server logs, then this
    ],
)
def test_every_error_has_the_one_prefix(words: tuple[str, ...], code: int, says: str) -> None:
    ran = cli(*words)
    assert ran.code == code, ran.err
    assert any(line.startswith(f"error: {says}") for line in ran.err.splitlines()), ran.err
    assert "mcpkit: error" not in ran.err and "mcpkit run:" not in ran.err
