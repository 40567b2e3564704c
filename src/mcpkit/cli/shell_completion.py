"""Shell completion scripts for bash, zsh and fish, generated from an argparse parser: its
verbs, options, choices, and file names for the arguments whose metavar says FILE or PATH.

Generated here, not by a library, because neither maintained one gives static scripts for
the three shells docs/cli.md promises:
- shtab writes static scripts from argparse, but for bash, zsh and tcsh only: fish is an
  open request (tqdm/shtab#134), so fish users would lose their completion, or keep a
  generator of ours beside it.
- argcomplete covers all three, but at run time: every TAB starts Python, imports mcpkit
  and builds the whole parser (about 0.13 s here before argcomplete's own work, where a
  static script answers at once), and the `mcpkit` entry point must call it before it
  parses, on every run; a new dependency besides.
Like both, this reads argparse's private list of a parser's arguments (see `_actions_of`).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import cast

__all__ = ["SHELLS", "describe", "script"]

SHELLS = ("bash", "zsh", "fish")
# Values complete as file names when the argument's metavar (or name) says it is one.
_FILE_WORDS = ("FILE", "PATH", "DIR", "TARGET")
# Words a script may hold unquoted: a verb, an option or a choice with anything else is left out.
_WORD = re.compile(r"[A-Za-z0-9_.,+/=@%-]+")


@dataclass(frozen=True, slots=True)
class Option:
    """An option: its flags, whether it takes a value, and how that value completes."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool = False
    choices: tuple[str, ...] = ()
    files: bool = False
    metavar: str = "VALUE"


@dataclass(frozen=True, slots=True)
class Positional:
    """A positional argument: its name and how it completes; `variadic` takes the rest."""

    name: str
    choices: tuple[str, ...] = ()
    files: bool = False
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """The parser (name "") or one verb: what follows it on the command line."""

    name: str
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]
    verbs: tuple[Command, ...] = field(default=())

    def valued_flags(self) -> list[str]:
        return [flag for option in self.options if option.takes_value for flag in option.flags]


def describe(parser: argparse.ArgumentParser, name: str = "", help_text: str = "") -> Command:
    """What completes after `parser`'s words: its options, positionals and verbs."""
    options: list[Option] = []
    positionals: list[Positional] = []
    verbs: list[Command] = []
    for action in _actions_of(parser):
        if action.help == argparse.SUPPRESS:
            continue
        choices: object = action.choices
        if isinstance(choices, dict):  # the verbs: {name: their parser}
            for verb, sub in cast("dict[str, object]", choices).items():
                if isinstance(sub, argparse.ArgumentParser) and _WORD.fullmatch(str(verb)):
                    verbs.append(describe(sub, str(verb), _first_sentence(sub.description)))
        elif action.option_strings:
            options.append(_option(action))
        else:
            positionals.append(_positional(action))
    return Command(name, help_text, tuple(options), tuple(positionals), tuple(verbs))


def _actions_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    # argparse has no public way to list a parser's arguments; `_actions` has held them since
    # Python 2.7 and is what every completion generator reads. tests/cli/test_completion.py
    # proves the result against the parser (each verb, option and choice completes).
    return list(parser._actions)  # pyright: ignore[reportPrivateUsage]  # see above


def _option(action: argparse.Action) -> Option:
    flags = tuple(flag for flag in action.option_strings if _WORD.fullmatch(flag))
    takes_value = action.nargs != 0
    choices = _choices(action)
    # only a metavar the author chose says "file": `--path` of `run` is a URL path
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    return Option(
        flags,
        _first_sentence(action.help),
        takes_value,
        choices,
        takes_value and not choices and _names_files(metavar),
        _clean(metavar or action.dest.upper()) or "VALUE",
    )


def _positional(action: argparse.Action) -> Positional:
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest
    choices = _choices(action)
    variadic = action.nargs in ("*", "+", argparse.REMAINDER)
    files = not choices and (_names_files(metavar) or _names_files(action.dest))
    return Positional(_clean(metavar) or action.dest, choices, files, variadic)


def _choices(action: argparse.Action) -> tuple[str, ...]:
    if action.choices is None or isinstance(action.choices, dict):
        return ()
    return tuple(str(choice) for choice in action.choices if _WORD.fullmatch(str(choice)))


def _names_files(text: str) -> bool:
    return any(word in text.upper() for word in _FILE_WORDS)


def _first_sentence(text: str | None) -> str:
    sentence = re.split(r"(?<=[.;])\s", " ".join((text or "").split()), maxsplit=1)[0]
    # an apostrophe would end the scripts' single quotes: the typographic one reads the same
    return _clean(sentence.rstrip(".;").replace("'", "\u2019"), keep=":\u2019")[:80]


