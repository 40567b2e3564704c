"""`mcpkit completion bash|zsh|fish`: scripts made from the parser complete its verbs, options,
choices and file names in the real shells; hostile help text cannot break out of them."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcpkit.cli._completion_model import Command
from mcpkit.cli.main import build_parser
from mcpkit.cli.shell_completion import SHELLS, describe, script

REPO = Path(__file__).resolve().parents[2]
ROOT = describe(build_parser())
VERBS = {verb.name: verb for verb in ROOT.verbs}
# Every command the parser has, at any depth, by the verb words that lead to it: the walks
# below cover a verb of verbs added tomorrow as they cover `registry init` today.
COMMANDS = dict(ROOT.walk())
WITH_VERBS = [(path, command) for path, command in COMMANDS.items() if command.verbs]


def typed(path: tuple[str, ...], *words: str) -> str:
    return " ".join(["mcpkit", *path, *words])


def long_flags(command: Command) -> set[str]:
    return {flag for option in command.options for flag in option.flags if flag.startswith("--")}


def shell(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script as the verb prints it, run as a real `mcpkit` command."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "mcpkit", "completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("completion") / "mcpkit.bash"
    path.write_text(done.stdout)
    return path


def bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash makes them: split at blanks, and at = and : (COMP_WORDBREAKS), which
    become words of their own."""
    words = [part for word in line.split() for part in re.split(r"([=:])", word) if part]
    return [*words, ""] if line.endswith((" ", "=", ":")) else words


def complete_bash(path: Path, line: str, cwd: Path | None = None) -> list[str]:
    words = bash_words(line)
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); '
        "_mcpkit_complete; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    out = shell("bash", "-c", program, "bash", str(path), *words, cwd=cwd)
    return [line for line in out.splitlines() if line]


def test_each_verb_completes_from_its_first_letters(bash_script: Path) -> None:
    assert {"run", "install", "completion"} <= set(VERBS)
    for name in VERBS:
        prefix = name[:2]
        expected = sorted(verb for verb in VERBS if verb.startswith(prefix))
        assert sorted(complete_bash(bash_script, f"mcpkit {prefix}")) == expected
    # `mcpkit ca<TAB>`: `call` once that verb is in the parser, and only what starts with ca
    expected = sorted(verb for verb in VERBS if verb.startswith("ca"))
    assert sorted(complete_bash(bash_script, "mcpkit ca")) == expected


def test_the_walk_reaches_the_verbs_of_verbs() -> None:
    assert {(), ("generate",), ("registry",)} <= {path for path, _ in WITH_VERBS}
    assert {("generate", "client"), ("registry", "validate")} <= set(COMMANDS)


def test_each_command_at_any_depth_offers_its_own_verbs(bash_script: Path) -> None:
    for path, command in WITH_VERBS:
        names = [verb.name for verb in command.verbs]
        assert complete_bash(bash_script, typed(path, "")) == names, path
        for verb in command.verbs:
            assert verb.name in complete_bash(bash_script, typed(path, verb.name[:2])), path


def test_each_option_and_each_choice_completes_at_any_depth(bash_script: Path) -> None:
    for path, command in COMMANDS.items():
        flags = [flag for option in command.options for flag in option.flags]
        assert complete_bash(bash_script, typed(path, "-")) == flags, path
        for option in command.options:
            for flag in option.flags:
                assert flag in complete_bash(bash_script, typed(path, flag))
            if option.choices and option.flags[-1].startswith("--"):
                flag = option.flags[-1]
                got = complete_bash(bash_script, typed(path, flag, ""))
                assert got == list(option.choices)
                assert complete_bash(bash_script, typed(path, flag) + "=") == got


