"""While `mcpkit call` runs: progress and logs on stderr, the server's questions (elicitation,
sampling) answered on a terminal (a pty here) or refused, roots offered, and Ctrl+C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from _processes import interruptible
from _verbs import REPO, SERVER, WAIT, cli, cli_env

S = str(SERVER)


def on_a_terminal(*args: str, typed: str) -> tuple[int, str, str]:
    """`mcpkit ARGS` with a pty as stdin (as a person's terminal) and `typed` typed into it;
    stdout and stderr stay pipes."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpkit", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            cwd=REPO,
        )
        os.close(slave)
        os.write(master, typed.encode())
        out, err = proc.communicate(timeout=WAIT)
    finally:
        os.close(master)
    return proc.returncode, out, err


def test_progress_and_logs_are_shown_on_stderr_as_they_come() -> None:
    ran = cli("call", S, "chatty", "--log-level", "info")
    assert (ran.code, ran.out) == (0, "done\n")
    # progress is handled inline, logs by a callback task of the client: their order may differ
    lines = ran.err.splitlines()
    assert lines.index("progress 1/2: half") < lines.index("progress 2/2: all")
    assert "[info] step one" in lines


def test_with_no_input_elicitation_is_declined_and_sampling_refused() -> None:
    book = cli("call", S, "book", "--no-input")
    assert (book.code, book.out) == (0, "no booking (decline)\n")
    assert "refused (--no-input)" in book.err
    link = cli("call", S, "link", "--no-input")
    assert link.out == "link: decline\n"
    sample = cli("call", S, "ask_model", "--no-input")
    assert sample.code == 1  # the tool turned the refused sampling into an error result
    assert "does not answer sampling" in sample.err
    assert "the server answered" not in sample.err  # the refusal was the command line's


def test_without_a_terminal_the_questions_are_refused_and_it_says_why() -> None:
    ran = cli("call", S, "book", stdin="y\nBo\n")
    assert ran.out == "no booking (decline)\n"
    assert "refused, as stdin is not a terminal" in ran.err


def test_an_elicitation_form_is_answered_field_by_field_on_a_terminal() -> None:
    # accept; name; seats: a wrong type is asked again; seating: one of its choices
    code, out, err = on_a_terminal("call", S, "book", typed="y\nBo\nmany\n3\noutdoor\n")
    assert (code, out) == (0, "booked 3 outdoor seats for Bo\n"), err
    assert "The server asks: Who is the booking for?" in err
    assert "seats (integer, default 2)" in err
    assert "argument 'seats' must be integer; 'many' is not" in err
    assert "seating (string, one of indoor, outdoor, default indoor)" in err


def test_defaults_decline_and_cancel_on_a_terminal() -> None:
    assert on_a_terminal("call", S, "book", typed="y\nAl\n\n\n")[1] == (
        "booked 2 indoor seats for Al\n"
    )
    assert on_a_terminal("call", S, "book", typed="n\n")[1] == "no booking (decline)\n"
    assert on_a_terminal("call", S, "book", typed="c\n")[1] == "no booking (cancel)\n"


def test_url_elicitation_prints_the_url_and_asks_to_confirm() -> None:
    code, out, err = on_a_terminal("call", S, "link", typed="y\n")
    assert (code, out) == (0, "link: accept\n")
    assert "open: https://example.com/link" in err


def test_sampling_shows_the_messages_and_sends_the_typed_reply() -> None:
    code, out, err = on_a_terminal("call", S, "ask_model", typed="Hello there\n")
    assert (code, out) == (0, "model said: Hello there\n"), err
    assert "user: Say hello" in err


def test_roots_are_offered(tmp_path: Path) -> None:
    ran = cli("call", S, "roots", "--root", str(tmp_path), "--json")
    assert ran.code == 0, ran.err
    assert '"file://' + str(tmp_path) in ran.out


async def test_ctrl_c_cancels_the_call_stops_the_server_and_exits_130(tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcpkit", "call", S, "slow",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env({"VERBS_MARKER": str(marker)}),
        cwd=REPO,
        preexec_fn=interruptible,
    )  # fmt: skip
    assert proc.stderr is not None and proc.stdout is not None
    try:
        async with asyncio.timeout(WAIT):
            seen = b""
            while b"progress 0/1: started" not in seen:  # the tool is running
                line = await proc.stderr.readline()
                assert line, seen
                seen += line
            proc.send_signal(signal.SIGINT)
            rest = await proc.stderr.read()
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    err = (seen + rest).decode()
    assert code == 130
    assert "error: interrupted" in err
    assert "Traceback" not in err
    assert marker.read_text() == "cancelled"  # the server saw the cancellation


NUMBERS = str(REPO / "tests" / "cli" / "servers" / "numbers_server.py")


def test_a_float_field_takes_its_default_and_typed_fractions() -> None:
    # Enter accepts the server's default of 1.5 (a float), and 2.5 typed is a float too
    code, out, err = on_a_terminal("call", NUMBERS, "weigh", typed="y\n\n\n")
    assert (code, out) == (0, "2 parcels of 1.5 kg\n"), err
    code, out, err = on_a_terminal("call", NUMBERS, "weigh", typed="y\n2.5\n3.0\n")
    assert (code, out) == (0, "3 parcels of 2.5 kg\n"), err  # 3.0 fits an integer


def test_an_unrecognised_answer_to_the_form_question_is_asked_again() -> None:
    # a bare Enter or a typo decides nothing; the question comes again
    code, out, err = on_a_terminal("call", NUMBERS, "weigh", typed="\nsure\nx\nn\n")
    assert (code, out) == (0, "nothing weighed (decline)\n"), err
    assert err.count("Answer? [y]es") == 4
    assert "answer with one of 'y', 'n', 'c'" in err


def test_an_empty_default_is_shown_as_an_empty_string() -> None:
    # the note's default is "": it was asked as `note (string, default ): `
    defaults = str(REPO / "tests" / "cli" / "servers" / "defaults_server.py")
    code, out, err = on_a_terminal("call", defaults, "sign", typed="y\nAda\n\n")
    assert (code, out) == (0, "Ada wrote ''\n"), err
    assert 'note (string, default ""): ' in err