def _clean(text: str, *, keep: str = "") -> str:
    """Text safe inside any of the three scripts' single quotes and zsh's `[...]`; `keep` adds
    characters (a colon may stand in a description, never in a zsh spec's name)."""
    allowed = re.escape(" .,+/=@%()<>|-" + keep)
    return " ".join(re.sub(rf"[^\w{allowed}]", " ", text).split())


def script(shell: str, parser: argparse.ArgumentParser, prog: str = "mcpkit") -> str:
    """The completion script for `shell` (one of SHELLS) from `parser`."""
    render = {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell]
    return render(describe(parser), prog)


def _function(prog: str) -> str:
    return "_" + re.sub(r"\W", "_", prog) + "_complete"


def _bash(root: Command, prog: str) -> str:
    fn = _function(prog)
    lines = [
        f"# bash completion for {prog}, generated by `{prog} completion bash` from its parser.",
        f"# Load it with: source <({prog} completion bash)",
        f'{fn}_words() {{ mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }}',
        f"{fn}_files() {{",
        "    compopt -o filenames 2>/dev/null",
        '    mapfile -t COMPREPLY < <(compgen -f -- "$cur")',
        "}",
        # Arguments after word $1 of command $2: $prev's value, an option, or positional n.
        f"{fn}_args() {{",
        "    local i n=0 word prev=${COMP_WORDS[COMP_CWORD-1]}",
        '    [[ $prev == "=" ]] && prev=${COMP_WORDS[COMP_CWORD-2]}  # --option=value',
        '    case "$2:$prev" in',
        *_bash_values(root, fn),
        "    esac",
        "    if [[ $cur == -* ]]; then",
        "        case $2 in",
        *(f"            {_bash_name(c)}) {fn}_words '{_bash_flags(c)}';;" for c in _all(root)),
        "        esac",
        "        return",
        "    fi",
        "    for (( i = $1 + 1; i < COMP_CWORD; i++ )); do",
        "        word=${COMP_WORDS[i]}",
        # bash splits words at = and : (COMP_WORDBREAKS): --option=value, FILE.py:object
        "        if [[ ${COMP_WORDS[i+1]} == [=:] ]]; then",
        "            [[ $word != -* ]] && (( n++ ))",
        "            (( i += 2 )); continue",
        "        fi",
        '        case "$2:$word" in',
        *(f"            {p}) (( i++ ));;" for p in _bash_valued(root)),
        "            *:=|*::) (( i++ ));;",  # the rest of an option's value, as in A=b
        "            *:-*) ;;",
        "            *) (( n++ ));;",
        "        esac",
        "    done",
        '    case "$2:$n" in',
        *_bash_positionals(root, fn),
        "    esac",
        "}",
        f"{fn}() {{",
        '    local cur=${COMP_WORDS[COMP_CWORD]} i verb="" start=0',
        '    [[ $cur == "=" ]] && cur=""',
        "    COMPREPLY=()",
        "    for (( i = 1; i < COMP_CWORD; i++ )); do",
        "        case ${COMP_WORDS[i]} in",
        *(
            f"            {'|'.join(root.valued_flags())}) (( i++ ));;"
            for _ in root.valued_flags()[:1]
        ),
        "            -*) ;;",
        "            *) verb=${COMP_WORDS[i]}; start=$i; break;;",
        "        esac",
        "    done",
        f'    {fn}_args "$start" "$verb"',
        "}",
        f"complete -F {fn} {prog}",
    ]
    return "\n".join(lines) + "\n"


def _all(root: Command) -> list[Command]:
    return [root, *root.verbs]


def _bash_name(command: Command) -> str:
    return command.name or '""'


def _bash_flags(command: Command) -> str:
    flags = [flag for option in command.options for flag in option.flags]
    return " ".join(flags if command.name else [*flags, *(verb.name for verb in command.verbs)])


def _bash_valued(root: Command) -> list[str]:
    """`verb:--flag|verb:-f` patterns of the options that take a value."""
    return [
        "|".join(f"{c.name}:{flag}" for flag in c.valued_flags())
        for c in _all(root)
        if c.valued_flags()
    ]


def _bash_values(root: Command, fn: str) -> list[str]:
    lines: list[str] = []
    for command in _all(root):
        for option in command.options:
            if not option.takes_value or not option.flags:
                continue
            pattern = "|".join(f"{command.name}:{flag}" for flag in option.flags)
            lines.append(f"        {pattern}) {_bash_complete(option.choices, option.files, fn)}")
    return lines


def _bash_positionals(root: Command, fn: str) -> list[str]:
    lines: list[str] = []
    for command in _all(root):
        if not command.name:
            lines.append(f"        :*) {fn}_words '{_bash_flags(command)}';;")
            continue
        for index, positional in enumerate(command.positionals):
            at = "*" if positional.variadic else str(index)
            then = _bash_complete(positional.choices, positional.files, fn)
            lines.append(f"        {command.name}:{at}) {then}")
    return lines


