"""Every way the command line fails says so in `error: ` lines on stderr, whatever the verb
and wherever the failure starts (TARGET, connection, the server, the verb itself): the one
prefix docs/cli.md promises, never `Error:` or `mcpkit:`, and no traceback of ours."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from _verbs import SERVER, cli

S = str(SERVER)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/mcp", "http://:80/mcp"])
def test_a_malformed_url_is_one_line_before_any_connection(url: str) -> None:
    ran = cli("list", url)
    assert ran.code == 3, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], ran.err  # one line, no traceback
    assert ran.err.startswith(f"error: {url!r}"), ran.err


@pytest.mark.parametrize("verb", ["list", "proxy"])
def test_a_target_naming_nothing_is_no_session_for_every_verb(verb: str) -> None:
    """docs/cli.md's exit codes: 3, one line, for `proxy` as for the verbs that call."""
    ran = cli(verb, "http//no-colon")
    assert ran.code == 3, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], ran.err
    assert ran.err.startswith("error: 'http//no-colon' is not a file"), ran.err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("path", ["/mcp", "/sse"])
def test_a_refused_connection_is_one_line_naming_the_url_once(path: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}{path}"
    ran = cli("list", url, "--oauth", "off")
    assert ran.code == 3, ran.err
    (line,) = ran.err.splitlines()  # httpx's words in the middle
    assert line.startswith(f"error: cannot reach {url}: "), line
    assert line.endswith(" (is the server running at that URL?)") and line.count(url) == 1


# A server's own log records (`LEVEL logger: ...`, from a child the verb started) and the
# traceback of the user's code are not the command line's words; everything else that
# reports a failure is.
_SERVER_LOG = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
_OTHER_PREFIXES = re.compile(r"(Error|ERROR|mcpkit( [a-z-]+)?):")


def _our_lines(err: str) -> list[str]:
    lines: list[str] = []
    in_traceback = False
    for line in err.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and not line.startswith(" "):
            in_traceback = False  # the exception's own line ends the user's traceback
            continue
        if in_traceback or _SERVER_LOG.match(line) or line.startswith(("  ", "(run '")):
            continue
        lines.append(line)
    return lines


BOOM = "raise RuntimeError('boom at import')\n"
NO_SERVER = "x = 1\n"


def _cases(tmp: Path, busy: int) -> list[tuple[list[str], int]]:
    (tmp / "boom.py").write_text(BOOM)
    (tmp / "plain.py").write_text(NO_SERVER)
    return [
        (["list", "missing_server.py"], 3),
        (["list", "http://[::1"], 3),
        (["list", f"http://127.0.0.1:{_closed_port()}/mcp", "--oauth", "off"], 3),
        (["list", str(tmp / "boom.py")], 3),
        (["list", f"{tmp / 'plain.py'}"], 3),
        (["call", S, "nosuch"], 2),
        (["call", S, "fail"], 1),
        (["call", S, "die"], 4),
        (["read", S, "memo://nope"], 1),
        (["call", S, "picture", "--save-dir", str(tmp / "boom.py" / "in-a-file")], 1),
        (["prompt", S, "nosuch"], 2),
        (["run", str(tmp / "boom.py")], 1),
        (["run", "missing_server.py"], 1),
        (["install", "claude-desktop", "missing_server.py"], 1),
        (["inspect", S, "--web", "--port", str(busy), "--no-browser"], 1),
        (["inspect", "http://[::1", "--web", "--no-browser"], 3),
        (["frobnicate"], 2),
    ]


def test_every_failure_speaks_in_error_lines(tmp_path: Path) -> None:
    """Representative failures of each verb, from each place a failure starts: each says
    `error: ...` in every line of its own, and no other prefix."""
    with socket.socket() as busy:  # a port in use, for the inspector's --port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        failures: list[str] = []
        for words, code in _cases(tmp_path, busy.getsockname()[1]):
            ran = cli(*words)
            ours = _our_lines(ran.err)
            wrong = [line for line in ours if not line.startswith("error: ")]
            prefixed = [line for line in ours if _OTHER_PREFIXES.match(line)]
            if ran.code != code or not ours or wrong or prefixed:
                failures.append(f"mcpkit {' '.join(words)} -> {ran.code}:\n{ran.err}")
    assert failures == [], "\n".join(failures)


def test_a_verb_serving_through_runs_code_has_the_one_prefix_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mcpkit proxy` serves with run's code, whose fatal messages start `mcpkit run: `."""
    import mcpkit.server.serving._http_run as http_run
    from mcpkit.cli.main import main

    def refuse(name: object) -> None:
        raise ValueError("the HTTP parser 'httptools' is not installed")

    monkeypatch.setattr(http_run, "http_implementation", refuse)
    code = main(["proxy", "http://127.0.0.1:8000/mcp", "--transport", "http", "--port", "0"])
    assert (code, capsys.readouterr().err) == (
        1,
        "error: the HTTP parser 'httptools' is not installed\n",
    )