def test_each_positional_at_any_depth_completes_as_the_parser_says(
    bash_script: Path, tmp_path: Path
) -> None:
    (tmp_path / "weather.py").write_text("")
    (tmp_path / "web").mkdir()
    files = ["weather.py", "web"]
    for path, command in COMMANDS.items():
        if command.verbs:
            continue
        before: list[str] = []
        for positional in command.positionals:
            got = complete_bash(bash_script, typed(path, *before, ""), cwd=tmp_path)
            expected = list(positional.choices) or (files if positional.files else [])
            assert sorted(got) == sorted(expected), (path, positional)
            before.append(positional.choices[0] if positional.choices else "weather.py")
        if not any(positional.variadic for positional in command.positionals):
            # past the last positional nothing more is offered
            assert complete_bash(bash_script, typed(path, *before, ""), cwd=tmp_path) == []


def test_verbs_of_verbs_complete_with_their_own_options_and_arguments(
    bash_script: Path, tmp_path: Path
) -> None:
    (tmp_path / "weather.py").write_text("")
    assert complete_bash(bash_script, "mcpkit registry ") == ["init", "validate"]
    assert complete_bash(bash_script, "mcpkit registry v") == ["validate"]
    assert complete_bash(bash_script, "mcpkit registry validate --") == ["--help"]
    assert complete_bash(bash_script, "mcpkit registry validate we", cwd=tmp_path) == ["weather.py"]
    assert complete_bash(bash_script, "mcpkit registry init --re") == ["--readme"]
    assert complete_bash(bash_script, "mcpkit generate ") == ["client", "cli"]
    # `generate client TARGET`: a file first, then nothing; `-o FILE` a file, wherever it stands
    assert complete_bash(bash_script, "mcpkit generate client we", cwd=tmp_path) == ["weather.py"]
    assert complete_bash(bash_script, "mcpkit generate client weather.py ", cwd=tmp_path) == []
    got = complete_bash(bash_script, "mcpkit generate client weather.py -o we", cwd=tmp_path)
    assert got == ["weather.py"]
    assert complete_bash(bash_script, "mcpkit generate client --cl") == ["--class-name"]
    assert complete_bash(bash_script, "mcpkit generate cli --cl") == []  # a script has no class
    assert complete_bash(bash_script, "mcpkit generate cli --protocol=2026") == ["2026-07-28"]