def _bash_complete(choices: tuple[str, ...], files: bool, fn: str) -> str:
    if choices:
        return f"{fn}_words '{' '.join(choices)}'; return;;"
    return f"{fn}_files; return;;" if files else "return;;"


def _zsh(root: Command, prog: str) -> str:
    fn = _function(prog)
    verbs = " ".join(f"'{verb.name}:{verb.help}'" for verb in root.verbs)
    lines = [
        f"#compdef {prog}",
        f"# zsh completion for {prog}, generated by `{prog} completion zsh` from its parser.",
        f"# Load it with: source <({prog} completion zsh) after compinit, or save it as",
        f"# _{prog} in a folder on $fpath.",
        f"{fn}() {{",
        "    local curcontext=$curcontext state line",
        "    typeset -A opt_args",
        "    _arguments -C \\",
        *(f"        {spec} \\" for spec in _zsh_options(root)),
        "        '1:command:->verb' '*::argument:->argument'",
        "    case $state in",
        f"        verb) local -a verbs=({verbs}); _describe -t commands command verbs;;",
        "        argument)",
        "            case $line[1] in",
        *(f"                {verb.name}) {fn}_{_zsh_id(verb.name)};;" for verb in root.verbs),
        "            esac;;",
        "    esac",
        "}",
    ]
    for verb in root.verbs:
        specs = [*_zsh_options(verb), *_zsh_positionals(verb)]
        lines += [f"{fn}_{_zsh_id(verb.name)}() {{", "    _arguments \\"]
        lines += [f"        {spec} \\" for spec in specs]
        lines += ["        && return 0", "}"]
    # Autoloaded from $fpath, the file's body runs as the function; sourced, it registers it.
    lines += [
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        f'    {fn} "$@"',
        "else",
        f"    compdef {fn} {prog}",
        "fi",
    ]
    return "\n".join(lines) + "\n"


def _zsh_id(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _zsh_options(command: Command) -> list[str]:
    specs: list[str] = []
    for option in command.options:
        if not option.flags:
            continue
        exclusive = f"({' '.join(option.flags)})" if len(option.flags) > 1 else ""
        flags = option.flags[0] if len(option.flags) == 1 else "{" + ",".join(option.flags) + "}"
        help_part = f"[{option.help}]"
        if option.takes_value:
            value = f":{option.metavar}:{_zsh_action(option.choices, option.files)}"
            # repeatable: an append option (--env, --with) is given once per value
            specs.append(f"'*'{flags}'{help_part}{value}'")
        else:
            specs.append(f"'{exclusive}'{flags}'{help_part}'")
    return specs


def _zsh_positionals(command: Command) -> list[str]:
    specs: list[str] = []
    for index, positional in enumerate(command.positionals, start=1):
        at = "*" if positional.variadic else str(index)
        action = _zsh_action(positional.choices, positional.files)
        specs.append(f"'{at}:{positional.name}:{action}'")
    return specs


def _zsh_action(choices: tuple[str, ...], files: bool) -> str:
    if choices:
        return f"({' '.join(choices)})"
    return "_files" if files else " "


def _fish(root: Command, prog: str) -> str:
    lines = [
        f"# fish completion for {prog}, generated by `{prog} completion fish` from its parser.",
        f"# Load it with: {prog} completion fish | source, or save it as",
        f"# ~/.config/fish/completions/{prog}.fish",
        f"complete -c {prog} -f",
    ]
    verbs = " ".join(verb.name for verb in root.verbs)
    top = f"complete -c {prog} -n 'not __fish_seen_subcommand_from {verbs}'"
    lines += [f"{top}{_fish_option(option)}" for option in root.options if option.flags]
    lines += [f"{top} -a {verb.name} -d '{verb.help}'" for verb in root.verbs]
    for verb in root.verbs:
        inside = f"complete -c {prog} -n '__fish_seen_subcommand_from {verb.name}'"
        lines += [f"{inside}{_fish_option(option)}" for option in verb.options if option.flags]
        for positional in verb.positionals:
            if positional.choices:
                lines.append(f"{inside} -a '{' '.join(positional.choices)}'")
            elif positional.files:
                lines.append(f"{inside} -F")
    return "\n".join(lines) + "\n"


def _fish_option(option: Option) -> str:
    parts: list[str] = []
    for flag in option.flags:
        if flag.startswith("--"):
            parts.append(f" -l {flag[2:]}")
        elif len(flag) == 2:
            parts.append(f" -s {flag[1]}")
        else:
            parts.append(f" -o {flag[1:]}")
    if option.takes_value:
        parts.append(f" -x -a '{' '.join(option.choices)}'" if option.choices else " -r")
        if option.files:
            parts.append(" -F")
    return "".join(parts) + (f" -d '{option.help}'" if option.help else "")