def test_positionals_complete_choices_then_files(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text("")
    (tmp_path / "web").mkdir()
    assert complete_bash(bash_script, "mcpkit install cl") == ["claude-desktop", "claude-code"]
    got = complete_bash(bash_script, "mcpkit install --env A=b cursor we", cwd=tmp_path)
    assert sorted(got) == ["weather.py", "web"]
    assert sorted(complete_bash(bash_script, "mcpkit run w", cwd=tmp_path)) == ["weather.py", "web"]
    # past FILE.py:object, options still complete, and no third positional is offered
    assert complete_bash(bash_script, "mcpkit install cursor weather.py:server --sc") == ["--scope"]
    assert complete_bash(bash_script, "mcpkit install cursor weather.py:server x") == []
    assert complete_bash(bash_script, "mcpkit completion ") == ["bash", "zsh", "fish"]
    assert complete_bash(bash_script, "mcpkit run --path ") == []  # a URL path, not a file


def hostile_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpkit")
    verbs = parser.add_subparsers()
    evil = verbs.add_parser("ev'il", description="never listed")
    good = verbs.add_parser("good", description="it's $(touch pwned) `touch pwned` [x]: 'q' \\")
    good.add_argument("--mode", choices=["a", "b c", "$(touch pwned)", "d"], help="'\"]:[$x")
    good.add_argument("--out", metavar="FILE", help="where `x` goes")
    good.add_argument("thing", choices=["x';touch pwned'"])
    nest = verbs.add_parser("nest", help="$(touch pwned)")
    inner = nest.add_subparsers()
    inner.add_parser("in'ner", help="never listed")
    inner.add_parser("hidden", help=argparse.SUPPRESS)
    deep = inner.add_parser("deep", help="it's `touch pwned` $(touch pwned) [x]: 'q' \\")
    deep.add_argument("--mode", choices=["a", "$(touch pwned)", "e"], help="'\"]:[$x")
    deep.add_argument("--in", metavar="FILE", help="'; touch pwned; '")
    del evil
    return parser


def test_hostile_names_and_help_cannot_break_out_of_the_scripts(tmp_path: Path) -> None:
    parser = hostile_parser()
    root = describe(parser)
    assert [verb.name for verb in root.verbs] == ["good", "nest"]
    good, nest = root.verbs
    assert [verb.name for verb in nest.verbs] == ["deep"]  # no quote, nor a hidden verb
    assert good.options[1].choices == ("a", "d")  # a choice a shell would split is left out
    for name in ("bash", "zsh", "fish"):
        text = script(name, parser)
        assert "$(" not in text and "`touch" not in text
        if shutil.which(name):
            path = tmp_path / f"script.{name}"
            path.write_text(text)
            shell(name, "-n", str(path))
    path = tmp_path / "hostile.bash"
    path.write_text(script("bash", parser))
    assert complete_bash(path, "mcpkit good --mode ", cwd=tmp_path) == ["a", "d"]
    assert complete_bash(path, "mcpkit nest ", cwd=tmp_path) == ["deep"]
    assert complete_bash(path, "mcpkit nest deep --mode ", cwd=tmp_path) == ["a", "e"]
    if shutil.which("fish"):
        (tmp_path / "hostile.fish").write_text(script("fish", parser))
        got = fish_lines(tmp_path / "hostile.fish", ["mcpkit nest ", "mcpkit nest deep --mode "])
        assert got == [["deep"], ["a", "e"]]
    assert not (tmp_path / "pwned").exists()


def fish_lines(path: Path, lines: list[str], cwd: Path | None = None) -> list[list[str]]:
    """What fish offers for each line (one fish for them all), each without its help."""
    program = 'source $argv[1]; for line in $argv[2..-1]; complete -C "$line"; echo "<end>"; end'
    out = shell("fish", "-c", program, str(path), *lines, cwd=cwd)
    blocks = out.split("<end>\n")[:-1]
    return [[row.split("\t")[0] for row in block.splitlines()] for block in blocks]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_verbs_options_choices_and_files(tmp_path: Path) -> None:
    path = tmp_path / "mcpkit.fish"
    path.write_text(script("fish", build_parser()))
    shell("fish", "-n", str(path))
    (tmp_path / "weather.py").write_text("")

    def complete(line: str) -> list[str]:
        out = shell("fish", "-c", f"source {path}; complete -C '{line}'", cwd=tmp_path)
        return [row.split("\t")[0] for row in out.splitlines()]

    assert complete("mcpkit inst") == ["install"]
    assert sorted(complete("mcpkit install --scope ")) == ["project", "user"]
    assert "claude-code" in complete("mcpkit install ")
    assert "weather.py" not in complete("mcpkit install ")  # HOST comes first, then the file
    assert complete("mcpkit install cursor we") == ["weather.py"]
    assert "--dry-run" in complete("mcpkit install --d")
    assert complete("mcpkit registry ") == ["init", "validate"]
    assert complete("mcpkit registry validate --") == ["--help"]
    assert complete("mcpkit registry validate we") == ["weather.py"]
    assert complete("mcpkit generate client we") == ["weather.py"]
    assert complete("mcpkit generate client --output we") == ["weather.py"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_offers_each_command_at_any_depth_its_own_verbs_flags_and_arguments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcpkit.fish"
    path.write_text(script("fish", build_parser()))
    (tmp_path / "weather.py").write_text("")
    cases: list[tuple[str, set[str]]] = []
    for words, command in COMMANDS.items():
        cases.append((typed(words, "--"), long_flags(command)))
        if command.verbs:
            cases.append((typed(words, ""), {verb.name for verb in command.verbs}))
            continue
        before: list[str] = []
        for positional in command.positionals:
            files = {"mcpkit.fish", "weather.py"} if positional.files else set()
            cases.append((typed(words, *before, ""), set(positional.choices) or files))
            before.append(positional.choices[0] if positional.choices else "weather.py")
        if not any(positional.variadic for positional in command.positionals):
            cases.append((typed(words, *before, ""), set()))  # nothing past the last one
    got = fish_lines(path, [line for line, _ in cases], cwd=tmp_path)
    assert [(line, set(offered)) for (line, _), offered in zip(cases, got, strict=True)] == cases


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_is_valid_and_registers_with_compinit(tmp_path: Path) -> None:
    path = tmp_path / "_mcpkit"
    path.write_text(script("zsh", build_parser()))
    shell("zsh", "-n", str(path))
    program = (
        f"autoload -U compinit; compinit -u -D -d {tmp_path}/zcompdump; "
        f"source {path}; print -r -- $_comps[mcpkit]; "
        "(( $+functions[_mcpkit_complete_install] )) && print install-function"
    )
    assert shell("zsh", "-f", "-c", program, cwd=tmp_path).split() == [
        "_mcpkit_complete",
        "install-function",
    ]


def test_the_verb_offers_every_shell_there_is_a_script_for() -> None:
    assert VERBS["completion"].positionals[0].choices == SHELLS


# Types LINE and two tabs into an interactive zsh on a pseudo-terminal, and returns once the
# output matches PATTERN (zpty -r blocks until then: the subprocess timeout bounds it).
ZPTY = """
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; autoload -U compinit; compinit -u -D; source $1"
zpty -n -w z "$2"$'\\t\\t'
zpty -r z out "$3" && print -r -- completed
zpty -d z
"""


@pytest.fixture(scope="module")
def zsh_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a folder whose name no expected completion matches (the setup line is echoed)
    path = tmp_path_factory.mktemp("z") / "_m"
    path.write_text(script("zsh", build_parser()))
    return path


def zsh_walk() -> list[tuple[str, str]]:
    """Lines for zsh from the whole parser: each command's verbs, at any depth; and for each
    verb of a verb, its longest option from all but its last letter, and its first argument."""
    cases: list[tuple[str, str]] = []
    for path, command in COMMANDS.items():
        if command.verbs:
            cases.append(
                (typed(path, ""), "*" + "*".join(sorted(v.name for v in command.verbs)) + "*")
            )
        if len(path) < 2:  # the first level's verbs: the cases written out below
            continue
        longest = max(long_flags(command) - {"--help"}, key=len, default="")
        if longest:
            cases.append((typed(path, longest[:-1]), f"*{longest}*"))
        if command.positionals:
            first = command.positionals[0]
            if first.files:
                cases.append((typed(path, "we"), "*weather.py*"))
            elif first.choices:
                cases.append((typed(path, ""), "*" + "*".join(sorted(first.choices)) + "*"))
    return cases


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("mcpkit inst", "*install*"),
        ("mcpkit install --sc", "*--scope*"),
        ("mcpkit install --scope ", "*project*user*"),
        ("mcpkit install cl", "*claude-code*claude-desktop*"),
        ("mcpkit install cursor we", "*weather.py*"),
        ("mcpkit completion ", "*bash*fish*zsh*"),
        ("mcpkit registry init --rea", "*--readme*"),
        ("mcpkit generate client -o we", "*weather.py*"),
        *zsh_walk(),
    ],
)
def test_zsh_completes_in_an_interactive_shell(
    zsh_script: Path, tmp_path: Path, line: str, pattern: str
) -> None:
    (tmp_path / "weather.py").write_text("")
    done = subprocess.run(
        ["zsh", "-f", "-c", ZPTY, "zsh", str(zsh_script), line, pattern],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert done.stdout.strip().endswith("completed"), done.stdout + done.stderr
